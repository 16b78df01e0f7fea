"""Player list filters: attributes, custom segments and min/max of every metric per window."""

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from django_filters.fields import IsoDateTimeField

from players.metrics import METRICS, WINDOWS, windowed_name
from players.models import Player, Segment


class AwareIsoDateTimeField(IsoDateTimeField):
    """A query timestamp under the API's timestamp rule: ISO 8601 with its UTC offset."""

    def to_python(self, value):
        if value not in self.empty_values:
            parsed = parse_datetime(str(value).strip())
            if parsed is not None and parsed.tzinfo is None:
                raise forms.ValidationError(
                    "A timestamp needs its UTC offset, e.g. 2026-11-20T10:00:00Z.", code="naive"
                )
        return super().to_python(value)


class AwareIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = AwareIsoDateTimeField


def _metric_bound(metric: str, window: str, lookup: str):
    def apply(queryset: QuerySet, name: str, value) -> QuerySet:
        # One filter() call so the window and the bound apply to the same metrics row.
        return queryset.filter(**{"metrics__window": window, f"metrics__{metric}__{lookup}": value})

    return apply


def _metric_filters() -> dict[str, django_filters.Filter]:
    filters = {}
    for metric in METRICS:
        field = django_filters.NumberFilter
        for window in WINDOWS:
            base = windowed_name(metric.name, window)
            filters[f"min_{base}"] = field(
                method=_metric_bound(metric.name, window, "gte"), label=f"{base} ≥"
            )
            filters[f"max_{base}"] = field(
                method=_metric_bound(metric.name, window, "lte"), label=f"{base} ≤"
            )
    return filters


class PlayerFilterBase(django_filters.FilterSet):
    segment = django_filters.MultipleChoiceFilter(choices=Segment.choices)
    status = django_filters.MultipleChoiceFilter(choices=Player.Status.choices)
    country = django_filters.CharFilter(lookup_expr="iexact")
    currency = django_filters.CharFilter(field_name="currency__code", lookup_expr="iexact")
    custom_segment = django_filters.CharFilter(
        field_name="custom_memberships__segment__name", distinct=True
    )
    registered_after = AwareIsoDateTimeFilter(field_name="registered_at", lookup_expr="gte")
    registered_before = AwareIsoDateTimeFilter(field_name="registered_at", lookup_expr="lt")

    class Meta:
        model = Player
        fields: list[str] = []


PlayerFilter = type("PlayerFilter", (PlayerFilterBase,), _metric_filters())
