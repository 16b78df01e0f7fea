"""Import jobs: create one from an upload, run its stages, report its errors (SPEC §9).

Stages, in order (each a Celery task in a chain, importer/tasks.py):
parse → validate (read in chunks, check, stage) → load (one transaction) → metrics →
segmentation → rules → safety → issue. The steps after the load are declared by the apps that
provide them (importer/pipeline.py).
"""

import csv
import json
import logging
import os
import time
import uuid
from decimal import Decimal
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from config.domain_events import domain_events_emit
from config.errors import DomainError
from config.jsontext import json_loads
from config.spreadsheets import formula_safe
from importer import loading, pipeline
from importer.dates import order_option, time_zone_option
from importer.fields import MONEY, Mapping, kind_fields, mapping_parse, mapping_warnings
from importer.models import (
    READING_OPTIONS,
    ImportJob,
    ImportLookup,
    ImportTemplate,
    Kind,
    OnConflict,
    OnError,
)
from importer.numbers import declared_decimal
from importer.queueing import import_chain
from importer.reading import (
    FileInfo,
    file_chunks,
    file_preview,
    file_release,
    file_sniff,
    visible,
)
from importer.records import staging_rows
from importer.validation import (
    ERROR_COLUMNS,
    Context,
    Unsettled,
    check_chunk,
    chunk_observe,
    units_to_text,
)
from players.selectors import currencies_without_rate
from players.services import player_statuses_changed

logger = logging.getLogger(__name__)

CHUNK_ROWS = 50_000  # rows read and checked at a time: bounds the worker's peak RSS
MAX_ROWS = 1_000_000
ERRORS_KEPT = 100
STAGES = ("parse", "validate", "load", *pipeline.POST_IMPORT_STEPS)


def _template(name: str) -> ImportTemplate:
    try:
        return ImportTemplate.objects.get(name=name)
    except ImportTemplate.DoesNotExist as exc:
        raise DomainError(
            "unknown_template", f"No import template named {name!r}.", details={"template": name}
        ) from exc


def _raw_mapping(mapping: Any) -> Any:
    if isinstance(mapping, str):
        if not mapping.strip():
            return {}
        try:
            return json_loads(mapping)
        except json.JSONDecodeError as exc:
            raise DomainError(
                "invalid_mapping",
                f"The mapping is not valid JSON: {exc.msg} at position {exc.pos}.",
                details={"position": exc.pos},
            ) from exc
    return mapping


def reading_options(**given: Any) -> dict:
    """The reading options (READING_OPTIONS) checked and normalised; empty ones are ""/None."""
    options = {name: given.get(name) or "" for name in READING_OPTIONS}
    header_row = options["header_row"]
    if header_row in ("", None):
        options["header_row"] = None
    else:
        try:
            options["header_row"] = int(header_row)
        except (TypeError, ValueError):
            options["header_row"] = 0
        if not 1 <= options["header_row"] <= 1000:
            raise DomainError("invalid_option", "header_row must be a row number from 1 to 1000.")
    declared_decimal(options["decimal_separator"], options["thousands_separator"])
    options["date_order"] = order_option(options["date_order"])
    options["time_zone"] = time_zone_option(options["time_zone"])
    options["on_conflict"] = options["on_conflict"] or OnConflict.REJECT
    if options["on_conflict"] not in OnConflict.values:
        raise DomainError("invalid_option", "on_conflict must be reject or replace.")
    return options


def file_inspect(*, path: str, kind: str, mapping: Any, **options: Any):
    """Sniff a file and resolve the mapping against its header. → (FileInfo, Mapping)."""
    info = file_sniff(
        path=path,
        encoding=options.get("encoding") or "",
        delimiter=options.get("delimiter") or "",
        sheet=options.get("sheet") or "",
        header_row=options.get("header_row") or 0,
    )
    try:
        resolved = mapping_parse(kind=kind, raw=_raw_mapping(mapping), columns=info.columns)
    except DomainError as exc:
        if info.suggested_header_row and exc.code in ("missing_field", "missing_column"):
            exc.message += (
                f" The header seems to be on row {info.suggested_header_row} (the rows above "
                f"look like a title): set header_row={info.suggested_header_row}."
            )
            exc.details = {**exc.details, "suggested_header_row": info.suggested_header_row}
        raise
    if info.rows_estimate > MAX_ROWS * 1.05:
        raise DomainError(
            "too_many_rows",
            f"The file has about {info.rows_estimate:,} rows; the limit is {MAX_ROWS:,}.",
        )
    return info, resolved


@transaction.atomic
def import_job_create(
    *,
    file: File,
    kind: str,
    mapping: Any = None,
    template: str = "",
    on_error: str = "",
    user=None,
    start: bool = True,
    **options: Any,
) -> ImportJob:
    """Check an upload (format, header, mapping) and queue its import; bad input raises.

    `options` are the READING_OPTIONS (encoding, delimiter, sheet, header_row,
    decimal_separator, thousands_separator, date_order, time_zone, on_conflict); those not
    given come from the template."""
    if kind not in Kind.values:
        raise DomainError(
            "unknown_kind", f"Unknown import kind {kind!r}.", details={"choices": Kind.values}
        )
    unknown = set(options) - set(READING_OPTIONS)
    if unknown:
        raise TypeError(f"unknown options {sorted(unknown)}")
    saved_template = _template(template) if template else None
    if saved_template is not None:
        if saved_template.kind != kind:
            raise DomainError(
                "template_kind_mismatch",
                f"Template {template!r} is for {saved_template.kind} files, not {kind}.",
            )
        mapping = mapping if mapping not in (None, "", {}) else saved_template.mapping
        on_error = on_error or saved_template.on_error
        for name in READING_OPTIONS:
            options[name] = options.get(name) or getattr(saved_template, name)
    options = reading_options(**options)
    on_error = on_error or OnError.REJECT
    if on_error not in OnError.values:
        raise DomainError("invalid_on_error", "on_error must be reject or skip.")
    job = ImportJob(
        kind=kind,
        template=saved_template,
        on_error=on_error,
        original_name=os.path.basename(getattr(file, "name", "") or "upload")[:255],
        created_by=user if user is not None and user.is_authenticated else None,
        **options,
    )
    job.file.save(job.original_name or "upload", file, save=False)
    try:
        info, resolved = file_inspect(path=job.file.path, kind=kind, mapping=mapping, **options)
        _lookups(resolved)
        _apply_info(job, info, resolved)
        job.save()
    except BaseException:  # a refused (or failed) upload leaves no file behind
        file_release(job.file.path)
        job.file.delete(save=False)
        raise
    if start:
        import_job_start(job=job)
    return job


def _job_options(job: ImportJob) -> dict:
    return {name: getattr(job, name) for name in READING_OPTIONS}


def _apply_info(job: ImportJob, info: FileInfo, mapping: Mapping) -> None:
    job.file_format = info.format
    job.encoding = info.encoding
    job.delimiter = info.delimiter
    job.sheet = info.sheet
    job.rows_total = max(info.rows_estimate, 0)
    job.header_row = info.header_row
    job.mapping = mapping.as_json()
    job.warnings = mapping_warnings(mapping=mapping, columns=info.columns)
    job.warnings += _rate_warnings(list(mapping.currencies))


def _rate_warnings(currencies: list[str]) -> list[dict]:
    """A warning per currency (declared or used by an import) with no exchange rate."""
    if not currencies:
        return []
    from players.models import Currency

    existing = set(Currency.objects.filter(code__in=currencies).values_list("code", flat=True))
    lacking = set(currencies_without_rate()) | (set(currencies) - existing)
    lacking.discard(settings.PITBOSS["REPORTING_CURRENCY"])
    return [
        {
            "code": "no_exchange_rate",
            "currency": code,
            "message": f"Currency {code} has no exchange rate: reports that add up players "
            "(segment distribution) leave it out until one is added under Exchange rates.",
        }
        for code in sorted(lacking & set(currencies))
    ]


def import_job_start(*, job: ImportJob) -> None:
    """Queue the job's chain of stages once the current transaction commits."""
    transaction.on_commit(lambda: import_chain(job.pk, STAGES).apply_async())


def import_job_run(*, job_id: int) -> ImportJob:
    """Run every stage now, in this process (tests, the shell, re-runs)."""
    for stage in STAGES:
        import_stage_run(job_id=job_id, stage=stage)
    return ImportJob.objects.get(pk=job_id)


def import_job_retry(*, job: ImportJob) -> ImportJob:
    """Reset a failed or stuck job and queue it again; loaded rows are never duplicated."""
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.QUEUED,
        stage=ImportJob.Stage.PARSE,
        rows_done=0,
        rows_rejected=0,
        errors=[],
        error_code="",
        message="",
        stages={},
        finished_at=None,
    )
    job.refresh_from_db()
    import_job_start(job=job)
    return job


def _update(job: ImportJob, **values) -> None:
    for name, value in values.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**values)


def import_stage_run(*, job_id: int, stage: str) -> str:
    """Run one stage of a job; a failure marks the job failed and later stages do nothing."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status in (ImportJob.Status.FAILED, ImportJob.Status.SUCCEEDED):
        return job.status
    started = time.monotonic()
    values: dict = {"status": ImportJob.Status.RUNNING, "stage": stage}
    if job.started_at is None:
        values["started_at"] = timezone.now()
    _update(job, **values)
    try:
        note = STAGE_FUNCTIONS[stage](job) or "done"
    except DomainError as exc:
        _fail(job, exc.code, exc.message)
        return job.status
    except Exception as exc:  # a bug or a lost database: record it, never leave "running"
        logger.exception("import job %s failed in %s", job.pk, stage)
        _fail(job, "internal_error", f"{stage} failed: {exc.__class__.__name__}: {exc}")
        return job.status
    stages = {**job.stages, stage: {"note": note, "seconds": round(time.monotonic() - started, 3)}}
    _update(job, stages=stages)
    if stage == STAGES[-1]:
        loading.stage_drop(job_id=job.pk)
        with transaction.atomic():
            _update(
                job,
                status=ImportJob.Status.SUCCEEDED,
                stage=ImportJob.Stage.DONE,
                finished_at=timezone.now(),
            )
            _finished_emit(job)
    return job.status


def _finished_emit(job: ImportJob) -> None:
    """The import.finished domain event (docs/webhooks.md), with the job's final state."""
    domain_events_emit(
        "import.finished",
        lambda: [
            {
                "import_id": job.pk,
                "kind": job.kind,
                "status": job.status,
                "file": job.original_name,
                "rows_total": job.rows_total,
                "rows_done": job.rows_done,
                "rows_rejected": job.rows_rejected,
                "error_code": job.error_code,
                "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            }
        ],
    )


def _fail(job: ImportJob, code: str, message: str) -> None:
    if job.file:
        file_release(job.file.path)
    try:
        loading.stage_drop(job_id=job.pk)
    except Exception:  # the database may be what failed; the stage is dropped on re-run
        logger.warning("could not drop staging table of import %s", job.pk)
    stages = {**job.stages, job.stage: {"note": f"failed: {code}"}}
    with transaction.atomic():
        _update(
            job,
            status=ImportJob.Status.FAILED,
            error_code=code,
            message=message[:2000],
            stages=stages,
            finished_at=timezone.now(),
        )
        _finished_emit(job)


def _stage_parse(job: ImportJob) -> str:
    info, mapping = file_inspect(
        path=job.file.path, kind=job.kind, mapping=job.mapping, **_job_options(job)
    )
    _update(job, rows_total=max(info.rows_estimate, 0), file_format=info.format)
    return f"{info.format}, {info.encoding or info.sheet}, about {info.rows_estimate} rows"


def _context(mapping: Mapping, options: dict) -> Context:
    from players.models import Currency

    known = dict(Currency.objects.values_list("code", "minor_units"))
    declared = {code: spec["minor_units"] for code, spec in mapping.currencies.items()}
    return Context(
        minor_units={**declared, **known},
        lookups=_lookups(mapping),
        decimal=declared_decimal(options["decimal_separator"], options["thousands_separator"]),
        date_order=options["date_order"],
        time_zone=options["time_zone"],
    )


def _lookups(mapping: Mapping) -> dict[str, dict]:
    """The saved value maps the mapping names; an unknown name is `unknown_lookup`."""
    names = {s.lookup for s in mapping.sources.values() if s.lookup}
    found = dict(ImportLookup.objects.filter(name__in=names).values_list("name", "values"))
    missing = sorted(names - set(found))
    if missing:
        raise DomainError(
            "unknown_lookup",
            f"No saved lookup named {', '.join(missing)} (upload it under Import lookups).",
            details={"missing": missing},
        )
    return found


def import_lookup_save(*, name: str, path: str, description: str = "") -> ImportLookup:
    """Create or replace a saved value map from a two-column file (see lookup_values)."""
    lookup, _ = ImportLookup.objects.update_or_create(
        name=name, defaults={"values": lookup_values(path=path), "description": description}
    )
    return lookup


def lookup_values(*, path: str) -> dict[str, str]:
    """The value map of a two-column file (CSV or XLSX, with a header row): first column =
    value in the file, second = value stored. Raises invalid_lookup (fewer than two columns,
    or one value mapped two ways)."""
    try:
        info = file_sniff(path=path)
        frames = list(file_chunks(path=path, info=info, chunk_rows=CHUNK_ROWS))
    finally:
        file_release(path)
    if len(info.columns) < 2:
        raise DomainError("invalid_lookup", "A lookup file has two columns: from, to.")
    rows = pd.concat(frames) if frames else pd.DataFrame(columns=info.columns)
    pairs = rows[info.columns[:2]].apply(lambda column: column.str.strip())
    clashing = pairs.groupby(info.columns[0])[info.columns[1]].nunique()
    clashing = sorted(clashing[clashing > 1].index)
    if clashing:
        raise DomainError(
            "invalid_lookup",
            f"The lookup maps {', '.join(clashing[:5])} to more than one value.",
            details={"values": clashing[:100]},
        )
    return dict(zip(pairs.iloc[:, 0], pairs.iloc[:, 1], strict=True))


def lookup_values_upload(upload) -> dict[str, str]:
    """`lookup_values` of an uploaded file (a Django UploadedFile), stored only while it is
    read. Raises invalid_lookup and the reader's refusals (a hostile or unreadable file)."""
    folder = os.path.join(settings.MEDIA_ROOT, "imports", "lookups")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, uuid.uuid4().hex)
    try:
        with open(path, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        return lookup_values(path=path)
    finally:
        if os.path.exists(path):
            os.remove(path)


LOOKUP_MAX_ENTRIES = 100_000


def lookup_values_check(values: object) -> dict[str, str]:
    """A saved lookup's values as given by hand or through the API: an object of text to text
    (`{"SL": "slots"}`), at most LOOKUP_MAX_ENTRIES entries, stripped. Raises invalid_lookup
    naming the first bad entry."""
    if not isinstance(values, dict):
        raise DomainError(
            "invalid_lookup", 'A lookup is an object: {"value in the file": "stored"}.'
        )
    if len(values) > LOOKUP_MAX_ENTRIES:
        raise DomainError(
            "invalid_lookup", f"A lookup holds at most {LOOKUP_MAX_ENTRIES:,} values."
        )
    checked = {}
    for key, value in values.items():
        if not isinstance(value, str) or not key.strip() or not value.strip():
            raise DomainError(
                "invalid_lookup",
                f"Lookup entry {key!r}: both the value in the file and the value stored are "
                "non-empty text.",
                details={"value": str(key)[:100]},
            )
        checked[key.strip()] = value.strip()
    return checked


def error_report_path(job: ImportJob) -> str:
    return os.path.join(settings.MEDIA_ROOT, "imports", "errors", f"import-{job.pk}-errors.csv")


def _stage_validate(job: ImportJob) -> str:
    options = _job_options(job)
    info = file_sniff(
        path=job.file.path,
        encoding=options["encoding"],
        delimiter=options["delimiter"],
        sheet=options["sheet"],
        header_row=options["header_row"] or 0,
    )
    try:
        return _validate(job, info, options)
    finally:
        file_release(job.file.path)  # the last stage that reads the file


def _settle(path: str, info: FileInfo, mapping: Mapping, context: Context) -> None:
    """Read the whole file for evidence of how its number and date columns are written (only
    when the rows read so far leave a column reading two ways)."""
    for chunk in file_chunks(path=path, info=info, chunk_rows=CHUNK_ROWS):
        chunk_observe(chunk=chunk, mapping=mapping, context=context)
    context.complete = True


def _check(path: str, info: FileInfo, chunk, mapping: Mapping, context: Context):
    try:
        return check_chunk(chunk=chunk, mapping=mapping, context=context)
    except Unsettled as unsettled:
        if context.complete:
            raise unsettled.refusal from None
        _settle(path, info, mapping, context)
        return _check(path, info, chunk, mapping, context)


def _validate(job: ImportJob, info: FileInfo, options: dict) -> str:
    mapping = mapping_parse(kind=job.kind, raw=job.mapping, columns=info.columns)
    context = _context(mapping, options)
    loading.stage_create(job_id=job.pk, kind=job.kind)
    report = error_report_path(job)
    os.makedirs(os.path.dirname(report), exist_ok=True)
    kept: list[dict] = []
    rows_done = rejected = 0
    # Chunk N is COPYed to the stage while chunk N+1 is read and checked; the job's progress
    # counts a chunk once it is staged (a worker killed mid-way re-runs from a true count).
    writer = loading.StageWriter(job_id=job.pk, kind=job.kind)
    progress: dict | None = None
    with open(report, "w", newline="", encoding="utf-8") as handle:
        writer_csv = csv.writer(handle)
        writer_csv.writerow(ERROR_COLUMNS)
        try:
            for chunk in file_chunks(path=job.file.path, info=info, chunk_rows=CHUNK_ROWS):
                result = _check(job.file.path, info, chunk, mapping, context)
                errors = result.errors
                if not errors.empty:
                    rejected += errors["row"].nunique()
                    writer_csv.writerows(_safe_rows(errors))
                    if len(kept) < ERRORS_KEPT:
                        kept += (
                            errors.drop(columns="value")
                            .head(ERRORS_KEPT - len(kept))
                            .to_dict("records")
                        )
                rows = None
                if not (rejected and job.on_error == OnError.REJECT):
                    rows = staging_rows(kind=job.kind, values=result.values)
                rows_done += len(chunk)
                if rows_done > MAX_ROWS:
                    raise DomainError("too_many_rows", f"The file has more than {MAX_ROWS:,} rows.")
                writer.wait()
                if progress is not None:
                    _update(job, **progress)
                if rows is not None:
                    writer.write(rows)
                progress = {
                    "rows_done": rows_done,
                    "rows_total": max(job.rows_total, rows_done),
                    "rows_rejected": rejected,
                    "errors": [_jsonable(e) for e in kept],
                }
            writer.wait()
        finally:
            writer.close()
        if progress is not None:
            _update(job, **progress)
    _update(
        job,
        rows_total=rows_done,
        error_report=os.path.relpath(report, settings.MEDIA_ROOT) if rejected else "",
    )
    if rejected and job.on_error == OnError.REJECT:
        raise DomainError(
            "file_rejected",
            f"{rejected} row(s) have errors; nothing was imported (see the error report).",
        )
    if rows_done == 0:
        raise DomainError("empty_file", "The file has a header but no rows.")
    if rejected == rows_done:
        raise DomainError("no_valid_rows", "Every row has errors; nothing was imported.")
    return f"{rows_done - rejected} rows staged, {rejected} rejected"


def _jsonable(error: dict) -> dict:
    return {
        "row": int(error["row"]),
        "column": str(error["column"]),
        "code": error["code"],
        "message": error["message"],
    }


def _safe_rows(errors: pd.DataFrame) -> list[list]:
    return [[formula_safe(v) for v in row] for row in errors.itertuples(index=False, name=None)]


def _stage_load(job: ImportJob) -> str:
    mapping = mapping_parse(kind=job.kind, raw=job.mapping)
    source = f"import:{job.kind}"
    if job.kind == Kind.PLAYERS:
        with transaction.atomic():
            loading.currencies_create(currencies=mapping.currencies)
            created, updated = loading.load_players(job_id=job.pk)
            # A status the file sets (self-excluded, blocked…) forfeits active bonuses at once.
            forfeited = player_statuses_changed(
                player_ids=loading.affected_player_ids(job_id=job.pk) or []
            )
            _update(job, players_created=created, players_updated=updated)
        note = f"; bonuses forfeited for {forfeited} excluded players" if forfeited else ""
        return f"{created} players created, {updated} updated{note}"
    # outside the transaction: the error report must survive a rejection
    _check_rates(job)
    if loading.is_postgres():
        # A file none of whose ids an earlier import stored (the common case) is stored
        # without ON CONFLICT, under the source's lock so that no concurrent import stores one
        # meanwhile; otherwise nothing was written here and the comparison below decides
        # (ADR 0027).
        with transaction.atomic():
            loading.source_lock(source=source)
            if not loading.activity_known(job_id=job.pk, source=source):
                _update(job, counts={**job.counts, "identical": 0, "conflicting": 0})
                return _load_activity(job, mapping, source, replace=[], new_ids=True)
    replace = _check_conflicts(job, source)
    with transaction.atomic():
        loading.source_lock(source=source)
        return _load_activity(job, mapping, source, replace=replace, new_ids=False)


def _load_activity(
    job: ImportJob, mapping: Mapping, source: str, *, replace: list[str], new_ids: bool
) -> str:
    """The activity load, inside the caller's transaction (which holds the source's lock)."""
    loading.currencies_create(currencies=mapping.currencies)
    replaced = loading.activity_delete(source=source, external_ids=replace) if replace else 0
    players, activities = loading.load_activity(job_id=job.pk, source=source, new_ids=new_ids)
    counts = {**job.counts, "inserted": activities, "replaced": replaced}
    _update(job, players_created=players, activities_created=activities, counts=counts)
    used = loading.staged_currencies(job_id=job.pk)
    known = {w.get("currency") for w in job.warnings}
    fresh = [w for w in _rate_warnings(used) if w["currency"] not in known]
    if fresh:
        _update(job, warnings=job.warnings + fresh)
    note = f", {replaced} replaced" if replaced else ""
    return f"{players} players created, {activities} activities stored{note}"


def _check_conflicts(job: ImportJob, source: str) -> list[str]:
    """Compare the staged rows with what earlier imports stored under the same ids.

    Identical rows are skipped (counted); rows that say something else are conflicts: with
    `on_conflict=replace` their ids are returned (the load replaces them), otherwise they are
    row errors (`conflict`) — the file is refused (on_error=reject) or they are left out."""
    identical, conflicts = loading.reimport_compare(job_id=job.pk, source=source)
    counts = {"identical": identical, "conflicting": len(conflicts), "replaced": 0}
    _update(job, counts={**job.counts, **counts})
    if not conflicts:
        return []
    if job.on_conflict == OnConflict.REPLACE:
        return sorted({row[1] for row in conflicts})
    errors = [
        {
            "row": row_no,
            "column": "",
            "code": "conflict",
            "message": f"An earlier import stored {external_id} differently (amount "
            f"{_plain(old_amount)} -> {_plain(new_amount)}, count {old_count} -> {new_count}, "
            f"at {_plain(old_at)} -> {_plain(new_at)}); use on_conflict=replace to correct it.",
        }
        for row_no, external_id, old_amount, new_amount, old_count, new_count, old_at, new_at in (
            conflicts
        )
    ]
    _report_errors(job, errors)
    if job.on_error == OnError.REJECT:
        raise DomainError(
            "file_rejected",
            f"{len(conflicts)} row(s) change what an earlier import stored; nothing was "
            "imported (see the error report, or import with on_conflict=replace).",
        )
    loading.stage_delete_rows(job_id=job.pk, rows=sorted({e["row"] for e in errors}))
    return []


def _plain(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, str) and value.count(".") == 1 and value.replace(".", "").isdigit():
        return format(Decimal(value).normalize(), "f")
    return str(value)


def _report_errors(job: ImportJob, errors: list[dict]) -> None:
    """Add load-stage row errors to the job and its error report."""
    rows = {e["row"] for e in errors}
    with open(error_report_path(job), "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([[*e.values(), ""] for e in errors])
    _update(
        job,
        rows_rejected=job.rows_rejected + len(rows),
        errors=(job.errors + errors)[:ERRORS_KEPT],
        error_report=os.path.relpath(error_report_path(job), settings.MEDIA_ROOT),
    )


def _check_rates(job: ImportJob) -> None:
    missing = loading.missing_rates(job_id=job.pk)
    if not missing:
        return
    errors = [
        {
            "row": row,
            "column": "currency",
            "code": "no_exchange_rate",
            "message": f"No exchange rate {currency}->{player_currency} at that time.",
        }
        for row, currency, player_currency in missing
    ]
    rows = sorted({e["row"] for e in errors})
    _report_errors(job, errors)
    if job.on_error == OnError.REJECT:
        raise DomainError(
            "file_rejected", f"{len(rows)} row(s) have no exchange rate; nothing was imported."
        )
    loading.stage_delete_rows(job_id=job.pk, rows=rows)


def _post_import(step: str):
    def run(job: ImportJob) -> str:
        return pipeline.post_import_step(
            step=step, job=job, player_ids=loading.affected_player_ids(job_id=job.pk)
        )

    return run


STAGE_FUNCTIONS = {
    "parse": _stage_parse,
    "validate": _stage_validate,
    "load": _stage_load,
    **{step: _post_import(step) for step in pipeline.POST_IMPORT_STEPS},
}


def import_preview(*, path: str, kind: str, mapping: Any = None, rows: int = 10, **options) -> dict:
    """The first rows as they will be read, checked and stored, for the admin's preview.

    Amounts are shown in the currency's units ("250.50"), dates in UTC; `warnings` lists
    unused columns, unmapped optional fields and a title block above the header."""
    options = reading_options(**options)
    try:
        info, resolved = file_inspect(path=path, kind=kind, mapping=mapping, **options)
        chunk = file_preview(path=path, info=info, rows=rows)
    finally:
        file_release(path)
    warnings = mapping_warnings(mapping=resolved, columns=info.columns)
    if info.suggested_header_row:
        row = info.suggested_header_row
        message = f"The header seems to be on row {row}; the rows above look like a title."
        warnings.insert(
            0, {"code": "title_block", "row": row, "message": f"{message} Set header_row={row}."}
        )
    errors: list[dict] = []
    try:
        result = check_chunk(chunk=chunk, mapping=resolved, context=_context(resolved, options))
        values = _as_stored(kind, result.values)
        errors = [_jsonable(e) for e in result.errors.to_dict("records")]
    except Unsettled as unsettled:
        values = pd.DataFrame()
        refusal = unsettled.refusal
        errors = [{"row": 0, "column": refusal.details.get("column", ""),
                   "code": refusal.code, "message": refusal.message}]  # fmt: skip
    return {
        "info": info,
        "mapping": resolved.as_json(),
        "columns": info.columns,
        "raw": visible(chunk),
        "values": values,
        "errors": errors,
        "warnings": warnings,
    }


def _as_stored(kind: str, values: pd.DataFrame) -> pd.DataFrame:
    """Checked values as they will be stored: amounts in currency units, not 1e-8 counts."""
    shown = values.copy()
    for target in kind_fields(kind):
        if target.type == MONEY and target.name in shown:
            units = shown[target.name]
            text = units_to_text(units.fillna(0).astype("int64"))
            text = text.str.rstrip("0").str.rstrip(".")
            shown[target.name] = text.where(units.notna(), None)
    return shown.astype(object).where(shown.notna(), None)


def import_template_save(
    *, name: str, kind: str, mapping: Any, description: str = "", **options: str
) -> ImportTemplate:
    """Create or replace a named mapping after checking it."""
    parsed = mapping_parse(kind=kind, raw=_raw_mapping(mapping))
    template, _ = ImportTemplate.objects.update_or_create(
        name=name,
        defaults={
            "kind": kind,
            "mapping": {k: v for k, v in parsed.as_json().items() if k != "auto_matched"},
            "description": description,
            **options,
        },
    )
    return template


def upload_from_path(path: str) -> File:
    """A Django File for a path on disk (management commands, tests, bench); caller closes."""
    return File(open(path, "rb"), name=os.path.basename(path))  # noqa: SIM115
