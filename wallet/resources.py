"""The ledger export (config/exports.py): one row per entry with its transaction, as a
django-import-export resource (formula-safe), the filters and the rows."""

import django_filters
from django.db.models import QuerySet
from import_export import fields

from config.resources import FormulaSafeResource
from players.filters import AwareIsoDateTimeFilter
from players.money import currency_quantum
from wallet.models import Account, Entry, LedgerTransaction


class LedgerEntryResource(FormulaSafeResource):
    """An entry: its transaction (kind, reason, who, when), account and signed amount, as a
    number in the currency's units. House accounts have no player."""

    transaction = fields.Field(attribute="transaction_id", column_name="transaction")
    kind = fields.Field(attribute="transaction__kind", column_name="kind")
    player = fields.Field(attribute="account__player__external_id", column_name="player")
    account = fields.Field(attribute="account__kind", column_name="account")
    bonus = fields.Field(attribute="account__bonus_id", column_name="bonus")
    currency = fields.Field(attribute="account__currency_id", column_name="currency")
    amount = fields.Field(attribute="amount", column_name="amount")
    reason = fields.Field(attribute="transaction__reason", column_name="reason")
    created_by = fields.Field(
        attribute="transaction__created_by__username", column_name="created_by"
    )
    created_at = fields.Field(attribute="transaction__created_at", column_name="created_at")

    class Meta:
        model = Entry
        fields = [
            "id", "transaction", "kind", "player", "account", "bonus", "currency", "amount",
            "reason", "created_by", "created_at",
        ]  # fmt: skip
        export_order = fields

    def dehydrate_amount(self, entry: Entry):
        return entry.amount.quantize(currency_quantum(entry.account.currency_id))


class LedgerExportFilter(django_filters.FilterSet):
    """By player (external id), transaction kind, account kind, currency and time."""

    player = django_filters.CharFilter(field_name="account__player__external_id")
    kind = django_filters.ChoiceFilter(
        field_name="transaction__kind", choices=LedgerTransaction.Kind.choices
    )
    account = django_filters.ChoiceFilter(field_name="account__kind", choices=Account.Kind.choices)
    currency = django_filters.CharFilter(field_name="account__currency_id", lookup_expr="iexact")
    created_after = AwareIsoDateTimeFilter(field_name="transaction__created_at", lookup_expr="gte")
    created_before = AwareIsoDateTimeFilter(field_name="transaction__created_at", lookup_expr="lt")

    class Meta:
        model = Entry
        fields: list[str] = []


def ledger_for_export() -> QuerySet[Entry]:
    """Every ledger entry in posting order, with its transaction, account and player."""
    return Entry.objects.select_related(
        "transaction", "transaction__created_by", "account", "account__player"
    ).order_by("pk")
