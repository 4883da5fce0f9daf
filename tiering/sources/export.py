"""Write canonical extract files in a profile's export format: the profile read backwards.

The demo generator uses it (``tiering generate --profile kingdee``) so the same demo firms can
run through any profile. Headers, value maps, date formats, units, id prefixes, title rows,
total rows, footers, encodings and workbooks follow the profile's ``demo`` block; a value that
does not convert (the demo's planted defects) is written as it is, so it is quarantined as
it would be from the canonical file.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb

from tiering.ingest.contract import ENTITIES, Column
from tiering.sources.profiles import ColumnSpec, EntitySpec, Profile
from tiering.sql import literal


def _plain(expression: str) -> str:
    """A decimal as text without trailing zeros."""
    return f"regexp_replace(regexp_replace(cast({expression} as varchar), '(\\.[0-9]*?)0+$', '\\1'), '\\.$', '')"


_NUMBER = "'[+-]?[0-9]+(\\.[0-9]+)?'"


def _inverse(column: Column, spec: ColumnSpec, rate: str) -> list[tuple[str, str]]:
    """(header, SQL) pairs that write one canonical column in the profile's form."""
    if spec.value is not None or spec.sequence_within:
        return []
    value = f"nullif({column.name}, '')"
    if column.sql_type in ("DATE", "TIMESTAMP") and spec.formats:
        first = spec.formats[0]
        parsed = f"try_cast({value} as timestamp)"
        if first == "epoch_ms":
            text = f"cast(epoch_ms({parsed} - interval 8 hour) as varchar)"
        elif first == "excel_serial":
            text = "null"
        else:
            text = f"strftime({parsed}, {literal(first)})"
        value = f"coalesce({text}, {value})"
    if column.sql_type.startswith(("DECIMAL", "INTEGER")):
        factor = (10000.0 if spec.unit == "万元" else 1.0) * (spec.scale or 1.0)
        valid = f"regexp_full_match({value}, {_NUMBER})"
        if spec.add is not None:
            # Net and tax that add up to the amount to the cent, at the row's VAT rate.
            gross = f"cast({value} as decimal(18,2))"
            net = f"cast(round({gross} / (1 + cast({rate} as decimal(10,6))), 2) as decimal(18,2))"
            return [
                (spec.headers[0], f"case when {valid} then {_plain(net)} else {value} end"),
                (spec.add_headers[0], f"case when {valid} then {_plain(f'{gross} - {net}')} else null end"),
            ]
        if factor != 1.0:
            # Multiplied by the inverse in DECIMAL (a division would be a DOUBLE).
            per_unit = f"cast({literal(repr(1 / factor))} as decimal(18,6))"
            value = f"case when {valid} then {_plain(f'cast({value} as decimal(20,8)) * {per_unit}')} else {value} end"
    if spec.strip_prefix:
        value = f"{literal(spec.strip_prefix)} || {value}"
    pairs = []
    if spec.map:
        inverse: dict[str, str] = {}
        for key, mapped in spec.map.items():
            inverse.setdefault(mapped, key)
        cases = " ".join(
            f"when {literal(mapped)} then {literal(key) if key else 'null'}" for mapped, key in inverse.items()
        )
        main = f"case {column.name} {cases} else {value} end"
        if spec.override:
            base = next(iter(spec.map))
            flag = spec.override.values[0] if spec.override.values else (spec.override.example or "X")
            cancelled = f"{column.name} = {literal(spec.override.value)}"
            main = f"case when {cancelled} then {literal(base) if base else 'null'} else {main} end"
            otherwise = literal(spec.override.otherwise) if spec.override.otherwise else "null"
            other = f"case when {cancelled} then {literal(flag)} else {otherwise} end"
            pairs.append((spec.override.headers[0], other))
        value = main
    return [(spec.headers[0], value), *pairs]


def _select(spec: EntitySpec, entity: str, source: str) -> tuple[list[str], str]:
    contract = ENTITIES[entity]
    rate_spec = spec.column("tax_rate")
    rate = "nullif(tax_rate, '')" if rate_spec else "'0'"
    pairs: list[tuple[str, str]] = []
    for column in contract.columns:
        column_spec = spec.column(column.name)
        if column_spec is not None:
            pairs.extend(_inverse(column, column_spec, rate))
    if spec.demo and spec.demo.blank_repeats and spec.fill_down:
        key = next(sql for header, sql in pairs if header == spec.fill_down[0])
        repeated = f"({key}) is not distinct from lag({key}) over (order by _ordinal)"
        pairs = [
            (header, f"case when {repeated} then null else {sql} end" if header in spec.fill_down else sql)
            for header, sql in pairs
        ]
    headers = [header for header, _ in pairs]
    select = ", ".join(f"{sql} as c{i}" for i, (_, sql) in enumerate(pairs))
    return headers, f"select {select} from (select *, row_number() over () as _ordinal from {source}) order by _ordinal"


def export_entity(
    connection: duckdb.DuckDBPyConnection,
    canonical_file: Path,
    profile: Profile,
    entity: str,
    out_dir: Path,
    as_of: date,
) -> Path:
    """Write one canonical file as ``profile`` exports ``entity``; the path written."""
    spec = profile.spec.entities[entity]
    demo = spec.demo
    if demo is None:
        raise ValueError(f"{profile.path.name}: entities.{entity}.demo: no demo block; the generator cannot write it")
    source = f"read_csv('{str(canonical_file).replace(chr(39), chr(39) * 2)}', header = true, all_varchar = true)"
    headers, sql = _select(spec, entity, source)
    path = out_dir / demo.file.format(date=as_of.isoformat())
    titles = [title.format(date=as_of.isoformat()) for title in demo.title]
    reader = connection.sql(sql).to_arrow_reader(50_000)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        _write_xlsx(path, headers, titles, reader, demo.total)
    else:
        _write_text(path, headers, titles, reader, spec, demo)
    return path


def _rows(reader):
    for batch in reader:
        columns = [column.to_pylist() for column in batch.columns]
        yield from zip(*columns, strict=True)


def _write_text(path: Path, headers, titles, reader, spec: EntitySpec, demo) -> None:
    delimiter = "\t" if spec.delimiter == "\\t" else spec.delimiter
    with path.open("w", encoding=demo.encoding, newline="") as handle:
        writer = csv.writer(
            handle,
            delimiter=delimiter,
            lineterminator="\r\n" if demo.crlf else "\n",
            quoting=csv.QUOTE_ALL if demo.quote_all else csv.QUOTE_MINIMAL,
        )
        for title in titles:
            writer.writerow([title])
        writer.writerow(headers)
        for row in _rows(reader):
            writer.writerow(["" if value is None else value for value in row])
        if demo.total:
            writer.writerow(["合计"] + [""] * (len(headers) - 1))
        if demo.footer:
            writer.writerow([])
            for line in demo.footer:
                writer.writerow([line])


def _write_xlsx(path: Path, headers, titles, reader, total: bool) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    sheet = workbook.add_worksheet(path.stem.split("_")[0][:31])
    row = 0
    for title in titles:
        if len(headers) > 1:
            sheet.merge_range(row, 0, row, len(headers) - 1, title)
        else:
            sheet.write_string(row, 0, title)
        row += 1
    sheet.write_row(row, 0, headers)
    row += 1
    for values in _rows(reader):
        for column, value in enumerate(values):
            if value is not None:
                sheet.write_string(row, column, value)
        row += 1
    if total:
        sheet.write_string(row, 0, "合计")
    workbook.close()


def export_extracts(canonical_dir: Path, out_dir: Path, profiles: list[Profile], as_of: date) -> dict[str, Path]:
    """Each canonical ``<entity>*.csv`` in ``canonical_dir`` written by the first of ``profiles``
    that has the entity, into ``out_dir``; an entity none has is copied as it is."""
    import shutil

    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    with duckdb.connect() as connection:
        for entity in ENTITIES:
            files = sorted(canonical_dir.glob(f"{entity}*.csv"))
            if not files:
                continue
            owner = next((profile for profile in profiles if entity in profile.spec.entities), None)
            if owner is None:
                target = out_dir / files[0].name
                if target.resolve() != files[0].resolve():
                    shutil.copyfile(files[0], target)
                written[entity] = target
            else:
                written[entity] = export_entity(connection, files[0], owner, entity, out_dir, as_of)
    return written
