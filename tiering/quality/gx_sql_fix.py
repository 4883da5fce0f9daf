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

And one query made cheaper. GX counts the rows that break
``expect_compound_columns_to_be_unique`` by joining every row of the table to the count of its
key's group, then summing a condition over the joined rows: the table is read twice and every
row crosses a hash join. Over DuckDB we count the same rows from the groups alone: the sum of
the sizes of the groups of two or more rows, among the rows whose key columns all have a value
(the inner join on the key never matches a row with a missing one). At a million customers
this check took 4.3-4.7 s of the 5.3-5.8 s GX spends on 21 million order lines, and takes
about 2 s this way. ``expect_column_values_to_be_unique`` is counted the same way: GX counts
each row's value over a window of every row, 1.0-1.2 s over 6.5 million receivables, against
0.5 s from the groups. The sample of failing rows, taken only when some fail, is GX's own query.

``apply()`` patches all of these once per process; calling it again does nothing.
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
    _apply_repeat_counts()


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


# GX's registered metrics whose SQL providers count the rows of repeated keys: a compound key's
# (expect_compound_columns_to_be_unique) and a single column's (expect_column_values_to_be_unique).
COMPOUND_UNIQUE_COUNT = "compound_columns.unique.unexpected_count"
UNIQUE_COUNT = "column_values.unique.unexpected_count"


def _apply_repeat_counts() -> None:
    _count_repeats_from_groups(COMPOUND_UNIQUE_COUNT, lambda accessor, value_kwargs: accessor["column_list"])
    # A single column: its rows with a value (GX's condition leaves out the others), unless the
    # expectation asks for missing values to be checked too.
    _count_repeats_from_groups(
        UNIQUE_COUNT,
        lambda accessor, value_kwargs: [accessor["column"]] if value_kwargs.get("filter_column_isnull", True) else None,
    )


def _count_repeats_from_groups(metric: str, key_of) -> None:
    """Replace GX's SQL provider of ``metric`` over DuckDB by the sum of the sizes of the groups
    of two or more rows, among the rows whose key columns (``key_of(accessor_domain_kwargs,
    metric_value_kwargs)``; None for GX's own query) all have a value."""
    import sqlalchemy as sa
    from great_expectations.expectations.registry import _registered_metrics
    from great_expectations.util import get_sqlalchemy_selectable

    providers = _registered_metrics[metric]["providers"]
    metric_class, original = providers["SqlAlchemyExecutionEngine"]
    if getattr(original, _PATCHED_FLAG, False):
        return

    def unexpected_count(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, **kwargs):
        _, compute_domain_kwargs, accessor_domain_kwargs = metrics["unexpected_condition"]
        names = key_of(accessor_domain_kwargs, metric_value_kwargs or {})
        if getattr(execution_engine.engine.dialect, "name", None) != "duckdb" or not names:
            return original(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, **kwargs)
        # The rows GX's own count reads: the batch, its row condition and ignore_row_if applied.
        rows = get_sqlalchemy_selectable(
            execution_engine.get_domain_records(domain_kwargs={**compute_domain_kwargs, **accessor_domain_kwargs})
        )
        key = [sa.column(name) for name in names]
        groups = (
            sa.select(sa.func.count().label("group_rows"))
            .select_from(rows)
            .where(sa.and_(*(column.is_not(None) for column in key)))
            .group_by(*key)
            .having(sa.func.count() > 1)
            .subquery()
        )
        query = sa.select(sa.func.coalesce(sa.func.sum(groups.c.group_rows), 0))
        return int(execution_engine.execute_query(query).scalar())

    unexpected_count.metric_fn_type = original.metric_fn_type
    unexpected_count.__wrapped__ = original  # GX's own count, which the tests compare with
    setattr(unexpected_count, _PATCHED_FLAG, True)
    providers["SqlAlchemyExecutionEngine"] = (metric_class, unexpected_count)


def is_applied() -> bool:
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    return bool(getattr(SqlAlchemyExecutionEngine.execute_query, _PATCHED_FLAG, False))
