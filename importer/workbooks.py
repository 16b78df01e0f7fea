"""Hostile spreadsheets: an .xlsx is inspected before anything parses it, and parsed only in a
memory-limited child process.

An .xlsx is a zip of XML parts. A 1.6 kB file whose only cells are A1 and XFD1048576 makes a
reader allocate the whole 17-billion-cell rectangle; a 4.7 MB zip can unpack to gigabytes. So,
before python-calamine sees a workbook, `workbook_inspect` reads the zip directory and streams
each worksheet once (bounded by the limits below) and refuses the file (`unsafe_file`) past:

- the number of parts and of worksheets;
- the total uncompressed size of its parts, and any part's compression ratio;
- the area a sheet declares (`<dimension ref=…>`) or its cells reach (`r="XFD1048576"`).

Then `run_limited` reads the sheet in a forked child whose address space is capped
(`PITBOSS_IMPORT_MEMORY_LIMIT_MB`): running out there is an error of this import
(`file_too_large`), never a dead web or Celery worker.
"""

import faulthandler
import os
import pickle
import re
import resource
import select
import signal
import zipfile
from collections.abc import Callable
from typing import Any

from django.conf import settings

from config.errors import DomainError

# Documented in docs/importing.md ("Hostile files").
MAX_PARTS = 10_000
MAX_SHEETS = 256
MAX_UNCOMPRESSED = 2 << 30  # bytes, all parts together
MAX_RATIO = 200  # uncompressed / compressed, for parts over 1 MB unpacked
MAX_CELLS = 40_000_000  # rows x columns of a sheet's rectangle (1,000,000 rows x 40 columns)
CHILD_TIMEOUT = 900  # seconds

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension[^>]*\bref="([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?"')
_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,4})(\d{1,8})"')


def _unsafe(message: str, **details: Any) -> DomainError:
    return DomainError("unsafe_file", message, details=details)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def workbook_inspect(path: str) -> None:
    """Refuse an .xlsx past the limits above (unsafe_file); other files pass untouched."""
    if not zipfile.is_zipfile(path):
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DomainError(
            "unreadable_file", f"This is not a readable spreadsheet ({exc})."
        ) from exc
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_PARTS:
            raise _unsafe(f"The workbook has {len(parts):,} parts; the limit is {MAX_PARTS:,}.")
        sheets = [
            p
            for p in parts
            if p.filename.startswith("xl/worksheets/") and p.filename.endswith(".xml")
        ]
        if len(sheets) > MAX_SHEETS:
            raise _unsafe(f"The workbook has {len(sheets)} sheets; the limit is {MAX_SHEETS}.")
        total = sum(p.file_size for p in parts)
        if total > MAX_UNCOMPRESSED:
            raise _unsafe(
                f"The workbook unpacks to {total / 2**20:,.0f} MB; the limit is "
                f"{MAX_UNCOMPRESSED / 2**20:,.0f} MB.",
                uncompressed=total,
            )
        for part in parts:
            ratio = part.file_size / max(part.compress_size, 1)
            if part.file_size > 1 << 20 and ratio > MAX_RATIO:
                raise _unsafe(
                    f"Part {part.filename} of the workbook is compressed {ratio:,.0f}:1 (a zip "
                    f"bomb?); the limit is {MAX_RATIO}:1.",
                    part=part.filename,
                )
        for sheet in sheets:
            _sheet_area(archive, sheet)


def _sheet_area(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
    """Refuse a sheet whose declared or reached rectangle is over MAX_CELLS."""
    rows = columns = 0
    tail = b""
    with archive.open(part) as stream:
        first = True
        while chunk := stream.read(1 << 20):
            text = tail + chunk
            if first:
                declared = _DIMENSION.search(text)
                if declared and declared.group(3):
                    rows, columns = int(declared.group(4)), _column_number(declared.group(3))
                    _check_area(part.filename, rows, columns, "declares")
                first = False
            for letters, number in _CELL_REF.findall(text):
                rows = max(rows, int(number))
                columns = max(columns, _column_number(letters))
            _check_area(part.filename, rows, columns, "reaches")
            tail = text[-64:]


def _check_area(name: str, rows: int, columns: int, how: str) -> None:
    if rows * columns > MAX_CELLS:
        raise _unsafe(
            f"Sheet {name.rsplit('/', 1)[-1]} {how} {rows:,} rows x {columns:,} columns; the "
            f"limit is {MAX_CELLS:,} cells.",
            rows=rows,
            columns=columns,
        )


def _address_space() -> int:
    """Bytes of address space this process uses now (Linux), else 0."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def run_limited(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` in a forked child under the import memory limit; its result (or
    its DomainError) comes back pickled. A child that runs out of memory, crashes or takes
    too long is a `file_too_large` error here, and this process goes on serving."""
    limit_mb = settings.PITBOSS.get("IMPORT_MEMORY_LIMIT_MB", 0)
    if not limit_mb or not hasattr(os, "fork"):
        return function(*args)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no database, no return to the caller's frames
        os.close(read_end)
        faulthandler.disable()  # an abort here is reported by the parent, not dumped
        code = 0
        try:
            ceiling = _address_space() + limit_mb * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
            payload = pickle.dumps(("ok", function(*args)))
        except DomainError as exc:
            payload, code = pickle.dumps(("error", (exc.code, exc.message, exc.details))), 1
        except MemoryError:
            payload, code = pickle.dumps(("memory", None)), 2
        except BaseException as exc:  # noqa: BLE001 — reported to the parent, never raised here
            payload, code = pickle.dumps(("crash", f"{exc.__class__.__name__}: {exc}")), 3
        try:
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
        finally:
            os._exit(code)
    os.close(write_end)
    chunks = []
    with os.fdopen(read_end, "rb") as source:
        while True:
            ready, _, _ = select.select([source], [], [], CHILD_TIMEOUT)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                break
            chunk = source.read1(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    try:
        kind, value = pickle.loads(b"".join(chunks)) if chunks else ("died", status)
    except Exception:  # a child killed mid-write
        kind, value = "died", status
    if kind == "ok":
        return value
    if kind == "error":
        code, message, details = value
        raise DomainError(code, message, details=details)
    if kind == "crash":
        raise _unreadable_crash(value)
    raise DomainError(
        "file_too_large",
        f"Reading this file needs more than the import memory limit ({limit_mb} MB) or "
        f"longer than {CHILD_TIMEOUT} s; it was stopped.",
        details={"memory_limit_mb": limit_mb},
    )


def _unreadable_crash(message: str) -> DomainError:
    return DomainError("unreadable_file", f"This is not a readable spreadsheet ({message}).")
