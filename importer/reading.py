"""Reading uploaded files: format, encoding and delimiter detection, and chunked reading.

Every cell comes out as text ("" when empty) so that validation sees exactly what the file
holds; the index of each chunk is the row number in the file (the header is row 1).
"""

import codecs
import contextlib
import csv
import hashlib
import io
import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
from charset_normalizer import from_bytes
from django.conf import settings

from config.errors import DomainError
from importer.workbooks import run_limited, workbook_inspect

SAMPLE_BYTES = 1 << 20
DELIMITERS = ",;\t|"
# Single-byte encodings of Latin scripts that a detector confuses with each other on short
# samples (it calls "Søren" cp1250 and turns ø into ř). For these we read Windows-1252, whose
# letters agree with ISO-8859-1, so a Western European file keeps its names intact.
LATIN_FAMILY = {
    "cp1250", "cp1252", "cp1254", "cp1257", "cp775", "cp850", "cp437", "cp858", "latin_1",
    "iso8859_1", "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_9", "iso8859_10",
    "iso8859_13", "iso8859_14", "iso8859_15", "iso8859_16", "mac_roman", "mac_latin2",
    "mac_iceland", "mac_turkish", "ascii", "cp1256", "hp_roman8", "cp273", "cp500",
}  # fmt: skip


SEP_HINT = re.compile(r"^sep=(.)\s*$", re.IGNORECASE)  # Excel's first line: "sep=;"
TITLE_ROWS = 30  # rows looked at for a title block above the header
# Cells are read as Arrow-backed text (NaN for missing, numpy booleans from comparisons):
# Arrow's string kernels strip, match and compare a column 4-7x faster than Python objects,
# and a chunk's text is a few buffers instead of one Python object per cell (bench/README.md).
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
# Spreadsheet number cells are marked in a hidden column per column ("typed" cells): their text
# is canonical (1234.5), whatever separators the column's written numbers use.
TYPED = "\x00typed:"


@dataclass
class FileInfo:
    format: str  # csv | xlsx
    columns: list[str]
    rows_estimate: int
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    sheets: list[str] = field(default_factory=list)
    header_row: int = 1  # the file's row number of the header (1 = the first row)
    suggested_header_row: int = 0  # when rows above the header look like a title block


def arrow_text(text: pd.Series) -> pa.Array | None:
    """The Arrow array behind a column of Arrow-backed text (one array, however many pieces
    the reader produced), or None for any other column."""
    if not (isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow"):
        return None
    array = pa.array(text.array)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def visible(chunk: pd.DataFrame) -> pd.DataFrame:
    """The chunk without its hidden columns (what the file shows)."""
    hidden = [c for c in chunk.columns if c.startswith(TYPED)]
    return chunk.drop(columns=hidden) if hidden else chunk


def typed_cells(chunk: pd.DataFrame, column: str) -> pd.Series | None:
    """Mask of a column's spreadsheet number cells (None when it has none)."""
    return chunk.get(TYPED + column)


def _title_block(widths: list[int], header_at: int) -> int:
    """1-based index (into `widths`) of the row that looks like the real header when the rows
    from `header_at` look like a title block ("Weekly report", blank, then the table), else 0."""
    table = max(widths, default=0)
    if table < 2 or header_at >= len(widths) or widths[header_at] >= table:
        return 0
    following = [i for i in range(header_at + 1, len(widths)) if widths[i] == table]
    return following[0] + 1 if following else 0


def _unreadable(message: str) -> DomainError:
    return DomainError("unreadable_file", message)


def is_spreadsheet(head: bytes) -> bool:
    return head[:4] == b"PK\x03\x04" or head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def file_sniff(
    *, path: str, encoding: str = "", delimiter: str = "", sheet: str = "", header_row: int = 0
) -> FileInfo:
    """Recognise the file (CSV or spreadsheet), its encoding, delimiter and header row.

    `header_row` (1-based row of the file) says where the header is; 0: the first non-empty
    row (after a `sep=` line), with a suggestion when that looks like a title block."""
    size = os.path.getsize(path)
    if size == 0:
        raise DomainError("empty_file", "The file is empty.")
    with open(path, "rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if is_spreadsheet(head):
        return _sniff_spreadsheet(path, sheet, header_row)
    return _sniff_csv(path, head, size, encoding, delimiter, header_row)


def _converted(path: str) -> tuple[str, str]:
    """(rows CSV, its metadata JSON) that a workbook's sheet is converted to: under
    MEDIA_ROOT (shared by the web and Celery hosts), never beside a file we do not own."""
    folder = os.path.join(settings.MEDIA_ROOT, "imports", "converted")
    key = hashlib.blake2b(os.path.abspath(path).encode(), digest_size=12).hexdigest()
    base = os.path.join(folder, key)
    return f"{base}.rows.csv", f"{base}.rows.json"


def _same_sheet(meta: dict, sheet: str) -> bool:
    if sheet in ("", meta["sheet"]):
        return sheet != "" or meta["sheet"] == meta["sheets"][0]
    names = meta["sheets"]
    return (
        sheet.strip().isdigit()
        and 1 <= int(sheet) <= len(names)
        and (names[int(sheet) - 1] == meta["sheet"])
    )


def _sheet_to_csv(path: str, sheet: str, rows_path: str) -> dict:
    """Write a sheet's cells as text rows (row N of the sheet = line N), each followed by one
    flag per cell ("1": a number cell). Runs in the memory-limited child (workbooks.py).
    → {"sheets": names, "sheet": chosen, "width": cells per row}."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(path)
        names = list(workbook.sheet_names)
        if sheet and sheet not in names and sheet.strip().isdigit():
            position = int(sheet)
            if 1 <= position <= len(names):
                sheet = names[position - 1]
        if sheet and sheet not in names:
            raise DomainError(
                "unknown_sheet",
                f"The workbook has no sheet {sheet!r} (name it, or give its position from 1).",
                details={"sheets": names},
            )
        chosen = sheet or names[0]
        loaded = workbook.get_sheet_by_name(chosen)
        width = 0
        with open(rows_path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            for raw in loaded.iter_rows():
                width = len(raw)
                cells = [_cell_text(c) for c in raw]
                flags = ["1" if type(c) is float or type(c) is int else "" for c in raw]
                writer.writerow(cells + flags)
    except (DomainError, MemoryError):
        raise
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise _unreadable(f"This is not a readable spreadsheet ({exc}).") from exc
    return {"sheets": names, "sheet": chosen, "width": width}


SHEET_CONVERT_TASK = "importer.sheet_convert"


def sheet_convert_here(path: str, sheet: str, rows_path: str) -> dict:
    """Inspect a workbook (workbooks.py: refused past the limits) and write its sheet as text
    rows in a memory-limited child of this process. → metadata (`_sheet_to_csv`), with
    `converted_by`: this process's id."""
    workbook_inspect(path)
    meta = run_limited(_sheet_to_csv, path, sheet, rows_path)
    return {**meta, "converted_by": os.getpid()}


def _convert_here() -> bool:
    """Whether this process reads workbooks itself: it is a Celery worker running a task, or
    there is no worker to ask (Celery eager — the embedded default — or no result backend)."""
    from celery import current_task

    from config.celery import app

    in_worker = bool(current_task) and not current_task.request.called_directly
    return in_worker or app.conf.task_always_eager or not app.conf.result_backend


def sheet_convert(path: str, sheet: str, rows_path: str) -> dict:
    """`sheet_convert_here`, run by a Celery worker unless this process is one (or there is
    none): a web process never parses a workbook, so a hostile one costs a worker's child at
    most. The upload waits up to IMPORT_SHEET_TIMEOUT_SECONDS (the workbook lives under
    MEDIA_ROOT, which the web and worker hosts share).

    Raises the reading's refusals (unsafe_file, file_too_large, unknown_sheet, …) as the worker
    answered them, and workers_unavailable (503) when no worker answered in time.
    """
    if _convert_here():
        return sheet_convert_here(path, sheet, rows_path)
    from celery.exceptions import TimeoutError as CeleryTimeout

    from config.celery import app

    seconds = settings.PITBOSS["IMPORT_SHEET_TIMEOUT_SECONDS"]
    result = app.send_task(SHEET_CONVERT_TASK, args=[path, sheet, rows_path])
    try:
        answer = result.get(timeout=seconds, disable_sync_subtasks=False)
    except CeleryTimeout:
        result.revoke()
        raise DomainError(
            "workers_unavailable",
            f"No import worker read the workbook within {seconds} s; try again later.",
            status=503,
        ) from None
    finally:
        result.forget()
    if "error" in answer:
        raise DomainError(**answer["error"])
    return answer


def _load_sheet(path: str, sheet: str) -> tuple[dict, str]:
    """(metadata, rows CSV) of a sheet (a name, or a 1-based position), converted once per
    upload after the workbook passed inspection (workbooks.py)."""
    rows_path, meta_path = _converted(path)
    if os.path.exists(meta_path) and os.path.getmtime(meta_path) >= os.path.getmtime(path):
        with open(meta_path, encoding="utf-8") as handle:
            meta = json.load(handle)
        if _same_sheet(meta, sheet):
            return meta, rows_path
    os.makedirs(os.path.dirname(rows_path), exist_ok=True)
    try:
        meta = sheet_convert(path, sheet, rows_path)
    except DomainError:
        file_release(path)
        raise
    with open(meta_path, "w", encoding="utf-8") as handle:
        json.dump(meta, handle)
    return meta, rows_path


def file_release(path: str = "") -> None:
    """Delete what reading `path` left beside it (converted sheets) — after the last stage
    that reads the file, and whenever an upload is refused."""
    if path:
        for leftover in _converted(path):
            with contextlib.suppress(FileNotFoundError):
                os.remove(leftover)


def _split_cells(row: list[str], width: int) -> list[str]:
    return (row[:width] + [""] * width)[:width]


def _sniff_spreadsheet(path: str, sheet: str, header_row: int) -> FileInfo:
    meta, rows_path = _load_sheet(path, sheet)
    width = meta["width"]
    first: list[list[str]] = []
    lines = 0
    with open(rows_path, newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            lines = number
            if number <= max(TITLE_ROWS, header_row):
                first.append(_split_cells(row, width))
    chosen = meta["sheet"]
    at = _header_index(first, header_row, f"Sheet {chosen!r}")
    widths = [sum(1 for c in row if c.strip()) for row in first]
    columns = _header_names([c.strip() for c in first[at]])
    info = FileInfo("xlsx", columns, max(lines - 1 - at, 0), sheet=chosen, sheets=meta["sheets"])
    info.header_row = at + 1
    info.suggested_header_row = 0 if header_row else _title_block(widths, at)
    return info


def _header_index(rows: list[list[str]], header_row: int, where: str) -> int:
    """0-based index of the header among the first rows of a file."""
    if header_row:
        if header_row > len(rows) or not any(c.strip() for c in rows[header_row - 1]):
            raise DomainError(
                "empty_file", f"Row {header_row} of {where} is empty: it cannot be the header."
            )
        return header_row - 1
    at = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), None)
    if at is None:
        raise DomainError("empty_file", f"{where} has no header row.")
    return at


def _looks_binary(sample: bytes) -> bool:
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample[:65536] if b < 9 or 13 < b < 32 or b == 127)
    return controls > len(sample[:65536]) * 0.01


def _sniff_csv(
    path: str, head: bytes, size: int, encoding: str, delimiter: str, header_row: int
) -> FileInfo:
    bom_utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff")
    if not bom_utf16 and _looks_binary(head):
        raise _unreadable("This is neither a CSV nor an XLSX file (it holds binary data).")
    if encoding:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError as exc:
            raise DomainError("invalid_encoding", f"Unknown encoding {encoding!r}.") from exc
    elif bom_utf16:
        encoding = "utf-16"
    else:
        encoding = detect_encoding(path, head)
    try:
        text = head.decode(encoding, errors="strict" if len(head) == size else "ignore")
    except UnicodeDecodeError as exc:
        raise DomainError(
            "encoding_error",
            f"The file is not valid {encoding} (byte {exc.start}); choose its encoding.",
            details={"encoding": encoding, "offset": exc.start},
        ) from exc
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise DomainError("empty_file", "The file has no header row.")
    lines = text.splitlines()
    hint = SEP_HINT.match(lines[0]) if lines else None
    body = "\n".join(lines[1:]) if hint else text
    if not delimiter:
        delimiter = hint.group(1) if hint else detect_delimiter(body)
    elif delimiter in ("\\t", "tab"):
        delimiter = "\t"
    if len(delimiter) != 1:
        raise DomainError("invalid_delimiter", "The delimiter must be one character.")
    rows = []
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        rows.append(row)
        if len(rows) >= max(TITLE_ROWS, header_row):
            break
    if hint and not header_row:
        rows[0] = []  # the hint is not the header
    at = _header_index(rows, header_row, "The file")
    columns = _header_names([c.strip() for c in rows[at]])
    widths = [sum(1 for c in row if c.strip()) for row in rows]
    info = FileInfo("csv", columns, _count_lines(path, size) - 1 - at, encoding, delimiter)
    info.header_row = at + 1
    info.suggested_header_row = 0 if header_row else _title_block(widths, at)
    return info


def detect_encoding(path: str, head: bytes) -> str:
    """UTF-8 when the whole file decodes as UTF-8; otherwise the detector's guess, with
    Latin-script guesses read as Windows-1252 (see LATIN_FAMILY)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    suspicious = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(SAMPLE_BYTES):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                suspicious = chunk[max(exc.start - 20000, 0) : exc.start + 20000]
                break
        else:
            try:
                decoder.decode(b"", final=True)
                return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
            except UnicodeDecodeError:
                suspicious = head
    guess = from_bytes(head[:200000] + b"\n" + suspicious).best()
    name = codecs.lookup(guess.encoding).name.replace("-", "_") if guess else "cp1252"
    if name in LATIN_FAMILY or name.startswith("iso8859") or name.startswith("mac_"):
        name = "cp1252"
    for candidate in (name, "cp1252"):
        if _decodes(path, candidate):
            return candidate
    return "latin-1"


def _decodes(path: str, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(SAMPLE_BYTES):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_delimiter(text: str) -> str:
    lines = "\n".join(line for line in text.splitlines()[:50] if line.strip())
    try:
        return csv.Sniffer().sniff(lines, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = text.splitlines()[0]
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _count_lines(path: str, size: int) -> int:
    lines = 0
    last = b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(8 * SAMPLE_BYTES):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (0 if last == b"\n" else 1)


def _header_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        name = name or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _cell_text(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _number_text(value: float) -> str:
    """A spreadsheet number as Excel shows it: 15 significant digits, no exponent.

    A formula's cached value carries binary noise (=10.1*3 is 30.299999999999997); Excel
    displays, and means, 30.3."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.15g}"
    return format(Decimal(text), "f") if "e" in text else text


def file_chunks(*, path: str, info: FileInfo, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Yield the rows as text frames of at most `chunk_rows`, indexed by file row number."""
    if info.format == "xlsx":
        yield from _xlsx_chunks(path, info, chunk_rows)
    else:
        yield from _csv_chunks(path, info, chunk_rows)


def _blank(chunk: pd.DataFrame) -> pd.Series:
    """Rows whose cells are all empty or whitespace (",,,,," left behind by Excel). Only rows
    whose first cell is blank are looked at further (cheap: most files have none)."""
    if chunk.empty or not len(chunk.columns):
        return pd.Series(False, index=chunk.index)
    first = chunk.iloc[:, 0]
    blank = (first == "") | first.str.isspace()
    if not blank.any():
        return blank
    for column in chunk.columns[1:]:
        rows = blank[blank].index
        blank.loc[rows] = chunk.loc[rows, column].str.strip() == ""
        if not blank.any():
            break
    return blank


def _text_rows(
    path: str, *, names: list[str], skip: int, chunk_rows: int, sep: str = ",", encoding="utf-8"
) -> Iterator[pd.DataFrame]:
    """Text frames of a delimited file after its first `skip` lines, indexed by the file's
    row numbers (blank lines kept in the count, so the index stays the file's row number)."""
    reader = pd.read_csv(
        path,
        sep=sep,
        encoding=encoding,
        dtype=TEXT,
        keep_default_na=False,
        na_filter=False,
        chunksize=chunk_rows,
        header=None,
        skiprows=skip,
        names=names,
        skip_blank_lines=False,
        engine="c",
    )
    start = skip + 1
    for chunk in reader:
        chunk.index = pd.RangeIndex(start, start + len(chunk))
        start += len(chunk)
        yield chunk.fillna("")


def _csv_chunks(path: str, info: FileInfo, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        for chunk in _text_rows(
            path,
            names=info.columns,
            skip=info.header_row,
            chunk_rows=chunk_rows,
            sep=info.delimiter,
            encoding=info.encoding,
        ):
            blank = _blank(chunk)
            yield chunk[~blank] if blank.any() else chunk
    except UnicodeDecodeError as exc:
        raise DomainError(
            "encoding_error",
            f"The file is not valid {info.encoding}; choose its encoding.",
            details={"encoding": info.encoding},
        ) from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise DomainError("malformed_file", f"The CSV cannot be read: {exc}".strip()) from exc


def _xlsx_chunks(path: str, info: FileInfo, chunk_rows: int) -> Iterator[pd.DataFrame]:
    meta, rows_path = _load_sheet(path, info.sheet)
    columns = info.columns[: meta["width"]]
    typed = [TYPED + c for c in columns]
    names = columns + typed
    for chunk in _text_rows(rows_path, names=names, skip=info.header_row, chunk_rows=chunk_rows):
        flags = chunk[typed] == "1"
        chunk = chunk[columns]
        blank = _blank(chunk)
        flags = flags.loc[:, flags.any()]
        if len(flags.columns):
            chunk = pd.concat([chunk, flags], axis=1)
        yield chunk[~blank] if blank.any() else chunk


def file_preview(*, path: str, info: FileInfo, rows: int = 10) -> pd.DataFrame:
    """The first rows as the import will read them."""
    for chunk in file_chunks(path=path, info=info, chunk_rows=rows):
        return chunk
    return pd.DataFrame(columns=info.columns)
