from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class BackofficeConfig(AppConfig):
    """Templates and static files of the back office (the dashboard, its script, Chart.js)."""

    name = "backoffice"
    verbose_name = "Back office"


class PitbossAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the Pitboss site as `admin.site`: every `@admin.register`
    registers on it, and `admin.site.urls` serves it."""

    default = False
    default_site = "backoffice.sites.PitbossAdminSite"
