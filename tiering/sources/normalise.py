"""Normalise: one export file, matched to a profile's entity, becomes the contract's text
relation inside DuckDB (``_landing_source``: the contract's columns as text, ``_source_row``
the row's number in the file, ``_pre_reason`` why a row is excluded or unreadable).

Everything a profile says is SQL over the raw text: headers renamed, codes mapped, dates
parsed by the profile's formats, numbers stripped of ¥, thousands separators and currency
prefixes, 万元 turned into 元, percent rates into fractions, net amounts grossed up by the
row's VAT rate. A value the profile cannot convert passes through as exported, so the
contract's checks quarantine it with the file, row, column and the value itself. Total rows
(合计) and report footers are kept with a reason beginning ``excluded:``; they reach the
quarantine, never the raw table, and rows still reconcile.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from tiering.ingest.contract import ENTITIES, Column
from tiering.sources.profiles import Binding, ColumnSpec
from tiering.sources.read import RAW_TABLE, RawFile, SourceReadError, clean_header, read_raw
from tiering.sql import literal

SOURCE_TABLE = "_landing_source"
ISO_FIRST = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
BOOLEAN_WORDS = {
    "true": "true", "false": "false", "1": "true", "0": "false", "yes": "true", "no": "false",
    "y": "true", "n": "false", "是": "true", "否": "false", "启用": "true", "禁用": "false",
}  # fmt: skip


class HeaderError(SourceReadError):
    """A header the profile expects is not in the file."""


@dataclass
class Normalised:
    binding: Binding
    raw: RawFile
    mapping: dict[str, str] = field(default_factory=dict)  # contract column → what fills it
    ignored: list[str] = field(default_factory=list)  # exported headers no column uses

    @property
    def reason_prefix(self) -> str:
        return f"sheet {self.raw.sheet}: " if self.raw.sheet else ""


class _Columns:
    """Exported headers → raw column references, with the error for a missing one."""

    def __init__(self, path: Path, binding: Binding, raw: RawFile):
        self.path, self.binding, self.raw = path, binding, raw
        self.index = {}
        for position, header in enumerate(raw.headers):
            self.index.setdefault(clean_header(header).lower(), position)
        self.used: set[int] = set()

    def find(self, headers: list[str], column: str, *, optional: bool = False) -> str | None:
        for header in headers:
            position = self.index.get(clean_header(header).lower())
            if position is not None:
                self.used.add(position)
                return f"c{position}"
        if optional:
            return None
        present = [header for header in self.raw.headers if header]
        closest = difflib.get_close_matches(headers[0], present, n=1, cutoff=0.3)
        hint = (
            f"; the closest header present is {closest[0]!r}" if closest else f"; headers present: {', '.join(present)}"
        )
        where = f"sheet {self.raw.sheet}, " if self.raw.sheet else ""
        raise HeaderError(
            f"{self.path.name}: {where}row {self.raw.header_row} (header): expected header "
            f"{' or '.join(repr(h) for h in headers)} for {column} ({self.binding.label}) is missing{hint}"
        )


def _text(reference: str) -> str:
    return f"nullif(trim({reference}), '')"


def _number_clean(value: str) -> str:
    """Digits, sign and point: ¥/￥, thousands separators, spaces, %, currency prefixes removed;
    a trailing minus (SAP) or parentheses (finance reports) made a leading minus."""
    bare = f"regexp_replace(regexp_replace({value}, '^(CNY|RMB|USD|EUR|HKD)\\s*', '', 'i'), '[¥￥\\s%　]', '', 'g')"
    # Commas only as thousands separators (1,234,567.89); 1,0 is no number we can trust.
    stripped = (
        f"(case when regexp_full_match({bare}, '[(+-]?[0-9]{{1,3}}(,[0-9]{{3}})+(\\.[0-9]+)?[)-]?') "
        f"then replace({bare}, ',', '') else {bare} end)"
    )
    return (
        f"(case when regexp_full_match({stripped}, '\\(([0-9.]+)\\)') then '-' || trim({stripped}, '()') "
        f"when regexp_full_match({stripped}, '[0-9.]+-') then '-' || rtrim({stripped}, '-') else {stripped} end)"
    )


_NUMBER = "'[+-]?[0-9]+(\\.[0-9]+)?'"


def _decimal_text(expression: str, column: Column) -> str:
    """A DECIMAL(38,10) as plain text; whole numbers without a point for an INTEGER column."""
    if column.sql_type in ("INTEGER", "BIGINT"):
        return (
            f"(case when {expression} = round({expression}) then cast(cast({expression} as bigint) as varchar) "
            f"else cast({expression} as varchar) end)"
        )
    return f"cast({expression} as varchar)"


def _parsed_time(value: str, formats: list[str]) -> str:
    strptime = [f for f in formats if "%" in f]
    parts = [f"try_cast({value} as timestamp)"]
    if strptime:
        parts.append(f"try_strptime({value}, [{', '.join(literal(f) for f in strptime)}])")
    if "excel_serial" in formats:
        parts.append(
            f"case when regexp_full_match({value}, '[0-9]{{1,6}}(\\.[0-9]+)?') then timestamp '1899-12-30' "
            f"+ to_microseconds(cast(round(cast({value} as double) * 86400000000) as bigint)) end"
        )
    if "epoch_ms" in formats:
        # Epoch milliseconds are UTC; the contract's times are Beijing time (UTC+8, no daylight saving).
        parts.append(
            f"case when regexp_full_match({value}, '[0-9]{{10,13}}') "
            f"then make_timestamp(cast({value} as bigint) * 1000) "
            "+ interval 8 hour end"
        )
    return f"coalesce({', '.join(parts)})"


def column_sql(column: Column, spec: ColumnSpec, columns: _Columns, entity_specs: dict) -> tuple[str, str]:
    """SQL for one contract column's text, and a description of where it comes from."""
    if spec.value is not None:
        return literal(spec.value), f"always {spec.value!r}"
    if spec.sequence_within:
        return "__sequence__", f"numbered within {spec.sequence_within} in file order"
    reference = columns.find(spec.headers, column.name, optional=spec.optional)
    if reference is None:
        return "cast(null as varchar)", f"{spec.headers[0]!r} (absent: empty)"
    described = [repr(columns.raw.headers[int(reference[1:])])]
    value = _text(reference)
    if spec.strip_prefix:
        prefix, rest = literal(spec.strip_prefix), len(spec.strip_prefix) + 1
        value = f"(case when starts_with({value}, {prefix}) then substr({value}, {rest}) else {value} end)"
        described.append(f"without {spec.strip_prefix!r}")
    mapping = spec.map
    if mapping is None and column.sql_type == "BOOLEAN":
        mapping = BOOLEAN_WORDS
        value_key = f"lower({value})"
    else:
        value_key = value
    if mapping:
        empty = mapping.get("")
        cases = " ".join(
            f"when {literal(key.lower() if value_key != value else key)} then {literal(val)}"
            for key, val in mapping.items()
            if key
        )
        value = f"(case {value_key} {cases} else {value} end)"
        if empty is not None:  # an empty cell means something (SAP: no deletion flag = active)
            value = f"coalesce({value}, {literal(empty)})"
        described.append(f"mapped ({len(mapping)} values)")
    if spec.override:
        other = _text(columns.find(spec.override.headers, column.name))
        if spec.override.values:
            condition = f"{other} in ({', '.join(literal(v) for v in spec.override.values)})"
            words = " or ".join(spec.override.values)
        else:
            condition, words = f"{other} is not null", "not empty"
        value = f"(case when {condition} then {literal(spec.override.value)} else {value} end)"
        described.append(f"{spec.override.value} when {spec.override.headers[0]!r} is {words}")
    sql_type = column.sql_type
    if sql_type in ("DATE", "TIMESTAMP"):
        formats = spec.formats or []
        parsed = _parsed_time(value, formats)
        out = "%Y-%m-%d" if sql_type == "DATE" else "%Y-%m-%d %H:%M:%S"
        value = f"coalesce(strftime({parsed}, '{out}'), {value})"
        if formats:
            described.append("dates " + " or ".join(formats))
    elif sql_type.startswith(("DECIMAL", "INTEGER", "BIGINT")):
        cleaned = _number_clean(value)
        addends = [cleaned]
        if spec.add is not None:
            added = columns.find(spec.add_headers, column.name)
            addends.append(f"coalesce({_number_clean(_text(added))}, '0')")
            described.append(f"+ {columns.raw.headers[int(added[1:])]!r}")
        factor = 1.0
        if spec.unit == "万元":
            factor *= 10000
            described.append("万元 × 10000")
        if spec.scale is not None:
            factor *= spec.scale
            described.append(f"× {spec.scale:g}")
        arithmetic = len(addends) > 1 or factor != 1.0 or not spec.includes_tax
        valid = " and ".join(f"regexp_full_match({a}, {_NUMBER})" for a in addends)
        if arithmetic:
            # Widths that keep the product a DECIMAL (wider ones would turn it into a DOUBLE).
            total = " + ".join(f"cast({a} as decimal(20,8))" for a in addends)
            number = f"({total})" if factor == 1.0 else f"(({total}) * cast({literal(repr(factor))} as decimal(18,6)))"
            if not spec.includes_tax:
                rate = entity_specs["tax_rate"]
                number = f"round({number} * (1 + coalesce(try_cast({rate} as decimal(10,6)), 0)), 2)"
                described.append("net of VAT × (1 + tax_rate)")
            value = f"(case when {valid} then {_decimal_text(number, column)} else {value} end)"
        else:
            value = f"(case when {valid} then {cleaned} else {value} end)"
    return value, ", ".join(described)


def normalise(connection: duckdb.DuckDBPyConnection, path: Path, binding: Binding) -> Normalised:
    """Read ``path`` as ``binding`` says into the temp table ``_landing_source``."""
    spec = binding.spec
    entity = ENTITIES[binding.entity]
    raw = read_raw(connection, path, spec)
    columns = _Columns(path, binding, raw)
    result = Normalised(binding, raw)
    expressions: dict[str, str] = {}
    # tax_rate first: a net amount is grossed up by it.
    order = sorted(entity.columns, key=lambda c: c.name != "tax_rate")
    for column in order:
        column_spec = spec.column(column.name)
        if column_spec is None:
            expressions[column.name] = "cast(null as varchar)"
            result.mapping[column.name] = "(not exported: empty)"
            continue
        expressions[column.name], result.mapping[column.name] = column_sql(column, column_spec, columns, expressions)
    for column in entity.columns:
        column_spec = spec.column(column.name)
        if column_spec is not None and column_spec.sequence_within:
            expressions[column.name] = (
                "cast(row_number() over "
                f"(partition by {expressions[column_spec.sequence_within]} order by _row) as varchar)"
            )
    fill = [columns.find([header], "fill_down", optional=True) for header in spec.fill_down]
    fill = [reference for reference in fill if reference]
    result.ignored = [h for i, h in enumerate(raw.headers) if h and i not in columns.used]

    width = len(raw.headers)
    cells = [f"c{i}" for i in range(width)]
    first_cell = f"coalesce({', '.join(cells)})" if cells else "null"
    filled = {c: c for c in cells}
    if fill:
        key = fill[0]
        for reference in fill:
            filled[reference] = f"first_value({reference}) over (partition by _fill_group order by _row)"
        group = f", count({key}) over (order by _row rows between unbounded preceding and current row) as _fill_group"
    else:
        group = ""
    reasons = [f"case when _fields > {width} then 'the row has ' || _fields || ' fields; the header has {width}' end"]
    if spec.totals:
        reasons.insert(
            0,
            f"case when regexp_matches(trim({first_cell}), {literal(spec.totals)}) then "
            f"'excluded: a total row (' || trim({first_cell}) || '), not data' end",
        )
    footer = ""
    if spec.stop_at_blank_row:
        footer = f"(select min(_row) from {RAW_TABLE} where _fields = 0)"
        reasons.insert(
            0, f"case when _row > {footer} then 'excluded: below the first blank row (a report footer), not data' end"
        )
    filled_cells = ", ".join(f"case when _pre_reason is null then {filled[c]} else {c} end as {c}" for c in cells)
    selected = ", ".join(f"{expressions[c.name]} as {c.name}" for c in entity.columns)
    connection.execute(f"drop table if exists {SOURCE_TABLE}")
    connection.execute(
        f"""
        create temp table {SOURCE_TABLE} as
        with marked as (
            select _row, _fields, {", ".join(cells) or "null as c0"},
                   coalesce({", ".join(reasons)}) as _pre_reason
            from {RAW_TABLE}
            where _fields > 0
        ),
        grouped as (
            select *{group} from marked
        ),
        data as (
            select _row, _fields, _pre_reason, {filled_cells}
            from grouped
        )
        select {selected}, _row as _source_row, _pre_reason
        from data
        order by _row
        """
    )
    connection.execute(f"drop table if exists {RAW_TABLE}")
    return result
