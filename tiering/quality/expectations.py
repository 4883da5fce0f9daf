"""Data-quality checks on the raw extract tables, run with Great Expectations (GX) 1.x.

One GX suite per raw entity lives in ``expectations/<entity>.json``. Each expectation
carries ``meta.severity``: ``error`` blocks the run (a contract failure), ``warn`` is only
recorded because a later cleaning rule handles the defect.

We validate through GX's pandas path, not its SQL path: over DuckDB (duckdb-engine) GX 1.x
returns empty results that look like failures. So a table's columns are fetched into a
DataFrame and validated with an in-memory (ephemeral) GX context. GX is imported lazily
because the import takes seconds.

How GX results become counts (see ``ExpectationOutcome``):

- ``element_count`` is the number of rows in the table, missing values included.
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

GX has no expectation for a credit-code check character, for "not after the run's as-of
date" or for "references a known customer". So the query that feeds GX adds derived columns
(``DERIVED_COLUMNS``), computed in DuckDB: each holds the offending value where the rule is
broken and is null otherwise (an empty source value breaks no rule), and the suites expect it
to be null. GX then counts the offenders and samples their real values.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tiering.ingest.contract import ENTITIES

if TYPE_CHECKING:
    from datetime import date

    import duckdb
    import pandas

SEVERITIES = ("error", "warn")
# GX 1.x has its own per-expectation ``severity`` (critical | warning | info). Our files
# set it to match meta.severity, so that anything GX renders agrees with us.
GX_SEVERITY = {"error": "critical", "warn": "warning"}
SAMPLE_SIZE = 5
# Rows validated at once; a larger table is validated in slices of about this size.
CHUNK_ROWS = 1_000_000
# GX's default is 20. We ask for more so that 5 distinct values are usually among them.
_PARTIAL_UNEXPECTED_COUNT = 50
_COLUMN_KWARGS = ("column", "column_A", "column_B")


CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_valid_sql(column: str) -> str:
    """SQL: is ``column`` a unified social credit code with a valid GB 32100-2015 check character?

    Null for an empty code. The same rule as ``tiering.demo.generate.is_valid_credit_code`` and the
    dbt macro ``credit_code_is_valid``, in plain SQL so DuckDB computes it over the whole table.
    """
    charset = f"'{CREDIT_CODE_CHARSET}'"

    def index(position: int) -> str:
        return f"strpos({charset}, substr({column}, {position}, 1))"

    in_charset = " and ".join(f"{index(i)} > 0" for i in range(1, 19))
    total = " + ".join(f"({index(i)} - 1) * {w}" for i, w in enumerate(CREDIT_CODE_WEIGHTS, start=1))
    return (
        f"case when nullif(trim({column}), '') is null then null "
        f"when length({column}) <> 18 or not ({in_charset}) then false "
        f"else substr({column}, 18, 1) = substr({charset}, ((31 - ({total}) % 31) % 31) + 1, 1) end"
    )


def _after_as_of(column: str) -> str:
    return f"case when cast({column} as date) > {{as_of}} then cast({column} as varchar) end"


def _unknown(column: str, entity: str, key: str) -> str:
    return f"case when {column} not in (select {key} from {{{entity}}}) then {column} end"


def _invalid_credit_code(column: str) -> str:
    return f"case when not ({credit_code_valid_sql(column)}) then {column} end"


# Derived columns per suite: name -> SQL over the raw table, the offending value or null.
# {as_of} is the run's as-of date; {<entity>} is that entity's raw table beside the one validated.
DERIVED_COLUMNS: dict[str, dict[str, str]] = {
    "crm_customers": {
        "credit_code_with_invalid_check_char": _invalid_credit_code("credit_code"),
        "first_deal_date_after_as_of": _after_as_of("first_deal_date"),
        "updated_at_after_as_of": _after_as_of("updated_at"),
    },
    "erp_customers": {
        "credit_code_with_invalid_check_char": _invalid_credit_code("credit_code"),
        "created_at_after_as_of": _after_as_of("created_at"),
    },
    "erp_orders": {
        "order_date_after_as_of": _after_as_of("order_date"),
        "erp_customer_id_not_in_erp_customers": _unknown("erp_customer_id", "erp_customers", "erp_customer_id"),
        "product_id_not_in_erp_products": _unknown("product_id", "erp_products", "product_id"),
    },
    "erp_receivables": {
        "invoice_date_after_as_of": _after_as_of("invoice_date"),
        "paid_date_after_as_of": _after_as_of("paid_date"),
        "erp_customer_id_not_in_erp_customers": _unknown("erp_customer_id", "erp_customers", "erp_customer_id"),
    },
    "crm_complaints": {
        "opened_at_after_as_of": _after_as_of("opened_at"),
        "crm_customer_id_not_in_crm_customers": _unknown("crm_customer_id", "crm_customers", "crm_customer_id"),
    },
}


def referenced_entities(entity: str) -> list[str]:
    """The raw entities a suite's derived columns read, which must be landed first."""
    templates = DERIVED_COLUMNS.get(entity, {}).values()
    return sorted({name for sql in templates for name in ENTITIES if f"{{{name}}}" in sql})


class SuiteError(ValueError):
    """An expectation suite file is malformed, or uses a severity we don't know."""


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


# --- suites -----------------------------------------------------------------------------


def repo_root() -> Path:
    """The repository root: the nearest parent of this file that has an ``expectations`` folder."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "expectations").is_dir():
            return parent
    raise FileNotFoundError(f"no expectations/ folder above {here}")


def suite_path(entity: str) -> Path:
    """The suite file of a raw entity: ``expectations/<entity>.json`` under the repo root."""
    if entity not in ENTITIES:
        raise KeyError(f"unknown entity {entity!r}; expected one of {sorted(ENTITIES)}")
    return repo_root() / "expectations" / f"{entity}.json"


def load_suite(path: Path) -> dict:
    """Read a suite file and check its shape and severities, so a typo fails loudly, not late."""
    with Path(path).open(encoding="utf-8") as handle:
        suite = json.load(handle)
    if not isinstance(suite, dict) or not isinstance(suite.get("name"), str):
        raise SuiteError(f"{path}: a suite must be a JSON object with a string 'name'")
    expectations = suite.get("expectations")
    if not isinstance(expectations, list):
        raise SuiteError(f"{path}: 'expectations' must be a list")
    for index, expectation in enumerate(expectations):
        where = f"{path}: expectation {index}"
        if not isinstance(expectation, dict) or not isinstance(expectation.get("type"), str):
            raise SuiteError(f"{where} has no 'type'")
        if not isinstance(expectation.get("kwargs"), dict):
            raise SuiteError(f"{where} ({expectation['type']}) has no 'kwargs' object")
        severity = (expectation.get("meta") or {}).get("severity")
        if severity not in SEVERITIES:
            raise SuiteError(f"{where} ({expectation['type']}): meta.severity must be one of {SEVERITIES}")
        gx_severity = expectation.get("severity")
        if gx_severity is not None and gx_severity != GX_SEVERITY[severity]:
            raise SuiteError(
                f"{where} ({expectation['type']}): GX severity {gx_severity!r} disagrees with "
                f"meta.severity {severity!r}; expected {GX_SEVERITY[severity]!r}"
            )
    return suite


def expectation_columns(expectation: dict) -> list[str]:
    """The columns an expectation (as a suite-file dict) reads, in order."""
    kwargs = expectation["kwargs"]
    columns = [kwargs[key] for key in _COLUMN_KWARGS if isinstance(kwargs.get(key), str)]
    columns += list(kwargs.get("column_list") or [])
    return columns


def suite_columns(suite: dict) -> list[str]:
    """Every column a suite mentions, in first-mention order."""
    return list(dict.fromkeys(c for e in suite["expectations"] for c in expectation_columns(e)))


# --- validation ---------------------------------------------------------------------------


@cache
def _gx() -> Any:
    """Import GX once, with analytics off. The env var must be set before the import."""
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations

    return great_expectations


def validate_table(
    connection: duckdb.DuckDBPyConnection, table: str, entity: str, as_of: date | None = None
) -> SuiteOutcome:
    """Validate a DuckDB table against its entity's suite: fetch the suite's columns, then run GX.

    ``table`` may be qualified (``raw.erp_orders``). Only the columns that the suite mentions
    and the table has are fetched, with one query, plus the suite's derived columns
    (``DERIVED_COLUMNS``; dates are checked against ``as_of``, today if not given). A missing
    column is still reported, by its failed ``expect_column_to_exist``; a derived column whose
    inputs are missing is not evaluated and fails.
    """
    suite = load_suite(suite_path(entity))
    present = set(connection.table(table).columns)
    selects = [_quote(c) for c in suite_columns(suite) if c in present]
    for name, sql in _derived_columns(connection, table, entity, present, as_of).items():
        if name in suite_columns(suite):
            selects.append(f"({sql}) AS {_quote(name)}")
    source = ".".join(_quote(part) for part in table.split("."))
    if not selects:  # no column of the suite exists; the row count still goes into element_count
        import pandas

        (rows,) = connection.execute(f"SELECT count(*) FROM {source}").fetchone()
        return validate_dataframe(entity, suite, pandas.DataFrame(index=range(rows)))
    chunks = _chunk_count(connection, source, entity, suite, present)
    if chunks == 1:
        return validate_dataframe(entity, suite, connection.execute(f"SELECT {', '.join(selects)} FROM {source}").df())
    key = ", ".join(_quote(column) for column in ENTITIES[entity].key)
    outcomes = [
        validate_dataframe(
            entity,
            suite,
            connection.execute(
                f"SELECT {', '.join(selects)} FROM {source} WHERE hash({key}) % {chunks} = {chunk}"
            ).df(),
        )
        for chunk in range(chunks)
    ]
    return _combine(entity, suite, outcomes)


def _chunk_count(
    connection: duckdb.DuckDBPyConnection, source: str, entity: str, suite: dict, present: set[str]
) -> int:
    """How many slices to validate a large table in, so memory stays bounded (CHUNK_ROWS each).

    Rows are sliced by a hash of the entity's key, so rows that share a key land in the same
    slice: per-row counts add up across slices, and so do the uniqueness counts, as long as
    every uniqueness expectation is on the key. A suite with any other uniqueness expectation,
    or a table without its key columns, is validated whole.
    """
    key = list(ENTITIES[entity].key)
    if not set(key) <= present:
        return 1
    for spec in suite["expectations"]:
        if "unique" in spec["type"] and sorted(expectation_columns(spec)) != sorted(key):
            return 1
    (rows,) = connection.execute(f"SELECT count(*) FROM {source}").fetchone()
    return max(1, -(-rows // CHUNK_ROWS))


def _combine(suite_name: str, suite: dict, parts: list[SuiteOutcome]) -> SuiteOutcome:
    """One outcome from the outcomes of the slices of a table: counts add up, samples pool."""
    combined = []
    for index, spec in enumerate(suite["expectations"]):
        slices = [part.outcomes[index] for part in parts]
        element_count = sum(item.element_count for item in slices)
        unexpected_count = sum(item.unexpected_count for item in slices)
        mostly = spec["kwargs"].get("mostly")
        if mostly is not None and all(item.message is None for item in slices):
            success = element_count == 0 or unexpected_count <= (1 - mostly) * element_count
        else:
            success = all(item.success for item in slices)
        samples = list(dict.fromkeys(value for item in slices for value in item.sample_values))[:SAMPLE_SIZE]
        failing = [item for item in slices if not item.success]
        combined.append(
            _outcome(
                suite_name,
                spec,
                failing[0].severity if failing else slices[0].severity,
                success=success,
                element_count=element_count,
                unexpected_count=unexpected_count,
                sample_values=samples,
                message=next((item.message for item in slices if item.message), None),
            )
        )
    return SuiteOutcome(suite=suite_name, outcomes=combined)


def _derived_columns(
    connection: duckdb.DuckDBPyConnection, table: str, entity: str, present: set[str], as_of: date | None
) -> dict[str, str]:
    """The derived columns of a suite whose inputs exist, as SQL ready to select."""
    prefix = table.rsplit(".", 1)[0] + "." if "." in table else ""
    as_of_sql = f"DATE '{as_of.isoformat()}'" if as_of else "current_date"
    derived = {}
    for name, template in DERIVED_COLUMNS.get(entity, {}).items():
        tables = {}
        for other in (e for e in ENTITIES if f"{{{e}}}" in template):
            try:
                connection.table(prefix + other)
            except Exception:  # the referenced table does not exist: not evaluated
                break
            tables[other] = ".".join(_quote(part) for part in (prefix + other).split("."))
        else:
            needed = {c for c in ENTITIES[entity].column_names if re.search(rf"\b{c}\b", template)}
            if needed <= present:
                derived[name] = template.replace("{as_of}", as_of_sql).format(**tables)
    return derived


def validate_dataframe(suite_name: str, suite: dict, frame: pandas.DataFrame) -> SuiteOutcome:
    """Validate a DataFrame against a suite (as loaded by ``load_suite``) with one ephemeral GX context."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    rows = len(frame)
    present = set(frame.columns)
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
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        batch = (
            context.data_sources.add_pandas(name="tiering_quality")
            .add_dataframe_asset(name=suite_name)
            .add_batch_definition_whole_dataframe(name="whole_table")
            .get_batch(batch_parameters={"dataframe": frame})
        )
        gx_suite = gx.ExpectationSuite(name=suite_name, expectations=runnable)
        if len(gx_suite.expectations) != len(runnable):
            dropped = len(runnable) - len(gx_suite.expectations)
            raise SuiteError(f"suite {suite_name}: GX dropped {dropped} expectation(s)")
        result = batch.validate(
            gx_suite,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": _PARTIAL_UNEXPECTED_COUNT},
        )
        for expectation_result in result.results:
            index = int(expectation_result.expectation_config.id)
            outcomes[index] = _from_gx(suite_name, suite["expectations"][index], expectation_result, rows)

    missing_results = [i for i in range(len(suite["expectations"])) if i not in outcomes]
    if missing_results:
        raise RuntimeError(f"suite {suite_name}: GX returned no result for expectation(s) {missing_results}")
    return SuiteOutcome(suite=suite_name, outcomes=[outcomes[i] for i in sorted(outcomes)])


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
    return _outcome(
        suite_name,
        spec,
        severity,
        success=success,
        element_count=int(details["element_count"]),
        unexpected_count=int(details["unexpected_count"]),
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


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


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


# --- masking ----------------------------------------------------------------------------

_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
_EMAIL = re.compile(r"^([^@\s])[^@\s]*@([^@\s]+)$")


# Columns that hold contact data: their failing samples are always masked (mask_contact).
CONTACT_COLUMNS = frozenset({"phone", "email"})


def mask_contact(value: str) -> str:
    """Mask a value of a contact column even when it is malformed: as mask_value when it looks
    like a phone or an email, otherwise only its first character is kept (zhang san@x -> z***)."""
    masked = mask_value(value)
    if masked != value or value in ("", "null"):
        return masked
    return value[:1] + "***"


def mask_value(value: str) -> str:
    """Hide personal data in a value shown as a sample. Phones and emails are masked, other values are unchanged.

    A phone is 11 digits, optionally with a +86/86 prefix and spaces, hyphens or
    parentheses. It keeps its first 3 and last 4 digits and its separators
    (13812341234 -> 138****1234). An email keeps its first character and its domain
    (zhang.san@example.com -> z***@example.com).
    """
    text = str(value)
    digits_only = _PHONE_SEPARATORS.sub("", text).removeprefix("+")
    if (
        digits_only.isascii()
        and digits_only.isdigit()
        and (len(digits_only) == 11 or (len(digits_only) == 13 and digits_only.startswith("86")))
    ):
        # mask the 4th to 7th digit of the 11-digit national number, in place
        national_start = len(digits_only) - 11
        masked, seen = [], 0
        for char in text:
            if char.isdigit():
                if national_start + 3 <= seen < national_start + 7:
                    char = "*"
                seen += 1
            masked.append(char)
        return "".join(masked)
    email = _EMAIL.match(text)
    if email:
        return f"{email.group(1)}***@{email.group(2)}"
    return text
