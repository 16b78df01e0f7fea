"""django-import-export resource of players: exported formula-safe, PII masked unless the
exporting role may read it."""

from django.db.models import QuerySet
from import_export import fields

from config.resources import FormulaSafeResource
from players.identifiers import PLAYER_ID_MAX_LENGTH, identifier_problem
from players.models import Player


class PlayerResource(FormulaSafeResource):
    """Players for export (PII masked unless `show_pii`) and import by external id."""

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
        return player.username if self.show_pii else player.masked_username

    def dehydrate_email(self, player: Player) -> str:
        return player.email if self.show_pii else player.masked_email


def players_for_export() -> QuerySet[Player]:
    """Every player, oldest first (the rows of the players export, config/exports.py)."""
    return Player.objects.order_by("pk")
