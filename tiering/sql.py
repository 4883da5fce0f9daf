"""SQL text built in Python: the one way the project writes a value into a statement."""

from __future__ import annotations


def literal(value: object) -> str:
    """``value`` as a standard SQL string literal (a file path, a name, a description): quoted,
    with each quote inside it doubled. DuckDB, Spark SQL and Postgres read it alike."""
    return "'" + str(value).replace("'", "''") + "'"
