"""Read an export file as text rows into DuckDB, keeping each row's number in the file.

CSV (and .txt/.tsv) is decoded in chunks as it streams (UTF-8, UTF-8 with BOM, GBK/GB18030,
UTF-16, declared or detected on a sample). Workbooks (.xls, and .xlsx up to
``STREAM_XLSX_BYTES``) are read with calamine, which loads the sheet; a larger .xlsx is
streamed row by row from its sheet XML with openpyxl's read-only mode, so memory stays bounded
whatever the row count. Rows go to DuckDB in Arrow batches, so memory holds one batch, never
the file as Python objects. The header row is found by the profile's expected headers (title
rows above it are skipped); two header rows combine (a caption merged over a group of
columns); merged cells of a workbook take their top-left value (streamed: in the header rows
only, where an empty upper header cell takes the caption on its left).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa

from tiering.sources.profiles import EntitySpec

RAW_TABLE = "_source_raw"
BATCH_ROWS = 50_000
SAMPLE_BYTES = 1 << 16
HEADER_SCAN_ROWS = 50
GB = "gb18030"  # a superset of GBK and GB2312: read them all as it
# An .xlsx (or .xlsm) file larger than this is streamed with openpyxl instead of loaded whole by
# calamine. Calamine peaks near 20x the file's size in memory; the streamed reader's own memory
# stays flat (under 100 MiB) but reads 6-8 times slower. See docs/sources.md "Large files" for
# the measurements this rests on.
STREAM_XLSX_BYTES = 16 * 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"


class SourceReadError(ValueError):
    """The file cannot be read as the profile says; the message names the file."""


@dataclass
class RawFile:
    headers: list[str]  # one per column, as exported (combined when two header rows)
    header_row: int  # the file's row number (1-based) of the last header row
    sheet: str | None
    encoding: str | None
    rows: int  # data rows read (blank rows included)


def clean_header(text: str) -> str:
    """A header as compared: no surrounding space or line breaks, no leading * (Kingdee's required mark)."""
    return " ".join(str(text).split()).lstrip("*").strip()


def detect_encoding(path: Path, declared: str = "auto") -> str:
    """The file's text encoding: declared, or by byte-order mark, UTF-8 validity, then charset-normalizer."""
    if declared != "auto":
        name = codecs.lookup(declared).name
        return GB if name in ("gbk", "gb2312", "gb18030", "cp936") else declared
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < SAMPLE_BYTES)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" not in sample:
        # Chinese desktop exports: GBK/GB18030. Tried before guessing, which can take short
        # GBK text for Korean or Japanese.
        try:
            codecs.getincrementaldecoder(GB)().decode(sample, final=len(sample) < SAMPLE_BYTES)
            return GB
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise SourceReadError(f"{path.name}: the text encoding cannot be detected; declare `encoding` in the profile")
    name = codecs.lookup(best.encoding).name
    if name in ("gbk", "gb2312", "gb18030", "cp936", "hz", "big5") or "gb" in name:
        return GB
    return name


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d") if value.time() == dt.time() else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _csv_rows(path: Path, spec: EntitySpec, encoding: str) -> Iterator[tuple[int, list[str | None]]]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    delimiter = "\t" if path.name.lower().endswith(".tsv") and spec.delimiter == "," else spec.delimiter
    with opener(path, "rb") as binary:
        text = io.TextIOWrapper(binary, encoding=encoding, newline="")
        reader = csv.reader(text, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
        number = 0
        try:
            for record in reader:
                number += 1
                yield number, [field if field != "" else None for field in record]
        except UnicodeDecodeError as error:
            raise SourceReadError(
                f"{path.name}, row {number + 1}: not {encoding.upper()} text ({error.reason}); "
                "declare the file's `encoding` in the profile"
            ) from None
        except csv.Error as error:
            raise SourceReadError(f"{path.name}, row {number + 1}: cannot be read as CSV ({error})") from None


def _streams(path: Path) -> bool:
    """Whether the workbook is streamed with openpyxl: an .xlsx/.xlsm (a zip) above the threshold."""
    if path.name.lower().endswith((".xls", ".xlsb")) or path.stat().st_size <= STREAM_XLSX_BYTES:
        return False
    with open(path, "rb") as handle:
        return handle.read(4) == ZIP_MAGIC


def _streamed_workbook_rows(path: Path, spec: EntitySpec) -> tuple[str, Iterator[tuple[int, list[str | None]]]]:
    """The sheet's rows parsed from its XML as it is read: one row in memory at a time.

    Row numbers are the sheet's own (the row Excel shows). Blank rows between data rows are
    kept; blank rows before the first and after the last non-empty row are not (as calamine).
    Merged ranges are written after the rows in the sheet XML, so merged cells keep only their
    top-left value here; ``_combine`` fills the header rows from the left instead.
    """
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise SourceReadError(f"{path.name}: cannot be read as a workbook ({error})") from None
    names = workbook.sheetnames
    if isinstance(spec.sheet, int):
        if spec.sheet >= len(names):
            workbook.close()
            raise SourceReadError(f"{path.name}: no sheet {spec.sheet} (from 0); sheets: {', '.join(names)}")
        name = names[spec.sheet]
    else:
        if spec.sheet not in names:
            workbook.close()
            raise SourceReadError(f"{path.name}: no sheet named {spec.sheet!r}; sheets: {', '.join(names)}")
        name = spec.sheet
    sheet = workbook[name]
    # The <dimension> a writer declares can be wrong or missing: read what the XML holds.
    sheet.reset_dimensions()

    def rows() -> Iterator[tuple[int, list[str | None]]]:
        started = False
        number = 0
        blank_from = None  # the first of the blank rows since the last non-empty one
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [_cell_text(value) for value in values]
                if all(cell is None for cell in cells):
                    if started and blank_from is None:
                        blank_from = number
                    continue
                if blank_from is not None:
                    for blank in range(blank_from, number):
                        yield blank, []
                    blank_from = None
                started = True
                yield number, cells
        except (zipfile.BadZipFile, SyntaxError, ValueError, KeyError, EOFError) as error:
            raise SourceReadError(f"{path.name}, row {number}: cannot be read as a workbook ({error})") from None
        finally:
            workbook.close()

    return name, rows()


def _workbook_rows(path: Path, spec: EntitySpec) -> tuple[str, Iterator[tuple[int, list[str | None]]]]:
    if _streams(path):
        return _streamed_workbook_rows(path, spec)
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = workbook.sheet_names
        if isinstance(spec.sheet, int):
            if spec.sheet >= len(names):
                raise SourceReadError(f"{path.name}: no sheet {spec.sheet} (from 0); sheets: {', '.join(names)}")
            sheet = workbook.get_sheet_by_index(spec.sheet)
        else:
            if spec.sheet not in names:
                raise SourceReadError(f"{path.name}: no sheet named {spec.sheet!r}; sheets: {', '.join(names)}")
            sheet = workbook.get_sheet_by_name(spec.sheet)
    except CalamineError as error:
        raise SourceReadError(f"{path.name}: cannot be read as a workbook ({error})") from None

    def rows() -> Iterator[tuple[int, list[str | None]]]:
        # calamine's iter_rows starts at the sheet's first row (empty rows above the data
        # included) but at the data's first column: pad the columns so that positions, like
        # the merged ranges, count from column A and row 1.
        first_row, first_column = sheet.start or (0, 0)
        merged = sheet.merged_cell_ranges or []
        # Merged cells: every cell of the range takes the value of its top-left cell.
        tops: dict[tuple[int, int], str | None] = {}
        for number, row in enumerate(sheet.iter_rows()):
            if number < first_row:
                continue  # the empty rows above the data
            cells = [None] * first_column + [_cell_text(value) for value in row]
            for (r0, c0), (r1, c1) in merged:
                if r0 <= number <= r1:
                    if number == r0:
                        tops[(r0, c0)] = cells[c0] if c0 < len(cells) else None
                    value = tops.get((r0, c0))
                    for column in range(c0, min(c1 + 1, len(cells))):
                        cells[column] = value
            yield number + 1, cells

    return sheet.name, rows()


def _expected_headers(spec: EntitySpec) -> set[str]:
    expected = set()
    for name in spec.columns:
        column = spec.column(name)
        expected.update(column.headers)
        expected.update(column.add_headers)
        if column.override:
            expected.update(column.override.headers)
    expected.update(spec.fill_down)
    return {clean_header(header).lower() for header in expected}


def _combine(upper: list[str | None], lower: list[str | None], fill_left: bool = False) -> list[str]:
    """Two header rows as one: the lower caption, or the one above it where the lower is empty.

    ``fill_left``: merged ranges are unknown (a streamed workbook), so an empty upper cell takes
    the caption on its left, as a caption merged across a group of columns would give it. Only
    within the upper row's cells as written (an Excel merge writes its covered cells blank).
    """
    if fill_left:
        upper = list(upper)
        for column in range(1, len(upper)):
            if upper[column] is None:
                upper[column] = upper[column - 1]
    width = max(len(upper), len(lower))
    upper = upper + [None] * (width - len(upper))
    lower = lower + [None] * (width - len(lower))
    return [clean_header(low if low else (up or "")) for up, low in zip(upper, lower, strict=True)]


def _find_header(
    path: Path, spec: EntitySpec, head: list[tuple[int, list[str | None]]], fill_left: bool = False
) -> int:
    """The index in ``head`` of the (last) header row."""
    span = spec.header_rows
    if spec.header_row != "auto":
        for index, (number, _) in enumerate(head):
            if number == spec.header_row + span - 1:
                return index
        raise SourceReadError(f"{path.name}: no row {spec.header_row} (header_row in the profile)")
    expected = _expected_headers(spec)
    best, best_hits = None, 0
    for index in range(span - 1, len(head)):
        cells = head[index][1] if span == 1 else _combine(head[index - 1][1], head[index][1], fill_left)
        hits = len({clean_header(cell).lower() for cell in cells if cell} & expected)
        if hits > best_hits:
            best, best_hits = index, hits
    if best is None:
        raise SourceReadError(
            f"{path.name}: no header row found in the first {HEADER_SCAN_ROWS} rows: none holds any of the "
            f"profile's headers ({', '.join(sorted(expected)[:6])} …)"
        )
    return best


def read_raw(connection: duckdb.DuckDBPyConnection, path: Path, spec: EntitySpec) -> RawFile:
    """Read the file's data rows into the temp table ``_source_raw`` (``_row``, ``_fields``, c0 … cN)."""
    lowered = path.name.lower()
    is_workbook = spec.format == "xlsx" or (spec.format == "auto" and lowered.endswith((".xlsx", ".xlsm", ".xls")))
    fill_left = False  # merged ranges unknown: the header rows are filled from the left
    if is_workbook:
        encoding = None
        fill_left = _streams(path)
        sheet, rows = _workbook_rows(path, spec)
    else:
        sheet = None
        encoding = detect_encoding(path, spec.encoding)
        rows = _csv_rows(path, spec, encoding)
    head: list[tuple[int, list[str | None]]] = []
    for item in rows:
        head.append(item)
        if len(head) >= HEADER_SCAN_ROWS:
            break
    if not head:
        raise SourceReadError(f"{path.name}: the file is empty; expected a header row")
    at = _find_header(path, spec, head, fill_left)
    header_cells = head[at][1] if spec.header_rows == 1 else _combine(head[at - 1][1], head[at][1], fill_left)
    headers = [clean_header(cell or "") for cell in header_cells]
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    names = ["_row", "_fields", *(f"c{i}" for i in range(width))]
    schema = pa.schema([("_row", pa.int64()), ("_fields", pa.int32())] + [(f"c{i}", pa.string()) for i in range(width)])
    connection.execute(f"drop table if exists {RAW_TABLE}")
    connection.execute(
        f"create temp table {RAW_TABLE} (_row bigint, _fields integer, "
        + ", ".join(f"c{i} varchar" for i in range(width))
        + ")"
    )

    def data() -> Iterator[tuple[int, list[str | None]]]:
        yield from head[at + 1 :]
        yield from rows

    count = 0
    batch: list[tuple[int, list[str | None]]] = []

    def flush() -> None:
        columns = [[number for number, _ in batch], [_fields(cells) for _, cells in batch]]
        for i in range(width):
            columns.append([cells[i] if i < len(cells) else None for _, cells in batch])
        arrow_batch = pa.Table.from_arrays(
            [pa.array(c, type=schema.field(j).type) for j, c in enumerate(columns)], names=names
        )
        connection.register("_source_batch", arrow_batch)
        connection.execute(f"insert into {RAW_TABLE} select * from _source_batch")
        connection.unregister("_source_batch")
        batch.clear()

    for item in data():
        batch.append(item)
        count += 1
        if len(batch) >= BATCH_ROWS:
            flush()
    if batch:
        flush()
    return RawFile(headers=headers, header_row=head[at][0], sheet=sheet, encoding=encoding, rows=count)


def _fields(cells: list[str | None]) -> int:
    """Fields up to the last non-empty one."""
    for index in range(len(cells) - 1, -1, -1):
        if cells[index] is not None:
            return index + 1
    return 0
