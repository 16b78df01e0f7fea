"""`manage.py roles_sync`: set the role groups' admin permissions (also run by every migrate)."""

from django.core.management.base import BaseCommand

from config.roles import role_permissions, roles_sync


class Command(BaseCommand):
    help = "Create the role groups (admin, operator, analyst, service) and set their permissions."

    def handle(self, *args, **options):
        roles_sync()
        for role, permissions in role_permissions().items():
            self.stdout.write(f"{role}: {permissions.count()} permissions")
