"""`python manage.py expressions_docs [--check]`: write docs/expressions-reference.md."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rewards.expressions.docs import reference_markdown

REFERENCE = Path(settings.BASE_DIR) / "docs" / "expressions-reference.md"


class Command(BaseCommand):
    help = "Generate the expression-language reference page from the catalogue."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="fail if the file is stale")

    def handle(self, *args, check: bool = False, **options):
        text = reference_markdown()
        if check:
            if not REFERENCE.exists() or REFERENCE.read_text(encoding="utf-8") != text:
                raise CommandError(f"{REFERENCE} is stale: run `python manage.py expressions_docs`")
            self.stdout.write("up to date")
            return
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        REFERENCE.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {REFERENCE}")
