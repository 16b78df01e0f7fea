"""Back office for aggregators: their API tokens (shown once), the game catalogue (with a
warning while games wait for a category). Sessions and rounds are read-only in wallet/admin.py."""

from django.contrib import admin, messages

from wallet.aggregator.sessions import aggregator_create, aggregator_token_rotate
from wallet.models import Aggregator, Game


@admin.register(Aggregator)
class AggregatorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "protocol", "session_minutes", "active", "created_at"]
    fields = ["name", "slug", "protocol", "session_minutes", "active"]
    actions = ["rotate_token"]

    def get_readonly_fields(self, request, obj=None):
        return ["slug", "protocol"] if obj is not None else []

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created, token = aggregator_create(
            name=obj.name, slug=obj.slug, session_minutes=obj.session_minutes
        )
        obj.pk = created.pk
        messages.warning(request, f"API token of {obj.name} (shown once, store it now): {token}")

    @admin.action(
        description="Rotate the API token (the old one stops working)", permissions=["change"]
    )
    def rotate_token(self, request, queryset) -> None:
        for aggregator in queryset:
            token = aggregator_token_rotate(aggregator=aggregator)
            messages.warning(request, f"New API token of {aggregator.name} (shown once): {token}")


@admin.register(Game)
class GameAdmin(admin.ModelAdmin):
    """The game catalogue. Saving a game marks it reviewed."""

    list_display = ["game_id", "aggregator", "name", "category", "reviewed", "first_seen_at"]
    list_editable = ["category"]
    list_filter = ["reviewed", "category", "aggregator"]
    search_fields = ["game_id", "name"]
    fields = ["aggregator", "game_id", "name", "category"]

    def save_model(self, request, obj, form, change) -> None:
        obj.reviewed = True
        super().save_model(request, obj, form, change)

    def changelist_view(self, request, extra_context=None):
        unreviewed = Game.objects.filter(reviewed=False).count()
        if unreviewed:
            messages.warning(
                request,
                f"{unreviewed} game(s) seen in play have no category yet and count as 'other' "
                "(no wagering contribution by default): set their category.",
            )
        return super().changelist_view(request, extra_context)
