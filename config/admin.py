"""Admin building blocks shared by the apps."""

from decimal import ROUND_DOWN

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import path, reverse

from config.exports import FORMATS, export_kind, export_response


class ReadOnlyAdminMixin:
    """For append-only or computed rows: staff may look, never add, edit or delete."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _money_column(name: str):
    @admin.display(description=name.replace("_", " "), ordering=name)
    def column(self, row) -> str:
        value = getattr(row, name)
        if value is None:
            return "–"
        # players.money.money_format's rule, on the row's currency (config imports no app)
        return format(value.quantize(row.currency.quantum, rounding=ROUND_DOWN), "f")

    return column


class MinorUnitsMixin:
    """Money fields shown in their row's currency's minor units ("5.00", "0.00000001"), not
    with the column's 8 decimals ("5.00000000", or "0E-8" where str() is used): each name in
    `money_fields` is shown by `<name>_shown`, and `shown_instead` puts other read-only
    displays in place of fields. The row needs a `currency` with `minor_units`."""

    money_fields: tuple[str, ...] = ()
    shown_instead: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in cls.money_fields:
            if f"{name}_shown" not in cls.__dict__:  # a subclass's own display wins
                setattr(cls, f"{name}_shown", _money_column(name))

    def _replacements(self) -> dict[str, str]:
        return {**{n: f"{n}_shown" for n in self.money_fields}, **self.shown_instead}

    def get_fields(self, request, obj=None):
        shown = [self._replacements().get(f, f) for f in super().get_fields(request, obj)]
        return list(dict.fromkeys(shown))

    def get_readonly_fields(self, request, obj=None):
        extra = self._replacements().values()
        return list(dict.fromkeys([*super().get_readonly_fields(request, obj), *extra]))


class PageOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """A read-only table on another model's page (a player's bonuses, ledger, decisions): shown
    on GET, never part of the page form's POST, so it adds no formset to submit."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    rows_limit: int | None = None  # the latest rows only (in the inline's `ordering`)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        limit = self.rows_limit
        if limit is None:
            return formset

        class LatestRows(formset):
            def get_queryset(self):
                # one sliced queryset, evaluated once: each form reads its row from the cache
                if not hasattr(self, "_latest_rows"):
                    self._latest_rows = super().get_queryset()[:limit]
                return self._latest_rows

        return LatestRows


def inlines_add(model, *inlines) -> None:
    """Add `inlines` to the admin registered for `model`, from a higher app that the model's own
    app may not import (a player's wallet, clusters and decisions on the player's page)."""
    model_admin = admin.site._registry.get(model)
    if model_admin is None:
        return
    model_admin.inlines = [
        *model_admin.inlines, *(inline for inline in inlines if inline not in model_admin.inlines)
    ]  # fmt: skip


class ExportAdminMixin:
    """ "Export CSV" and "Export XLSX" on a changelist: the rows as filtered and searched there,
    streamed by config/exports.py (formula-safe, PII masked for the user's role). Anyone who may
    view the list may export it.

    `export_name` is the export kind; `export_link` the export row's path to this list's rows
    (`"pk"` when they are the same rows; the ledger exports the entries of the transactions).
    """

    export_name: str = ""
    export_link: str = "pk"
    change_list_template = "admin/export_change_list.html"

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export_rows"
        view = self.admin_site.admin_view(self.export_view)
        return [path("export.<str:file_format>", view, name=name), *super().get_urls()]

    def export_view(self, request: HttpRequest, file_format: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            listed = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return redirect(
                f"{reverse(f'admin:{self.opts.app_label}_{self.opts.model_name}_changelist')}?e=1"
            )
        rows = (
            export_kind(self.export_name)
            .rows()
            .filter(**{f"{self.export_link}__in": listed.order_by().values("pk")})
        )
        return export_response(
            name=self.export_name, queryset=rows, user=request.user, file_format=file_format
        )

    def changelist_view(self, request: HttpRequest, extra_context=None):
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_export_rows"
        exports = [(fmt.upper(), reverse(name, args=[fmt])) for fmt in FORMATS]
        return super().changelist_view(request, {**(extra_context or {}), "exports": exports})
