"""The contract at the door, in SQL: each raw text value cast to its column's type, and a reason
for every value that is not exactly what the contract allows (``tiering.ingest.contract``).

A column gives a typed expression and a list of reason expressions, each null when its rule
holds, over the text of the field (``src.<column>``, trimmed, empty as null). The checks are
written for 21 million rows: string positions and casts for every row, and the costlier
regular expressions once per row over all its fields, with the per-column reason worked out
only for the rare row that breaks one.
"""

from __future__ import annotations

from dataclasses import dataclass

from tiering.ingest.contract import EARLIEST_DATE, LATEST_DATE, Column, Entity

NUMERIC_PREFIXES = ("INTEGER", "BIGINT", "DECIMAL")
_CONTROL_CHARACTERS = r"\x00-\x1F\x7F"
_CONTROL = f"[{_CONTROL_CHARACTERS}]"
# What a number may hold: digits, a sign and a point.
_NUMBER_CHARACTERS = "0-9.+-"


def text(column: str) -> str:
    """The field's text, trimmed, empty as null; a plain row's fields need no trimming."""
    return f"nullif(case when src._plain then src.{column} else trim(src.{column}) end, '')"


def _quoted(expression: str) -> str:
    """The value as it appears in a reason: 'value'."""
    return f"'''' || {expression} || ''''"


def _reason(column: str, message_sql: str) -> str:
    return f"'column {column}: ' || {message_sql}"


@dataclass(frozen=True)
class ColumnCheck:
    typed: str  # SQL: the typed value
    reasons: list[str]  # SQL: each a reason or null


def _numeric_scale(sql_type: str) -> int:
    if sql_type.startswith("DECIMAL"):
        return int(sql_type.split(",")[1].rstrip(")").strip())
    return 0


def column_check(column: Column) -> ColumnCheck:
    value_text = text(column.name)
    sql_type = column.sql_type
    reasons: list[str] = []
    if sql_type == "VARCHAR":
        typed = value_text
        if column.allowed:
            allowed = ", ".join(f"'{code}'" for code in column.allowed)
            reasons.append(
                f"case when {value_text} is not null and lower({value_text}) not in ({allowed}) then "
                + _reason(column.name, f"{_quoted(value_text)} || ' is not one of {', '.join(column.allowed)}'")
                + " end"
            )
    else:
        typed = f"try_cast({value_text} as {sql_type})"
        invalid = f"{value_text} is not null and {typed} is null"
        # A value that casts is valid unless it holds what the contract refuses in a number.
        # Not written as "not (invalid)": DuckDB evaluates a negated condition in full, and the
        # regular expression would run on every row; here the row's flag guards it.
        typed_valid = f"{typed} is not null"
        if sql_type.startswith(NUMERIC_PREFIXES):
            # DuckDB's cast also reads 1_000, 1e3, 0x10 and rounds 1.6 to 2 or 1200.005 to
            # 1200.01; the contract takes digits, a sign and a point only.
            odd = f"regexp_matches({value_text}, '[^{_NUMBER_CHARACTERS}]')"
            invalid += f" or (src._has_odd_number and {odd})"
            typed_valid += f" and (not src._has_odd_number or not {odd})"
        reasons.append(
            f"case when {invalid} then "
            + _reason(column.name, f"{_quoted(value_text)} || ' is not a valid {sql_type}'")
            + " end"
        )
        # The other rules speak of a value that is valid: one reason per defect.
        if sql_type in ("INTEGER", "BIGINT"):
            reasons.append(
                f"case when {typed_valid} and strpos({value_text}, '.') > 0 then "
                + _reason(column.name, f"{_quoted(value_text)} || ' is not a whole number'")
                + " end"
            )
        scale = _numeric_scale(sql_type)
        if sql_type.startswith("DECIMAL"):
            # Decimal places written, trailing zeros aside; more than the column holds would be rounded.
            # Trailing zeros are only looked at (a new string per value) when more places are written.
            # A valid number's text holds digits, sign and point only, so its length in bytes
            # (strlen, kept with the string) is its length in characters (length, counted).
            point = f"strpos({value_text}, '.')"
            more_places = (
                f"strlen({value_text}) - {point} > {scale} and {point} > 0 "
                f"and length(rtrim({value_text}, '0')) - {point} > {scale}"
            )
            reasons.append(
                f"case when {typed_valid} and {more_places} then "
                + _reason(column.name, f"{_quoted(value_text)} || ' has more than {scale} decimal places'")
                + " end"
            )
        if sql_type in ("DATE", "TIMESTAMP"):
            latest = f"DATE '{LATEST_DATE}'" if sql_type == "DATE" else f"TIMESTAMP '{LATEST_DATE} 23:59:59.999999'"
            reasons.append(
                f"case when {typed_valid} "
                f"and not ({typed} between {sql_type} '{EARLIEST_DATE}' and {latest}) then "
                + _reason(column.name, f"{_quoted(value_text)} || ' is outside {EARLIEST_DATE} to {LATEST_DATE}'")
                + " end"
            )
        for bound, comparison, words in (
            (column.at_least, "<", "is below the minimum"),
            (column.at_most, ">", "is above the maximum"),
            (column.below, ">=", "is not below"),
        ):
            if bound is not None:
                reasons.append(
                    f"case when {typed_valid} and {typed} {comparison} {bound} then "
                    + _reason(column.name, f"{_quoted(value_text)} || ' {words} {bound}'")
                    + " end"
                )
    if sql_type == "VARCHAR":
        reasons.append(
            f"case when src._has_control and regexp_matches({value_text}, '{_CONTROL}') then "
            + _reason(column.name, "'contains a control character'")
            + " end"
        )
    if column.required:
        reasons.append(f"case when {value_text} is null then 'column {column.name}: required value is missing' end")
    return ColumnCheck(typed=typed, reasons=reasons)


# What trim() removes: the Unicode space separators (category Zs), and only those.
_EDGE = rf"[^\p{{Zs}}{_CONTROL_CHARACTERS}]"
_PLAIN_TEXT = rf"({_EDGE}([^{_CONTROL_CHARACTERS}]*{_EDGE})?)?"
_PLAIN_NUMBER = f"[{_NUMBER_CHARACTERS}]*"
# Fields are joined with the unit separator, a control character no plain field holds.
_SEPARATOR = r"\x1F"


def plain_row(entity: Entity) -> str:
    """``_plain``: a flag for the row whose every field is as the checks would have it after
    trimming, with nothing for the costlier checks to look at: no field starts or ends with a
    space, no text holds a control character, no number holds anything but digits, sign and
    point. One regular expression over the whole row decides it; for a plain row, trimming
    (a new string for every field, the costliest step at 21 million rows) and the flags below
    are skipped. A row that is not plain is checked as it always was.
    """
    fields = ", chr(31), ".join(f"src.{c.name}" for c in entity.columns)
    pattern = _SEPARATOR.join(
        _PLAIN_NUMBER if c.sql_type.startswith(NUMERIC_PREFIXES) else _PLAIN_TEXT for c in entity.columns
    )
    return f"regexp_full_match(concat({fields}), '{pattern}') as _plain"


def row_flags(entity: Entity) -> list[str]:
    """Per-row flags that gate the costlier checks: one regular expression over all the row's
    text fields, one over its numeric fields.

    The fields are read as delivered, untrimmed and side by side: trimming each one first cost
    twice the expressions themselves at 21 million rows. A flag may so be raised by a field that
    the per-column rule then finds clean (a tab around a code, say), never missed: whatever a
    trimmed field holds, the field as delivered holds too. Spaces pass the numeric flag, as
    they pass the cast. A plain row (``plain_row``) has neither flag raised, and no regular
    expression but its own is run on it.
    """
    texts = [f"src.{c.name}" for c in entity.columns if c.sql_type == "VARCHAR"]
    numbers = [f"src.{c.name}" for c in entity.columns if c.sql_type.startswith(NUMERIC_PREFIXES)]
    flags = [
        f"case when src._plain then false else regexp_matches(concat({', '.join(texts)}), '{_CONTROL}') end"
        " as _has_control"
        if texts
        else "false as _has_control",
        f"case when src._plain then false else regexp_matches(concat({', '.join(numbers)}), "
        f"'[^ {_NUMBER_CHARACTERS}]') end as _has_odd_number"
        if numbers
        else "false as _has_odd_number",
    ]
    return flags


def entity_checks(entity: Entity) -> tuple[list[str], list[str]]:
    """Typed select expressions (``<typed> as <column>``) and every reason expression of an entity."""
    typed, reasons = [], []
    for column in entity.columns:
        check = column_check(column)
        typed.append(f"{check.typed} as {column.name}")
        reasons.extend(check.reasons)
    return typed, reasons
