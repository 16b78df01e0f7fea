"""`manage.py create_service_account NAME --role ROLE`: an API account; prints its token last."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.services import api_token_create, api_tokens_revoke
from config.errors import DomainError
from config.roles import ROLES, roles_sync


class Command(BaseCommand):
    help = "Create (or update) an API account with a role and print a new token as the last line."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--role", choices=ROLES, required=True)
        parser.add_argument(
            "--rotate", action="store_true", help="Revoke the account's other tokens."
        )
        parser.add_argument("--expires-in-days", type=int, help="The token expires then.")
        parser.add_argument(
            "--allow-ip",
            action="append",
            default=[],
            metavar="ADDRESS",
            help="Accept the token only from this address or CIDR network (repeatable).",
        )

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
            api_tokens_revoke(user=user)
        days = options.get("expires_in_days")
        try:
            _, key = api_token_create(
                user=user,
                name=f"{role} token",
                expires_at=timezone.now() + timedelta(days=days) if days else None,
                allowed_ips=options["allow_ip"],
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        verb = "Created" if created else "Updated"
        self.stderr.write(f"{verb} account '{name}' with role '{role}'.")
        self.stdout.write(key)
