"""django-import-export resources: players and import templates, exported formula-safe.

Any text cell that a spreadsheet would run as a formula (starting with =, +, -, @, tab or
carriage return) is exported with a leading apostrophe, so a username like "=HYPERLINK(…)"
or "-31337-" is shown as text instead of being evaluated (OWASP CSV injection).
"""

from import_export import fields, resources

from importer.models import ImportTemplate
from players.identifiers import PLAYER_ID_MAX_LENGTH, identifier_problem
from players.models import Player


def formula_safe(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class FormulaSafeResource(resources.ModelResource):
    def export_field(self, field, instance, **kwargs):
        return formula_safe(super().export_field(field, instance, **kwargs))


class PlayerResource(FormulaSafeResource):
    """Players for export (PII masked) and import by external id."""

    currency = fields.Field(attribute="currency_id", column_name="currency")
    # Exported masked (PII), never imported: a masked export read back must not overwrite.
    username = fields.Field(attribute="username", column_name="username", readonly=True)
    email = fields.Field(attribute="email", column_name="email", readonly=True)
    # Computed by Pitboss, exported for information, never overwritten by an import.
    segment = fields.Field(attribute="segment", column_name="segment", readonly=True)
    risk_score = fields.Field(attribute="risk_score", column_name="risk_score", readonly=True)

    class Meta:
        model = Player
        import_id_fields = ["external_id"]
        fields = [
            "external_id", "username", "email", "country", "currency", "registered_at",
            "status", "segment", "risk_score",
        ]  # fmt: skip
        export_order = fields
        skip_unchanged = True

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        problem = identifier_problem(instance.external_id, max_length=PLAYER_ID_MAX_LENGTH)
        if problem:  # the API's identifier rule (players/identifiers.py), at this door too
            errors["external_id"] = [problem]
        super().validate_instance(instance, errors, validate_unique)

    def dehydrate_username(self, player: Player) -> str:
        return player.masked_username

    def dehydrate_email(self, player: Player) -> str:
        return player.masked_email


class ImportTemplateResource(FormulaSafeResource):
    """Saved column mappings, to move them between installations."""

    class Meta:
        model = ImportTemplate
        import_id_fields = ["name"]
        fields = ["name", "kind", "description", "mapping", "on_error", "encoding", "delimiter",
                  "sheet"]  # fmt: skip
