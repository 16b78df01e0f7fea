"""The Pitboss admin site: branded, its index is the dashboard, its app list grouped by what
staff do (backoffice/navigation.py)."""

from django.contrib import admin
from django.http import HttpRequest

from backoffice.dashboard import RANGES, dashboard
from backoffice.navigation import grouped


class PitbossAdminSite(admin.AdminSite):
    site_header = "Pitboss"
    site_title = "Pitboss back office"
    index_title = "Dashboard"
    index_template = "backoffice/dashboard.html"
    # Pitboss is a back office without a public site: no "View site" link leading to a 404.
    site_url = None

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        """The staff groups on the index and in the sidebar; an app's own page (`app_label`)
        keeps Django's list of that app's models."""
        app_list = super().get_app_list(request, app_label)
        return app_list if app_label else grouped(app_list)

    def index(self, request: HttpRequest, extra_context: dict | None = None):
        try:
            days = int(request.GET.get("days", RANGES[0]))
        except ValueError:
            days = RANGES[0]
        context = {"dashboard": dashboard(days=days), **(extra_context or {})}
        return super().index(request, context)
