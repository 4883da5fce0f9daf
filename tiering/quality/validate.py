"""Validate a raw table against its suite with Great Expectations' SQL engine, inside DuckDB.

GX runs over the checked view of the table (``tiering.quality.views``) through its SQL
datasource on duckdb-engine, with every metric computed as a query in DuckDB: no row is
fetched into Python but the few failing samples. GX's connections are cursors of the caller's
own DuckDB connection, so they see the same database (and its memory limit) and need no second
handle on the file. ``tiering.quality.gx_sql_fix`` makes GX's SQL engine return rows over
DuckDB at all.

How GX results become counts (see ``ExpectationOutcome``):

- ``element_count`` is the number of rows validated (in a run, the rows it landed), missing
  values included.
- ``unexpected_count`` is the number of rows that fail. For ``expect_column_values_to_not_be_null``
  those are the null rows; for the other column checks null rows are not failures. For
  uniqueness checks GX counts every row of a duplicate group (a pair counts 2, not 1).
- ``unexpected_percent`` is ``unexpected_count / element_count * 100`` over all rows, 0 for an
  empty table. GX's own ``unexpected_percent`` divides by the non-null rows only, so we
  don't use it.
- ``expect_column_to_exist`` has no rows to count: a column that exists gives
  ``unexpected_count`` 0; a missing one gives ``unexpected_count == element_count`` (every row
  lacks it).
- An expectation on a column that is missing is not run: it gives ``success=False`` at its
  declared severity, ``unexpected_count`` 0 and a ``message``. The failed
  ``expect_column_to_exist`` (severity error) already blocks the run.
- If GX raises while it evaluates an expectation, that expectation fails with severity
  ``error`` and the exception in ``message``. A check that could not run must not pass.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tiering.quality import gx_sql_fix
from tiering.quality.masking import CONTACT_COLUMNS, mask_contact, mask_value
from tiering.quality.suites import SuiteError, expectation_columns, load_suite, suite_path
from tiering.quality.views import QUALITY_SCHEMA, create_checked_view
from tiering.sql import literal

if TYPE_CHECKING:
    from datetime import date

    import duckdb

SAMPLE_SIZE = 5
# GX's default is 20. We ask for more so that 5 distinct values are usually among them.
_PARTIAL_UNEXPECTED_COUNT = 50


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation, with counts taken from GX's result (see module docstring)."""

    suite: str
    expectation: str  # GX expectation type, e.g. expect_column_values_to_not_be_null
    column: str | None  # the column; for compound checks, the columns joined by ", "
    severity: str  # error | warn
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_percent: float
    sample_values: list[str]  # up to 5 distinct failing values, masked with mask_value()
    message: str | None = None  # why the expectation could not be evaluated, if so


@dataclass(frozen=True)
class SuiteOutcome:
    """All expectation outcomes of one suite, run against one table."""

    suite: str
    outcomes: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        """Failed expectations of severity error. Any of these stops the run."""
        return [o for o in self.outcomes if o.severity == "error" and not o.success]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        """Failed expectations of severity warn: recorded, and handled later by cleaning."""
        return [o for o in self.outcomes if o.severity == "warn" and not o.success]

    @property
    def success(self) -> bool:
        """True when nothing blocks. Warnings don't count."""
        return not self.blocking_failures


# Imported by GX's modules but used only by expectations that no suite here has (the
# distribution tests), so imported on first use instead: about 0.5 s of the first load step.
# On Python 3.11 a module loaded this way must not be first used by two threads at once: GX
# validates in one thread.
IMPORTED_ON_FIRST_USE = ("scipy.stats",)
# preload()'s thread and the first validation may both ask for GX.
_IMPORTING = threading.Lock()


def _import_on_first_use(name: str) -> None:
    """Bind module ``name`` now and run its code when one of its attributes is first read
    (importlib's LazyLoader). It is also set on its package, so that ``from package import
    name`` finds it without the import system, which would read its spec and so load it."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    package, _, attribute = name.rpartition(".")
    if package:
        setattr(sys.modules[package], attribute, module)


@cache
def _gx() -> Any:
    """Import GX once, with analytics off and the SQL fix applied. The env var must be set before the import."""
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    with _IMPORTING:
        for name in IMPORTED_ON_FIRST_USE:
            _import_on_first_use(name)
        import great_expectations

        gx_sql_fix.apply()
    return great_expectations


def wait_for_import() -> None:
    """Return once GX is imported (by ``preload()``'s thread, or here)."""
    _gx()


def preload() -> None:
    """Start importing GX (seconds of it) in the background, e.g. while DuckDB reads a file.

    Python's import lock makes a later ``_gx()`` wait for this import rather than repeat it.
    """
    threading.Thread(target=_gx, name="import-great-expectations", daemon=True).start()


def validate_table(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    entity: str,
    as_of: date | None = None,
    *,
    deliveries: Sequence[int] | None = None,
    samples_lock: AbstractContextManager | None = None,
) -> SuiteOutcome:
    """Validate a DuckDB table against its entity's suite, every metric computed in DuckDB.

    ``table`` may be qualified (``raw.erp_orders``). The checked view ``quality.<entity>`` is
    (re)created over it with the suite's derived columns (dates are checked against ``as_of``,
    today if not given), and GX validates the view: the rows of ``deliveries`` (load sequences:
    a run's deliveries), or every row when it is None. A missing column is reported by its failed
    ``expect_column_to_exist``; the other expectations on it, and derived columns whose inputs
    are missing, are not evaluated and fail.

    ``samples_lock`` is held while the samples of failing values are taken (they follow the
    rows' order), and only then: the verdicts and counts before them do not depend on order.
    """
    suite = load_suite(suite_path(entity))
    view, columns = create_checked_view(connection, table, entity, as_of, deliveries)
    (rows,) = connection.execute(f"select count(*) from {view}").fetchall()[0]
    return _validate_view(connection, entity, suite, rows=rows, present=set(columns), samples_lock=samples_lock)


def validate_table_on_spark(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    entity: str,
    as_of: date | None = None,
    *,
    spark: Any,
    work_dir: Path,
    deliveries: Sequence[int] | None = None,
) -> SuiteOutcome:
    """Validate a raw table against its entity's suite on Spark, through GX's Spark execution
    engine: every metric is a Spark job (TIERING_ENGINE=spark).

    The checked view (the table plus its derived columns, as in ``validate_table``) is written
    as Parquet into ``work_dir`` and read by Spark; GX validates that DataFrame. The outcome has
    the same shape and counts as ``validate_table``'s.
    """
    suite = load_suite(suite_path(entity))
    view, columns = create_checked_view(connection, table, entity, as_of, deliveries)
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / f"{entity}.parquet"
    connection.execute(f"copy (select * from {view}) to {literal(path)} (format parquet)")
    frame = spark.read.parquet(str(path))
    rows = frame.count()

    def spark_batch(context: Any) -> tuple[Any, Callable[[], None]]:
        datasource = context.data_sources.add_spark(name="tiering_spark")
        batch = (
            datasource.add_dataframe_asset(name=entity)
            .add_batch_definition_whole_dataframe(name="whole_dataframe")
            .get_batch(batch_parameters={"dataframe": frame})
        )
        return batch, lambda: None

    return _validate_view(connection, entity, suite, rows=rows, present=set(columns), batch_for=spark_batch)


def _validate_view(
    connection: duckdb.DuckDBPyConnection,
    suite_name: str,
    suite: dict,
    *,
    rows: int,
    present: set[str],
    batch_for: Callable[[Any], tuple[Any, Callable[[], None]]] | None = None,
    samples_lock: AbstractContextManager | None = None,
) -> SuiteOutcome:
    gx = _gx()
    import duckdb_engine
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    outcomes: dict[int, ExpectationOutcome] = {}
    runnable: list[Any] = []
    for index, spec in enumerate(suite["expectations"]):
        severity = spec["meta"]["severity"]
        missing = [c for c in expectation_columns(spec) if c not in present]
        if missing and spec["type"] != "expect_column_to_exist":
            outcomes[index] = _outcome(
                suite_name,
                spec,
                severity,
                success=False,
                element_count=rows,
                message=f"not evaluated: column {', '.join(map(repr, missing))} is missing",
            )
            continue
        # The id lets us match results back: GX does not return them in suite order.
        fields = {k: copy.deepcopy(v) for k, v in spec.items() if k in ("type", "kwargs", "meta", "notes", "severity")}
        config = ExpectationConfiguration(**fields, id=str(index))
        try:  # ExpectationSuite(...) logs and drops some invalid expectations; we raise instead
            config.to_domain_obj()
        except Exception as error:
            raise SuiteError(f"suite {suite_name}: expectation {index} ({spec['type']}) is invalid: {error}") from error
        runnable.append(config)

    if runnable:

        def cursor() -> Any:
            # A cursor is a second connection to the same DuckDB database. GX leaves some
            # names unqualified when it reflects columns, so the quality schema is the default.
            handle = connection.cursor()
            handle.execute(f"set schema '{QUALITY_SCHEMA}'")
            return duckdb_engine.ConnectionWrapper(handle)

        def duckdb_batch(context: Any) -> tuple[Any, Callable[[], None]]:
            datasource = context.data_sources.add_sql(
                name="tiering_warehouse", connection_string="duckdb:///:memory:", kwargs={"creator": cursor}
            )
            batch = (
                datasource.add_table_asset(name=suite_name, table_name=suite_name, schema_name=QUALITY_SCHEMA)
                .add_batch_definition_whole_table(name="whole_table")
                .get_batch()
            )
            return batch, lambda: datasource.get_execution_engine().engine.dispose()

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        batch, dispose = (batch_for or duckdb_batch)(context)
        try:
            # Two passes: every expectation for its verdict alone, then the counts and samples of
            # those that need them. A sample costs a query as long as the count's (for a key's
            # uniqueness, a second grouping of every row) and a passing check has nothing to show.
            verdicts = _run_suite(gx, batch, suite_name, runnable, {"result_format": "BOOLEAN_ONLY"})
            detailed = []
            for config, verdict in zip(runnable, verdicts, strict=True):
                index = int(config.id)
                spec = suite["expectations"][index]
                if _passed_cleanly(spec, verdict):
                    outcomes[index] = _outcome(
                        suite_name, spec, spec["meta"]["severity"], success=True, element_count=rows
                    )
                else:
                    detailed.append(config)
            summary = {"result_format": "SUMMARY", "partial_unexpected_count": _PARTIAL_UNEXPECTED_COUNT}
            with samples_lock if detailed and samples_lock is not None else nullcontext():
                details = _run_suite(gx, batch, suite_name, detailed, summary)
            for config, expectation_result in zip(detailed, details, strict=True):
                if expectation_result is None:
                    continue  # reported below as a result GX did not return
                index = int(config.id)
                outcomes[index] = _from_gx(suite_name, suite["expectations"][index], expectation_result, rows)
        finally:
            dispose()

    missing_results = [i for i in range(len(suite["expectations"])) if i not in outcomes]
    if missing_results:
        raise RuntimeError(f"suite {suite_name}: GX returned no result for expectation(s) {missing_results}")
    return SuiteOutcome(suite=suite_name, outcomes=[outcomes[i] for i in sorted(outcomes)])


# Expectations for which a pass means no row failed (or, for a column's existence, that it
# exists): their outcome on a pass is known without GX's counts (element_count is the table's
# row count, as GX gives it).
_CLEAN_WHEN_PASSED = frozenset(
    {
        "expect_column_to_exist",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_unique",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_be_null",
        "expect_compound_columns_to_be_unique",
    }
)


def _passed_cleanly(spec: dict, verdict: Any) -> bool:
    """True when GX's verdict alone says all there is to say: the check ran, passed, and no row
    failed. Not so with ``mostly`` below 1 (a pass may hide failures) or for a kind not listed."""
    if verdict is None or verdict.success is not True or _raised_exception(verdict.exception_info) is not None:
        return False
    mostly = spec["kwargs"].get("mostly")
    return spec["type"] in _CLEAN_WHEN_PASSED and (mostly is None or mostly >= 1)


def _run_suite(gx: Any, batch: Any, suite_name: str, configs: list[Any], result_format: dict) -> list[Any]:
    """GX's results for these expectations, in the order given (GX returns its own order)."""
    if not configs:
        return []
    gx_suite = gx.ExpectationSuite(name=suite_name, expectations=[copy.deepcopy(config) for config in configs])
    if len(gx_suite.expectations) != len(configs):
        raise SuiteError(f"suite {suite_name}: GX dropped {len(configs) - len(gx_suite.expectations)} expectation(s)")
    by_id = {
        result.expectation_config.id: result for result in batch.validate(gx_suite, result_format=result_format).results
    }
    return [by_id.get(config.id) for config in configs]


def _from_gx(suite_name: str, spec: dict, gx_result: Any, rows: int) -> ExpectationOutcome:
    """Turn one GX ExpectationValidationResult into an ExpectationOutcome (rules in the module docstring)."""
    severity = spec["meta"]["severity"]
    error = _raised_exception(gx_result.exception_info)
    if error is not None:
        return _outcome(
            suite_name,
            spec,
            "error",
            success=False,
            element_count=rows,
            message=f"GX raised while evaluating this expectation: {error}",
        )
    success = gx_result.success is True
    details = gx_result.result or {}
    if spec["type"] == "expect_column_to_exist":
        return _outcome(
            suite_name, spec, severity, success=success, element_count=rows, unexpected_count=0 if success else rows
        )
    if "element_count" not in details or "unexpected_count" not in details:
        return _outcome(
            suite_name,
            spec,
            "error",
            success=False,
            element_count=rows,
            message=f"GX returned no counts for this expectation (result keys: {sorted(details)})",
        )
    element_count = int(details["element_count"] or 0)
    # Over an empty table SQL sums to NULL: no row, so nothing unexpected.
    unexpected_count = details["unexpected_count"]
    if unexpected_count is None and element_count == 0:
        unexpected_count = 0
    if unexpected_count is None:
        return _outcome(
            suite_name,
            spec,
            "error",
            success=False,
            element_count=element_count,
            message="GX returned no unexpected_count for this expectation",
        )
    return _outcome(
        suite_name,
        spec,
        severity,
        success=success,
        element_count=element_count,
        unexpected_count=int(unexpected_count),
        sample_values=_samples(
            details.get("partial_unexpected_list") or [], contact=bool(CONTACT_COLUMNS & set(expectation_columns(spec)))
        ),
    )


def _outcome(
    suite_name: str,
    spec: dict,
    severity: str,
    *,
    success: bool,
    element_count: int,
    unexpected_count: int = 0,
    sample_values: list[str] | None = None,
    message: str | None = None,
) -> ExpectationOutcome:
    columns = expectation_columns(spec)
    return ExpectationOutcome(
        suite=suite_name,
        expectation=spec["type"],
        column=", ".join(columns) if columns else None,
        severity=severity,
        success=success,
        element_count=element_count,
        unexpected_count=unexpected_count,
        unexpected_percent=unexpected_count / element_count * 100 if element_count else 0.0,
        sample_values=sample_values or [],
        message=message,
    )


def _raised_exception(exception_info: Any) -> str | None:
    """The message of an exception GX caught, or None.

    GX 1.x reports it in two shapes: flat ``{"raised_exception": ..., "exception_message": ...}``
    or keyed by metric, ``{metric_id: {"raised_exception": ...}}`` (e.g. a missing column).
    """
    if not isinstance(exception_info, dict):
        return None
    candidates = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    messages = [
        str(info.get("exception_message") or "unknown error")
        for info in candidates
        if isinstance(info, dict) and info.get("raised_exception")
    ]
    return "; ".join(dict.fromkeys(messages)) or None


def _samples(values: list[Any], *, contact: bool = False) -> list[str]:
    """Up to SAMPLE_SIZE distinct failing values, rendered as text and masked.

    ``contact``: the values come from a phone or email column, so a value that does not look
    like a phone or an email (which is why it failed) is masked all the same.
    """
    mask = mask_contact if contact else mask_value
    rendered: dict[str, None] = {}
    for value in values:
        if isinstance(value, dict):  # compound checks return one dict per row
            text = ", ".join(f"{key}={mask(_text(item))}" for key, item in value.items())
        else:
            text = mask(_text(value))
        rendered.setdefault(text)
        if len(rendered) == SAMPLE_SIZE:
            break
    return list(rendered)


def _text(value: Any) -> str:
    """A value as text; every kind of missing (None, NaN, NaT, pandas.NA) becomes 'null'."""
    if value is None:
        return "null"
    try:
        import pandas

        if pandas.isna(value):
            return "null"
    except (TypeError, ValueError):  # list-like values have no single truth value
        pass
    return str(value)


# --- history ------------------------------------------------------------------------------

DQ_RESULTS_TABLE = "raw._dq_results"
DQ_RESULTS_DDL = f"""
    create table if not exists {DQ_RESULTS_TABLE} (
        run_id varchar, as_of_date date, suite varchar, expectation varchar, "column" varchar,
        severity varchar, success boolean, element_count bigint, unexpected_count bigint,
        unexpected_percent double, unexpected_sample varchar, message varchar, validated_at timestamp
    )
"""


def record_outcome(
    connection: duckdb.DuckDBPyConnection, outcome: SuiteOutcome, *, run_id: str, as_of: date, validated_at: Any
) -> int:
    """Append a suite's results to the validation history (never overwritten); returns rows written.

    Sample values are already masked (``_samples``); they are stored joined by " | ".
    """
    connection.execute("create schema if not exists raw")
    connection.execute(DQ_RESULTS_DDL)
    rows = [
        (
            run_id,
            as_of,
            o.suite,
            o.expectation,
            o.column,
            o.severity,
            o.success,
            o.element_count,
            o.unexpected_count,
            o.unexpected_percent,
            " | ".join(o.sample_values) or None,
            o.message,
            validated_at,
        )
        for o in outcome.outcomes
    ]
    if rows:
        connection.executemany(f"insert into {DQ_RESULTS_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)
