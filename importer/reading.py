"""Reading uploaded files: format, encoding and delimiter detection, and chunked reading.

Every cell comes out as text ("" when empty) so that validation sees exactly what the file
holds; the index of each chunk is the row number in the file (the header is row 1).
"""

import codecs
import csv
import functools
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import pandas as pd
from charset_normalizer import from_bytes

from config.errors import DomainError

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


@dataclass
class FileInfo:
    format: str  # csv | xlsx
    columns: list[str]
    rows_estimate: int
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    sheets: list[str] = field(default_factory=list)


def _unreadable(message: str) -> DomainError:
    return DomainError("unreadable_file", message)


def file_sniff(*, path: str, encoding: str = "", delimiter: str = "", sheet: str = "") -> FileInfo:
    """Recognise the file (CSV or spreadsheet), its encoding, delimiter and header row."""
    size = os.path.getsize(path)
    if size == 0:
        raise DomainError("empty_file", "The file is empty.")
    with open(path, "rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if head[:4] == b"PK\x03\x04" or head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return _sniff_spreadsheet(path, sheet)
    return _sniff_csv(path, head, size, encoding, delimiter)


@functools.lru_cache(maxsize=1)
def _workbook(path: str, stamp: tuple[int, int]) -> tuple[Any, dict[str, Any]]:
    """(workbook, its loaded sheet by name). calamine reads a whole sheet at once, so the last
    one is kept: sniffing and reading the same upload parse it once, not once per call."""
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(path), {}


def _load_sheet(path: str, sheet: str) -> tuple[list[str], str, Any]:
    """(sheet names, chosen name, loaded sheet)."""
    status = os.stat(path)
    workbook, loaded = _workbook(path, (status.st_mtime_ns, status.st_size))
    names = list(workbook.sheet_names)
    if sheet and sheet not in names:
        raise DomainError(
            "unknown_sheet", f"The workbook has no sheet {sheet!r}.", details={"sheets": names}
        )
    chosen = sheet or names[0]
    if chosen not in loaded:
        loaded.clear()  # one sheet in memory at a time
        loaded[chosen] = workbook.get_sheet_by_name(chosen)
    return names, chosen, loaded[chosen]


def file_release() -> None:
    """Forget the spreadsheet kept in memory (after the last stage that reads the file)."""
    _workbook.cache_clear()


def _sniff_spreadsheet(path: str, sheet: str) -> FileInfo:
    try:
        names, chosen, loaded = _load_sheet(path, sheet)
        rows = loaded.iter_rows()
        header = next((r for r in rows if any(_cell_text(c) for c in r)), None)
        height = loaded.height
    except DomainError:
        raise
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise _unreadable(f"This is not a readable spreadsheet ({exc}).") from exc
    if header is None:
        raise DomainError("empty_file", f"Sheet {chosen!r} is empty.")
    columns = _header_names([_cell_text(c) for c in header])
    return FileInfo("xlsx", columns, max(height - 1, 0), sheet=chosen, sheets=names)


def _looks_binary(sample: bytes) -> bool:
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample[:65536] if b < 9 or 13 < b < 32 or b == 127)
    return controls > len(sample[:65536]) * 0.01


def _sniff_csv(path: str, head: bytes, size: int, encoding: str, delimiter: str) -> FileInfo:
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
    if not delimiter:
        delimiter = detect_delimiter(text)
    elif delimiter in ("\\t", "tab"):
        delimiter = "\t"
    if len(delimiter) != 1:
        raise DomainError("invalid_delimiter", "The delimiter must be one character.")
    header_line = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    columns = _header_names([c.strip() for c in header_line])
    if not any(columns):
        raise DomainError("empty_file", "The file has no header row.")
    return FileInfo("csv", columns, _count_lines(path, size) - 1, encoding, delimiter)


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
    lines = "\n".join(text.splitlines()[:50])
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
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def file_chunks(*, path: str, info: FileInfo, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Yield the rows as text frames of at most `chunk_rows`, indexed by file row number."""
    if info.format == "xlsx":
        yield from _xlsx_chunks(path, info, chunk_rows)
    else:
        yield from _csv_chunks(path, info, chunk_rows)


def _csv_chunks(path: str, info: FileInfo, chunk_rows: int) -> Iterator[pd.DataFrame]:
    start = 2
    try:
        reader = pd.read_csv(
            path,
            sep=info.delimiter,
            encoding=info.encoding,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            chunksize=chunk_rows,
            header=0,
            names=info.columns,
            skip_blank_lines=True,
            engine="c",
        )
        for chunk in reader:
            chunk.index = pd.RangeIndex(start, start + len(chunk))
            start += len(chunk)
            yield chunk.fillna("")
    except UnicodeDecodeError as exc:
        raise DomainError(
            "encoding_error",
            f"The file is not valid {info.encoding}; choose its encoding.",
            details={"encoding": info.encoding},
        ) from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise DomainError("malformed_file", f"The CSV cannot be read: {exc}".strip()) from exc


def _xlsx_chunks(path: str, info: FileInfo, chunk_rows: int) -> Iterator[pd.DataFrame]:
    width = len(info.columns)
    rows = _load_sheet(path, info.sheet)[2].iter_rows()
    header_seen = False
    batch: list[list[str]] = []
    numbers: list[int] = []
    row_number = 0
    for raw in rows:
        row_number += 1
        cells = [_cell_text(c) for c in raw]
        if not header_seen:
            header_seen = any(cells)
            continue
        if not any(cells):
            continue
        batch.append((cells + [""] * width)[:width])
        numbers.append(row_number)
        if len(batch) >= chunk_rows:
            yield pd.DataFrame(batch, columns=info.columns, index=numbers)
            batch, numbers = [], []
    if batch:
        yield pd.DataFrame(batch, columns=info.columns, index=numbers)


def file_preview(*, path: str, info: FileInfo, rows: int = 10) -> pd.DataFrame:
    """The first rows as the import will read them."""
    for chunk in file_chunks(path=path, info=info, chunk_rows=rows):
        return chunk
    return pd.DataFrame(columns=info.columns)
