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
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from config.domain_events import domain_events_emit
from config.errors import DomainError
from config.spreadsheets import formula_safe
from importer import loading, pipeline
from importer.fields import Mapping, mapping_parse  # noqa: F401 (re-exported)
from importer.models import ImportJob, ImportTemplate, Kind, OnError
from importer.queueing import import_chain
from importer.reading import FileInfo, file_chunks, file_preview, file_release, file_sniff
from importer.records import staging_rows
from importer.validation import ERROR_COLUMNS, Context, check_chunk
from players.services import player_statuses_changed

logger = logging.getLogger(__name__)

CHUNK_ROWS = 100_000
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
            return json.loads(mapping)
        except json.JSONDecodeError as exc:
            raise DomainError(
                "invalid_mapping",
                f"The mapping is not valid JSON: {exc.msg} at position {exc.pos}.",
                details={"position": exc.pos},
            ) from exc
    return mapping


def file_inspect(*, path: str, kind: str, mapping: Any, encoding="", delimiter="", sheet=""):
    """Sniff a file and resolve the mapping against its header. → (FileInfo, Mapping)."""
    info = file_sniff(path=path, encoding=encoding, delimiter=delimiter, sheet=sheet)
    resolved = mapping_parse(kind=kind, raw=_raw_mapping(mapping), columns=info.columns)
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
    encoding: str = "",
    delimiter: str = "",
    sheet: str = "",
    user=None,
    start: bool = True,
) -> ImportJob:
    """Check an upload (format, header, mapping) and queue its import; bad input raises."""
    if kind not in Kind.values:
        raise DomainError(
            "unknown_kind", f"Unknown import kind {kind!r}.", details={"choices": Kind.values}
        )
    saved_template = _template(template) if template else None
    if saved_template is not None:
        if saved_template.kind != kind:
            raise DomainError(
                "template_kind_mismatch",
                f"Template {template!r} is for {saved_template.kind} files, not {kind}.",
            )
        mapping = mapping if mapping not in (None, "", {}) else saved_template.mapping
        on_error = on_error or saved_template.on_error
        encoding = encoding or saved_template.encoding
        delimiter = delimiter or saved_template.delimiter
        sheet = sheet or saved_template.sheet
    on_error = on_error or OnError.REJECT
    if on_error not in OnError.values:
        raise DomainError("invalid_on_error", "on_error must be reject or skip.")
    job = ImportJob(
        kind=kind,
        template=saved_template,
        on_error=on_error,
        original_name=os.path.basename(getattr(file, "name", "") or "upload")[:255],
        created_by=user if user is not None and user.is_authenticated else None,
    )
    job.file.save(job.original_name or "upload", file, save=False)
    try:
        info, resolved = file_inspect(
            path=job.file.path,
            kind=kind,
            mapping=mapping,
            encoding=encoding,
            delimiter=delimiter,
            sheet=sheet,
        )
    except DomainError:
        job.file.delete(save=False)
        file_release()
        raise
    _apply_info(job, info, resolved)
    job.save()
    if start:
        import_job_start(job=job)
    if start and not settings.CELERY_TASK_ALWAYS_EAGER:
        file_release()  # a worker runs the stages: the web process keeps no spreadsheet
    return job


def _apply_info(job: ImportJob, info: FileInfo, mapping: Mapping) -> None:
    job.file_format = info.format
    job.encoding = info.encoding
    job.delimiter = info.delimiter
    job.sheet = info.sheet
    job.rows_total = max(info.rows_estimate, 0)
    job.mapping = mapping.as_json()


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
        path=job.file.path,
        kind=job.kind,
        mapping=job.mapping,
        encoding=job.encoding,
        delimiter=job.delimiter,
        sheet=job.sheet,
    )
    _update(job, rows_total=max(info.rows_estimate, 0), file_format=info.format)
    return f"{info.format}, {info.encoding or info.sheet}, about {info.rows_estimate} rows"


def _context(mapping: Mapping) -> Context:
    from players.models import Currency

    known = dict(Currency.objects.values_list("code", "minor_units"))
    declared = {code: spec["minor_units"] for code, spec in mapping.currencies.items()}
    return Context(minor_units={**declared, **known})


def error_report_path(job: ImportJob) -> str:
    return os.path.join(settings.MEDIA_ROOT, "imports", "errors", f"import-{job.pk}-errors.csv")


def _stage_validate(job: ImportJob) -> str:
    info = file_sniff(
        path=job.file.path, encoding=job.encoding, delimiter=job.delimiter, sheet=job.sheet
    )
    try:
        return _validate(job, info)
    finally:
        file_release()


def _validate(job: ImportJob, info: FileInfo) -> str:
    mapping = mapping_parse(kind=job.kind, raw=job.mapping, columns=info.columns)
    context = _context(mapping)
    loading.stage_create(job_id=job.pk, kind=job.kind)
    report = error_report_path(job)
    os.makedirs(os.path.dirname(report), exist_ok=True)
    kept: list[dict] = []
    rows_done = rejected = 0
    with open(report, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(ERROR_COLUMNS)
        for chunk in file_chunks(path=job.file.path, info=info, chunk_rows=CHUNK_ROWS):
            result = check_chunk(chunk=chunk, mapping=mapping, context=context)
            errors = result.errors
            if not errors.empty:
                rejected += errors["row"].nunique()
                writer.writerows(_safe_rows(errors))
                if len(kept) < ERRORS_KEPT:
                    kept += (
                        errors.drop(columns="value")
                        .head(ERRORS_KEPT - len(kept))
                        .to_dict("records")
                    )
            if not (rejected and job.on_error == OnError.REJECT):
                rows = staging_rows(kind=job.kind, values=result.values)
                loading.stage_write(job_id=job.pk, kind=job.kind, rows=rows)
            rows_done += len(chunk)
            if rows_done > MAX_ROWS:
                raise DomainError("too_many_rows", f"The file has more than {MAX_ROWS:,} rows.")
            _update(
                job,
                rows_done=rows_done,
                rows_total=max(job.rows_total, rows_done),
                rows_rejected=rejected,
                errors=[_jsonable(e) for e in kept],
            )
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
    if job.kind != Kind.PLAYERS:
        _check_rates(job)  # outside the transaction: its error report must survive a rejection
    with transaction.atomic():
        loading.currencies_create(currencies=mapping.currencies)
        if job.kind == Kind.PLAYERS:
            created, updated = loading.load_players(job_id=job.pk)
            # A status the file sets (self-excluded, blocked…) forfeits active bonuses at once.
            forfeited = player_statuses_changed(
                player_ids=loading.affected_player_ids(job_id=job.pk) or []
            )
            _update(job, players_created=created, players_updated=updated)
            note = f"; bonuses forfeited for {forfeited} excluded players" if forfeited else ""
            return f"{created} players created, {updated} updated{note}"
        players, activities = loading.load_activity(job_id=job.pk, source=f"import:{job.kind}")
        _update(job, players_created=players, activities_created=activities)
    return f"{players} players created, {activities} activities stored"


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
    with open(error_report_path(job), "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([[*e.values(), ""] for e in errors])
    _update(
        job,
        rows_rejected=job.rows_rejected + len(rows),
        errors=(job.errors + errors)[:ERRORS_KEPT],
        error_report=os.path.relpath(error_report_path(job), settings.MEDIA_ROOT),
    )
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


def import_preview(
    *, path: str, kind: str, mapping: Any = None, encoding="", delimiter="", sheet="", rows=10
) -> dict:
    """The first rows as they will be read and checked, for the admin's mapping preview."""
    try:
        info, resolved = file_inspect(
            path=path,
            kind=kind,
            mapping=mapping,
            encoding=encoding,
            delimiter=delimiter,
            sheet=sheet,
        )
        chunk = file_preview(path=path, info=info, rows=rows)
    finally:
        file_release()
    result = check_chunk(chunk=chunk, mapping=resolved, context=_context(resolved))
    values = result.values.astype(object).where(result.values.notna(), None)
    return {
        "info": info,
        "mapping": resolved.as_json(),
        "columns": info.columns,
        "raw": chunk,
        "values": values,
        "errors": [_jsonable(e) for e in result.errors.to_dict("records")],
    }


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
