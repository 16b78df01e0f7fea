"""Exports of players, rewards, decisions and the ledger to CSV and XLSX (SPEC §9), for the admin's
filtered lists and `GET /api/v1/exports/<kind>/`.

Each kind names a django-import-export resource (its columns and their rendering), a
django-filter FilterSet (the list endpoint's filters) and the base queryset — as dotted paths, so
this module, below every app, knows none of them. Rows are read with `iterator(chunk_size)`
(a server-side cursor on PostgreSQL) and written as they come:

- CSV streams (`StreamingHttpResponse`): every field quoted (`csv.QUOTE_ALL`), UTF-8 with a BOM
  so spreadsheets read the accents;
- XLSX is written by openpyxl in write-only mode to a temporary file, then streamed from it.

Text cells are formula-safe (config/spreadsheets.py); numbers stay numbers (Decimal, exact);
times are ISO 8601 with their offset. Personal data is masked for roles that may not read it
(`may_see_pii`, config/roles.py).
"""

import csv
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from config.errors import DomainError
from config.roles import may_see_pii

CHUNK_SIZE = 2000
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ExportKind:
    """What one export holds: the resource (columns), the filters and the rows (dotted paths;
    `queryset` names a function returning the base queryset, ordered)."""

    resource: str
    filterset: str
    queryset: str

    @cached_property
    def resource_class(self):
        return import_string(self.resource)

    @cached_property
    def filterset_class(self):
        return import_string(self.filterset)

    def rows(self) -> QuerySet:
        return import_string(self.queryset)()


EXPORT_KINDS = {
    "players": ExportKind(
        "players.resources.PlayerResource", "players.filters.PlayerFilter",
        "players.resources.players_for_export",
    ),
    "rewards": ExportKind(
        "rewards.resources.RewardResource", "rewards.resources.RewardExportFilter",
        "rewards.resources.rewards_for_export",
    ),
    "decisions": ExportKind(
        "rewards.resources.DecisionResource", "rewards.resources.DecisionExportFilter",
        "rewards.resources.decisions_for_export",
    ),
    "ledger": ExportKind(
        "wallet.resources.LedgerEntryResource", "wallet.resources.LedgerExportFilter",
        "wallet.resources.ledger_for_export",
    ),
}  # fmt: skip


def export_kind(name: str) -> ExportKind:
    """The kind called `name`; DomainError `unknown_export` (404) otherwise."""
    try:
        return EXPORT_KINDS[name]
    except KeyError:
        known = ", ".join(EXPORT_KINDS)
        raise DomainError(
            "unknown_export", f"No export {name!r}; one of {known}.", status=404
        ) from None


def export_filtered(*, kind: ExportKind, params, request=None) -> QuerySet:
    """The kind's rows narrowed by the list endpoint's filters in `params` (a QueryDict);
    DomainError `invalid_filter` (400) with each bad filter's message in `details`."""
    filterset = kind.filterset_class(data=params, queryset=kind.rows(), request=request)
    if not filterset.is_valid():
        raise DomainError(
            "invalid_filter",
            "Some filters are not valid.",
            details={name: [str(e) for e in errors] for name, errors in filterset.errors.items()},
        )
    return filterset.qs


def _cell(value: object) -> object:
    """A resource's native value as a cell: numbers and text as they are, times as text."""
    if isinstance(value, datetime):
        # import-export renders times naive in the current time zone: give them their offset
        return (value if timezone.is_aware(value) else timezone.make_aware(value)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def export_rows(*, kind: ExportKind, queryset: QuerySet, user) -> Iterator[list]:
    """The header, then one list of cells per row, read `CHUNK_SIZE` rows at a time."""
    resource = kind.resource_class(show_pii=may_see_pii(user))
    yield resource.get_export_headers()
    for instance in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield [_cell(v) for v in resource.export_resource(instance, force_native_type=True)]


class _Line:
    """A file-like object that hands back what csv.writer writes (one line at a time)."""

    def write(self, text: str) -> str:
        return text


def _csv_lines(rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Line(), quoting=csv.QUOTE_ALL)
    yield "\ufeff"
    for row in rows:
        yield writer.writerow([format(v, "f") if isinstance(v, Decimal) else v for v in row])


def _xlsx_file(rows: Iterable[list]):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("export")
    for row in rows:  # control characters are not allowed in a workbook: they are dropped
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115  (FileResponse closes it)
    workbook.save(handle)
    handle.seek(0)
    return handle


def export_response(*, name: str, queryset: QuerySet, user, file_format: str):
    """The rows of export `name` from `queryset` as a download (`file_format` csv or xlsx);
    DomainError `invalid_format` (400) for any other format."""
    if file_format not in FORMATS:
        raise DomainError("invalid_format", f"format is csv or xlsx, not {file_format!r}.")
    rows = export_rows(kind=export_kind(name), queryset=queryset, user=user)
    filename = f"pitboss-{name}-{timezone.now():%Y%m%d-%H%M%S}.{file_format}"
    if file_format == "csv":
        response = StreamingHttpResponse(_csv_lines(rows), content_type=FORMATS["csv"])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return FileResponse(
        _xlsx_file(rows), as_attachment=True, filename=filename, content_type=FORMATS["xlsx"]
    )
