"""`manage.py revoke_token PREFIX` or `--account NAME`: revoke at once, on every process."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiToken
from accounts.services import api_token_revoke, api_tokens_revoke


class Command(BaseCommand):
    help = "Revoke API tokens: one by its prefix (first 8 characters) or all of an account."

    def add_arguments(self, parser) -> None:
        parser.add_argument("prefix", nargs="?")
        parser.add_argument("--account", help="Revoke every token of this account.")

    def handle(self, *args, prefix: str | None, account: str | None, **options) -> None:
        if account:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.filter(username=account).first()
            if user is None:
                raise CommandError(f"No account {account!r}.")
            self.stdout.write(f"Revoked {api_tokens_revoke(user=user)} token(s) of {account}.")
            return
        tokens = list(ApiToken.objects.filter(prefix=prefix or "", revoked_at__isnull=True))
        if len(tokens) != 1:
            raise CommandError(f"{len(tokens)} live tokens start with {prefix!r}; give one.")
        api_token_revoke(token=tokens[0])
        self.stdout.write(f"Revoked token {prefix}….")
