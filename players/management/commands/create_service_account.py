"""`manage.py create_service_account NAME --role ROLE`: an API account; prints its token last."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from config.roles import ROLES, roles_sync


class Command(BaseCommand):
    help = "Create (or update) an API account with a role and print its token as the last line."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--role", choices=ROLES, required=True)
        parser.add_argument("--rotate", action="store_true", help="Replace an existing token.")

    @transaction.atomic
    def handle(self, *args, name: str, role: str, rotate: bool, **options) -> None:
        if not name.strip():
            raise CommandError("NAME must not be empty.")
        roles_sync()
        user, created = get_user_model().objects.get_or_create(username=name)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.set([Group.objects.get(name=role)])
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        verb = "Created" if created else "Updated"
        self.stderr.write(f"{verb} account '{name}' with role '{role}'.")
        self.stdout.write(token.key)
