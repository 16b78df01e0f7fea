"""The committed reference page is what the catalogue generates, and covers everything."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from players.metrics import windowed_names
from rewards.expressions.catalogue import FUNCTIONS, event_names, metric_names, player_names
from rewards.expressions.docs import reference_markdown

REFERENCE = Path(settings.BASE_DIR) / "docs" / "expressions-reference.md"


def test_committed_reference_is_up_to_date():
    assert REFERENCE.read_text(encoding="utf-8") == reference_markdown(), (
        "run `python manage.py expressions_docs` and commit docs/expressions-reference.md"
    )
    call_command("expressions_docs", "--check")


def test_reference_lists_every_name_and_function():
    page = reference_markdown()
    names = [*windowed_names(), *player_names(), *event_names()]
    for name in names:
        assert f"`{name}`" in page, name
    for function in FUNCTIONS.values():
        assert function.signature in page


def test_every_example_in_the_catalogue_compiles():
    from rewards.expressions import compile_expression
    from rewards.expressions.docs import OPERATORS

    for info in [*metric_names().values(), *player_names().values(), *event_names().values()]:
        compile_expression(info.example, context="event_condition")
    for function in FUNCTIONS.values():
        compile_expression(function.example, context="amount")
    for _, _, example in OPERATORS:
        text = example.strip("`")
        context = (
            "condition" if any(w in text for w in ("<", ">", "==", " in ", " is ")) else "amount"
        )
        if text.startswith("5 if"):
            context = "amount"
        compile_expression(text, context=context)
