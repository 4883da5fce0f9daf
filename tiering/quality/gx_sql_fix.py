"""Make Great Expectations' SQL execution engine return rows over DuckDB.

GX 1.x's ``SqlAlchemyExecutionEngine.execute_query`` runs a query inside
``with self.get_connection() as connection:`` and returns the ``CursorResult`` after the block
has given the connection back. duckdb-engine closes the DuckDB cursor with the connection, so
the caller's ``fetchall()`` sees no rows: every metric comes back empty and every expectation
"fails" with ``result={}`` and no error. Upstream: great_expectations issues 10738 and 11579,
both closed without a fix (checked against 1.24.1).

The fix fetches the rows while the connection is still held: ``result.freeze()`` buffers the
whole result, and calling the frozen result gives a fresh ``CursorResult`` over those rows, so
callers keep the API they expect. GX's metric queries return aggregates or a few sample rows
(``partial_unexpected_count``), so buffering them costs nothing.

A second gap of the same kind: GX builds a regex condition per dialect
(``get_dialect_regex_expression``) and knows no DuckDB, so every ``*_match_regex``
expectation raises "Regex is not supported for dialect duckdb". For DuckDB we build
``regexp_matches(column, pattern)``, which, like PostgreSQL's ``~`` and pandas'
``str.contains``, matches anywhere in the value (anchor the pattern to match it whole).

``apply()`` patches both once per process; calling it again does nothing.
``tests/test_gx_sql_fix.py`` proves both that GX is wrong without it and exact with it.
"""

from __future__ import annotations

from typing import Any

_PATCHED_FLAG = "_tiering_fetches_inside_connection"


def apply() -> None:
    """Patch ``SqlAlchemyExecutionEngine.execute_query`` to fetch inside the connection scope."""
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    if getattr(SqlAlchemyExecutionEngine.execute_query, _PATCHED_FLAG, False):
        return

    def execute_query(self: SqlAlchemyExecutionEngine, query: Any) -> Any:
        with self.get_connection() as connection:
            result = self._execute_query_with_recovery(connection, query)
            # Buffer before the connection (and, in duckdb-engine, the cursor) is released.
            return result.freeze()()

    execute_query.__doc__ = SqlAlchemyExecutionEngine.execute_query.__doc__
    setattr(execute_query, _PATCHED_FLAG, True)
    SqlAlchemyExecutionEngine.execute_query = execute_query
    _apply_regex()


def _apply_regex() -> None:
    import importlib

    import sqlalchemy as sa
    from great_expectations.expectations.metrics import util

    original = util.get_dialect_regex_expression
    if getattr(original, _PATCHED_FLAG, False):
        return

    def get_dialect_regex_expression(column: Any, regex: str, dialect: Any, positive: bool = True) -> Any:
        name = getattr(dialect, "name", None) or getattr(getattr(dialect, "dialect", None), "name", None)
        if name != "duckdb":
            return original(column, regex, dialect, positive)
        matches = sa.func.regexp_matches(column, sa.literal(regex))
        return matches if positive else sa.not_(matches)

    setattr(get_dialect_regex_expression, _PATCHED_FLAG, True)
    # Each metric module imported the function by name: rebind it there too.
    for module_name in (
        "great_expectations.expectations.metrics.util",
        "great_expectations.expectations.metrics.column_map_metrics.column_values_match_regex",
        "great_expectations.expectations.metrics.column_map_metrics.column_values_not_match_regex",
        "great_expectations.expectations.metrics.column_map_metrics.column_values_match_regex_list",
        "great_expectations.expectations.metrics.column_map_metrics.column_values_not_match_regex_list",
        "great_expectations.expectations.metrics.column_aggregate_metrics.column_values_match_regex_values",
        "great_expectations.expectations.metrics.column_aggregate_metrics.column_values_not_match_regex_values",
    ):
        module = importlib.import_module(module_name)
        if getattr(module, "get_dialect_regex_expression", None) is original:
            module.get_dialect_regex_expression = get_dialect_regex_expression


def is_applied() -> bool:
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    return bool(getattr(SqlAlchemyExecutionEngine.execute_query, _PATCHED_FLAG, False))
