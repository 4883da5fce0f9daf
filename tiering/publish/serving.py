"""Publish the marts for BI as one serving version, switched in at once.

BI tools read ``serving/tiering.duckdb`` and ``serving/parquet/*.parquet`` and never the build
warehouse, so a dashboard holding a file open neither blocks the nightly run nor sees a
half-built state. Each publication is a complete version in its own folder::

    serving/versions/<as-of>_<run>/   tiering.duckdb, parquet/*.parquet, report.html
    serving/current                   -> versions/<as-of>_<run>   (one symlink, switched at once)
    serving/tiering.duckdb            -> current/tiering.duckdb   (the paths BI users already use)
    serving/parquet                   -> current/parquet
    serving/tiering.xlsx              -> current/tiering.xlsx     (the workbook for people)
    serving/reports/latest.html       -> ../current/report.html

A version starts as a copy of the current version's DuckDB file when the warehouse's record
of writes (``marts._history_writes``) shows which as-of dates of each history mart were written
since: only those dates' rows are copied again, and the tables that keep no history are copied
whole. Otherwise, and always on the first night, every table is copied whole. Either way the
version holds every row of every mart; ``_publication.rows_written`` says what it copied.

A version is written under a hidden name and renamed into ``versions/`` only when all of it
is written; then the ``current`` symlink is replaced by one rename. A kill at any instant
leaves either the old version or the new one current, whole, for the DuckDB file and the
Parquet files alike. The next publication removes half-written versions, and keeps the last
``keep_versions`` complete ones, so an operator can roll back with one command
(``tiering serving rollback``).
"""

from __future__ import annotations

import os
import shutil
import unicodedata
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from tiering import settings
from tiering.faults import crash_point
from tiering.publish import catalog
from tiering.publish.workbook import SHEETS as WORKBOOK_SHEETS  # noqa: I001
from tiering.publish.workbook import WORKBOOK_FILE, write_workbook
from tiering.sql import literal

# Published table -> the warehouse relation it copies. The names are a contract with BI users.
PUBLISHED_TABLES: dict[str, str] = {
    "customer_tiers": "marts.customer_tiers",
    "customer_indicator_scores": "marts.customer_indicator_scores",
    "tier_summary": "marts.tier_summary",
    "tier_summary_effective": "marts.tier_summary_effective",
    "tier_changes": "marts.tier_changes",
    "churn_risk_customers": "marts.churn_risk_customers",
    "tier_migration": "marts.tier_migration",
    "tier_kpis": "marts.tier_kpis",
    "dimension_summary": "marts.dimension_summary",
    "verification_sample": "marts.verification_sample",
    # The audit trail of cleaning (phones and emails masked or absent).
    "dq_results": "marts.dq_results",
    "customer_crosswalk": "marts.customer_crosswalk",
    "outlier_flags": "marts.outlier_flags",
    "reconciliation": "marts.reconciliation",
    "quarantined_rows": "marts.quarantined_rows",
    "landing_files": "marts.landing_files",
}

PUBLICATION_TABLE = "_publication"
DATABASE_FILE = "tiering.duckdb"
# The storage format of a new serving file: one that BI tools' DuckDB drivers of release 1.0
# and later open. The DuckDB the project pins would otherwise write its own, which no driver
# older than itself reads. A version that starts as a copy keeps the format of the file it copies.
STORAGE_VERSION = "v1.0.0"
PARQUET_DIR = "parquet"
REPORT_FILE = "report.html"
VERSIONS_DIR = "versions"
CURRENT = "current"
COMPLETE_MARKER = ".complete"


class ServingError(RuntimeError):
    """A serving version cannot be found or switched to."""


@dataclass(frozen=True)
class Publication:
    version: str
    version_dir: Path
    serving_path: Path
    parquet_dir: Path
    row_counts: dict[str, int]
    published_at: datetime


def versions_dir(serving_dir: Path) -> Path:
    return serving_dir / VERSIONS_DIR


def complete_versions(serving_dir: Path) -> list[str]:
    """The complete versions, oldest first (names sort by as-of date, then by run)."""
    root = versions_dir(serving_dir)
    if not root.is_dir():
        return []
    found = [
        path
        for path in root.iterdir()
        if not path.name.startswith(".") and path.is_dir() and (path / COMPLETE_MARKER).exists()
    ]
    return [path.name for path in sorted(found, key=lambda path: (path.stat().st_mtime, path.name))]


def current_version(serving_dir: Path) -> str | None:
    link = serving_dir / CURRENT
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def _symlink(target: str, link: Path) -> None:
    """Point ``link`` at ``target`` in one atomic rename (a new symlink renamed over the old)."""
    staged = link.with_name(f".{link.name}.{uuid.uuid4().hex[:8]}.link")
    os.symlink(target, staged)
    os.replace(staged, link)


def _ensure_stable_paths(serving_dir: Path) -> None:
    """The paths BI users open, as links through ``current``; an older layout's plain files
    (before versions) move into a version of their own first."""
    database, parquet = serving_dir / DATABASE_FILE, serving_dir / PARQUET_DIR
    if (database.exists() and not database.is_symlink()) or (parquet.is_dir() and not parquet.is_symlink()):
        legacy = versions_dir(serving_dir) / "legacy"
        legacy.mkdir(parents=True, exist_ok=True)
        for path in (database, parquet):
            if path.exists() and not path.is_symlink():
                os.replace(path, legacy / path.name)
        (legacy / COMPLETE_MARKER).write_text("the serving folder as it was before versions\n", encoding="utf-8")
    links = [(database, f"{CURRENT}/{DATABASE_FILE}"), (parquet, f"{CURRENT}/{PARQUET_DIR}")]
    if (serving_dir / CURRENT / WORKBOOK_FILE).exists():
        links.append((serving_dir / WORKBOOK_FILE, f"{CURRENT}/{WORKBOOK_FILE}"))
    for link, target in links:
        if not link.is_symlink() or os.readlink(link) != target:
            _symlink(target, link)
    reports = serving_dir / "reports"
    reports.mkdir(exist_ok=True)
    latest = reports / "latest.html"
    if not latest.is_symlink():
        _symlink(f"../{CURRENT}/{REPORT_FILE}", latest)


def switch_to(serving_dir: Path, version: str) -> None:
    """Make a complete version the current one, in one atomic step."""
    if version not in complete_versions(serving_dir):
        known = ", ".join(complete_versions(serving_dir)) or "none"
        raise ServingError(f"no complete serving version {version!r} in {versions_dir(serving_dir)}; versions: {known}")
    _symlink(f"{VERSIONS_DIR}/{version}", serving_dir / CURRENT)
    _ensure_stable_paths(serving_dir)


def rollback(serving_dir: Path, version: str | None = None) -> str:
    """Switch readers back to ``version``, or to the complete version before the current one."""
    versions = complete_versions(serving_dir)
    current = current_version(serving_dir)
    if version is None:
        older = versions[: versions.index(current)] if current in versions else versions[:-1]
        if not older:
            raise ServingError(f"no serving version before {current} to roll back to; versions: {', '.join(versions)}")
        version = older[-1]
    switch_to(serving_dir, version)
    return version


def remove_stale(serving_dir: Path, keep_versions: int) -> list[str]:
    """Remove half-written versions and staging files, and complete versions beyond the newest
    ``keep_versions`` (never the current one). Returns what was removed."""
    removed = []
    root = versions_dir(serving_dir)
    current = current_version(serving_dir)
    if root.is_dir():
        for path in root.iterdir():
            if path.name.startswith(".") or (path.is_dir() and not (path / COMPLETE_MARKER).exists()):
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
                removed.append(path.name)
        complete = complete_versions(serving_dir)
        for version in complete[: max(0, len(complete) - keep_versions)]:
            if version != current:
                shutil.rmtree(root / version, ignore_errors=True)
                removed.append(version)
    # Staging files of the layout before versions, and links a killed switch left behind.
    for path in serving_dir.glob(".*"):
        if path.name.endswith((".tmp", ".wal", ".link")):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


# The warehouse's record of the writes of its history marts, one table in each marts schema,
# kept by the dbt materialization history_table (dbt_project/macros/history_table.sql).
HISTORY_WRITES = "_history_writes"


def _history_marks(connection, database: str, tables: dict[str, str]) -> dict[str, tuple[int, str]]:
    """Relation -> (seq, invocation id) of its newest recorded write, for the published
    relations whose schema keeps a record of writes."""
    marks: dict[str, tuple[int, str]] = {}
    for schema in sorted({relation.split(".")[0] for relation in tables.values() if "." in relation}):
        found = connection.execute(
            "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?",
            [database, schema, HISTORY_WRITES],
        ).fetchall()[0][0]
        if not found:
            continue
        for relation, seq, invocation in connection.execute(
            f"select relation, max(seq), arg_max(invocation_id, seq) from {database}.{schema}.{HISTORY_WRITES} "
            "group by relation"
        ).fetchall():
            if relation in tables.values():
                marks[relation] = (seq, invocation)
    return marks


def _table_shape(connection, database: str, schema: str, table: str) -> list[tuple[str, str]]:
    return connection.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ? order by column_index",
        [database, schema, table],
    ).fetchall()


def _base_version(serving_dir: Path) -> Path | None:
    """The current version's DuckDB file, which a new version may start from."""
    current = current_version(serving_dir)
    if current is None or current not in complete_versions(serving_dir):
        return None
    path = versions_dir(serving_dir) / current / DATABASE_FILE
    # A write-ahead log beside it: someone wrote into the file, which is then not copied.
    return path if path.is_file() and not path.with_name(path.name + ".wal").exists() else None


def _reuse_plan(base: Path, warehouse_path: Path, tables: dict[str, str]) -> dict[str, list] | None:
    """Whether the new version can start as a copy of ``base``: if so, per history table, the
    as-of dates it then copies from the warehouse (the other dates' rows are ``base``'s).

    Every history table (a relation the warehouse records writes of) must qualify, or the
    version is written whole: ``base`` recorded the newest write of the table when it was
    published, the warehouse still holds that write, no write since rewrote the whole table,
    and the table's columns and types are those of the warehouse's relation. The dates to copy
    are those of the writes since. Tables without a record of writes are always copied whole.
    """
    try:
        with duckdb.connect() as connection:
            connection.execute(f"attach {literal(base)} as base (read_only)")
            connection.execute(f"attach {literal(warehouse_path)} as warehouse (read_only)")
            marks = _history_marks(connection, "warehouse", tables)
            if (
                not marks
                or ("history_seq",)
                not in connection.execute(
                    "select column_name from duckdb_columns() where database_name = 'base' and table_name = ?",
                    [PUBLICATION_TABLE],
                ).fetchall()
            ):
                return None
            published = {
                name: (seq, invocation)
                for name, seq, invocation in connection.execute(
                    f"select table_name, history_seq, history_invocation from base.main.{PUBLICATION_TABLE}"
                ).fetchall()
            }
            dates: dict[str, list] = {}
            for name, relation in tables.items():
                if relation not in marks:
                    continue
                seq, invocation = published.get(name, (None, None))
                if seq is None:
                    return None
                schema, table = relation.split(".")
                writes = f"warehouse.{schema}.{HISTORY_WRITES}"
                [(held,)] = connection.execute(
                    f"select count(*) from {writes} where relation = ? and seq = ? and invocation_id = ?",
                    [relation, seq, invocation],
                ).fetchall()
                since = connection.execute(
                    f"select distinct as_of_date, whole_table from {writes} where relation = ? and seq > ?",
                    [relation, seq],
                ).fetchall()
                if not held or any(whole for _, whole in since):
                    return None
                if _table_shape(connection, "base", "main", name) != _table_shape(
                    connection, "warehouse", schema, table
                ):
                    return None
                dates[name] = sorted({day for day, _ in since if day is not None})
    except duckdb.Error:
        return None  # the current version cannot be read (held open for writing): write the new one whole
    return dates


def _count(connection, relation: str) -> int:
    return connection.execute(f"select count(*) from {relation}").fetchall()[0][0]


def _replace_dates(connection, name: str, source: str, dates: list) -> int:
    """Replace a table's rows of ``dates`` with the warehouse's; the rows written."""
    if not dates:
        return 0
    days = ", ".join(f"date '{day.isoformat()}'" for day in dates)
    connection.execute(f"delete from main.{name} where as_of_date in ({days})")
    return connection.execute(
        f"insert into main.{name} select * from {source} where as_of_date in ({days})"
    ).fetchall()[0][0]


def publish(
    warehouse_path: Path,
    serving_dir: Path,
    *,
    run_id: str,
    as_of: str,
    tables: dict[str, str] | None = None,
    keep_versions: int = 7,
    write_extras: Callable[[Path], None] | None = None,
    before_switch: Callable[[], None] | None = None,
    duckdb_config: dict[str, str] | None = None,
    read_relation: Callable[[str], str] | None = None,
    docs: dict[str, catalog.TableDoc] | None = None,
    workbook_max_rows: int = 10_000,
) -> Publication:
    """Write a complete serving version from the warehouse's marts, then switch readers to it.

    ``write_extras(version_dir)`` adds files to the version before it is complete (the auditor
    report); ``before_switch()`` runs after the version is complete and before the switch (the
    run accepts its deliveries there). ``read_relation(relation)``: SQL that reads a mart from
    elsewhere than the DuckDB warehouse (the Spark warehouse's Parquet: tiering.spark.warehouse).

    Types: the DuckDB file keeps the warehouse's exact DECIMALs (DuckDB hands them to pandas as
    float64, and ODBC to Power BI and Excel as numbers); the Parquet files carry them as DOUBLE,
    which every Parquet reader takes as a number (pyarrow would hand pandas ``Decimal`` objects).
    Every table and column carries its dbt description (``docs``, from the manifest by default).
    """
    tables = tables or PUBLISHED_TABLES
    docs = docs if docs is not None else catalog.load(tables)
    remove_stale(serving_dir, keep_versions)
    version = f"{as_of}_{run_id[:8]}"
    root = versions_dir(serving_dir)
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{version}.{uuid.uuid4().hex[:8]}.partial"
    (staging / PARQUET_DIR).mkdir(parents=True)
    published_at = datetime.now()
    row_counts: dict[str, int] = {}
    database = staging / DATABASE_FILE
    base = None if read_relation else _base_version(serving_dir)
    plan = _reuse_plan(base, warehouse_path, tables) if base else None
    if plan:
        shutil.copyfile(base, database)
    written: dict[str, int] = {}  # rows copied into the tables taken from the current version
    config = {**(duckdb_config or settings.duckdb_config()), "storage_compatibility_version": STORAGE_VERSION}
    with duckdb.connect(str(database), config=config) as connection:
        connection.execute(f"attach {literal(warehouse_path)} as warehouse (read_only)")
        marks = {} if read_relation else _history_marks(connection, "warehouse", tables)
        if plan:
            for (name,) in connection.execute(
                "select table_name from duckdb_tables() where database_name = current_database()"
            ).fetchall():
                if name not in plan:
                    connection.execute(f'drop table main."{name}"')
        columns: dict[str, list[tuple[str, str]]] = {}

        def copy(name: str) -> tuple[list[tuple[str, str]], int | None]:
            """Copy one mart into the version, over a cursor of its own: its columns, and the
            rows written when only the dates of ``plan`` were replaced (None: copied whole)."""
            relation = tables[name]
            source = read_relation(relation) if read_relation else f"warehouse.{relation}"
            with connection.cursor() as cursor:
                replaced = None
                if plan and name in plan:
                    replaced = _replace_dates(cursor, name, source, plan[name])
                    # The copy holds as many rows as the mart, or it is written whole after all.
                    if _count(cursor, f"main.{name}") != _count(cursor, source):
                        cursor.execute(f"drop table main.{name}")
                        replaced = None
                if replaced is None:
                    cursor.execute(f"create table main.{name} as select * from {source}")
                table_columns = catalog.table_columns(cursor, name)
                doc = docs.get(name, catalog.TableDoc())
                for statement in catalog.comment_statements(name, doc, [column for column, _ in table_columns]):
                    cursor.execute(statement)
            return table_columns, replaced

        def write_parquet(name: str, table_columns: list[tuple[str, str]]) -> int:
            """Write one copied table's Parquet file; the rows written (COPY's answer). zstd at
            level 1 rather than DuckDB's 3: at a million customers the files are written in
            8 % less time and come out 3 % smaller."""
            numbers = catalog.as_doubles(table_columns)
            with connection.cursor() as cursor:
                rows = cursor.execute(
                    f"copy (select {numbers} from main.{name}) to "
                    f"{literal(staging / PARQUET_DIR / f'{name}.parquet')} "
                    f"(format parquet, compression zstd, compression_level 1, "
                    f"kv_metadata {catalog.parquet_metadata(docs.get(name, catalog.TableDoc()))})"
                ).fetchall()[0][0]
            crash_point("publish:writing_version")
            return rows

        # Two tables are copied at a time, each table's Parquet file is written as soon as it is
        # copied, and the workbook (its writer's work, not DuckDB's) as soon as the tables of its
        # sheets are, which are copied first. A statement over a table smaller than one of
        # DuckDB's row groups (122,880 rows) runs on one thread: the other core takes the next.
        sheets = {sheet.table for sheet in WORKBOOK_SHEETS}
        order = sorted(tables, key=lambda name: name not in sheets)
        pools = [
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="copy"),
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet"),
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbook"),
        ]
        copying, writing, sheets_pool = pools
        try:
            copied = {name: copying.submit(copy, name) for name in order}
            parquet_files: dict[str, Future] = {}
            workbook = None
            for name in order:
                columns[name], replaced = copied[name].result()
                if replaced is not None:
                    written[name] = replaced
                parquet_files[name] = writing.submit(write_parquet, name, columns[name])
                if workbook is None and sheets <= columns.keys():
                    workbook = sheets_pool.submit(
                        write_workbook,
                        database,
                        staging / WORKBOOK_FILE,
                        as_of=as_of,
                        docs=docs,
                        max_rows=workbook_max_rows,
                        connection=connection.cursor(),
                    )
            for name in tables:
                row_counts[name] = parquet_files[name].result()
            if workbook is not None:
                workbook.result()
        finally:
            # On a failure, nothing more starts; what is under way finishes before the file closes.
            for pool in pools:
                pool.shutdown(wait=True, cancel_futures=True)
        connection.execute("detach warehouse")
        connection.execute(
            f"""
            create table main.{PUBLICATION_TABLE} as
            select cast($run_id as varchar) as run_id, cast($as_of as date) as as_of_date,
                   cast($published_at as timestamp) as published_at, cast($version as varchar) as version,
                   unnest($names) as table_name, cast(unnest($counts) as bigint) as row_count,
                   cast(unnest($written) as bigint) as rows_written,
                   cast(unnest($seqs) as bigint) as history_seq,
                   cast(unnest($invocations) as varchar) as history_invocation
            """,
            {
                "run_id": run_id,
                "as_of": as_of,
                "published_at": published_at,
                "version": version,
                "names": list(row_counts),
                "counts": list(row_counts.values()),
                "written": [written.get(name, row_counts[name]) for name in row_counts],
                "seqs": [marks.get(tables[name], (None, None))[0] for name in row_counts],
                "invocations": [marks.get(tables[name], (None, None))[1] for name in row_counts],
            },
        )
    if write_extras:
        write_extras(staging)
    (staging / COMPLETE_MARKER).write_text(f"{run_id}\n{as_of}\n{published_at.isoformat()}\n", encoding="utf-8")
    final = root / version
    if final.exists():  # the same run publishing again: replace its unswitched version
        shutil.rmtree(final)
    os.replace(staging, final)
    crash_point("publish:version_complete")
    if before_switch:
        before_switch()
    crash_point("publish:before_switch")
    switch_to(serving_dir, version)
    crash_point("publish:switched")
    remove_stale(serving_dir, keep_versions)
    return Publication(version, final, serving_dir / DATABASE_FILE, serving_dir / PARQUET_DIR, row_counts, published_at)


# The two tier summaries: of the computed tier (what the rubric gives tonight) and of the
# effective tier (what the business acts on, after the re-tier rules).
TIER_SUMMARIES = {"computed": "tier_summary", "effective": "tier_summary_effective"}


def read_tier_summary(serving_path: Path, as_of: str | None = None, basis: str = "computed") -> list[dict]:
    """The published tier summary of one as-of date (the newest if not given), read-only: the
    tier rows, then the total row. ``basis`` is ``computed`` (tier_summary) or ``effective``
    (tier_summary_effective)."""
    table = TIER_SUMMARIES[basis]
    with duckdb.connect(str(serving_path), read_only=True) as connection:
        date_filter = "cast(? as date)" if as_of else f"(select max(as_of_date) from {table})"
        cursor = connection.execute(
            f"""
            select as_of_date, tier, tier_name_zh, customer_count, customer_share_pct,
                   total_spend_10k, spend_share_pct, avg_margin_pct, is_total_row, tier_basis
            from {table}
            where as_of_date = {date_filter}
            order by is_total_row, sort_order
            """,
            [as_of] if as_of else [],
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _display_width(text))


def format_tier_summary(rows: list[dict]) -> str:
    """The summary as a text table; the total row is the published one (margin spend-weighted)."""
    if not rows:
        return "No tier summary published yet."
    lines = [
        f"Tier summary ({rows[0]['tier_basis']} tier) as of {rows[0]['as_of_date']}; margin % is spend-weighted",
        f"{'tier':<10} {_pad('name', 10)} {'customers':>9} {'share %':>8} "
        f"{'spend 10k CNY':>14} {'spend %':>8} {'margin %':>9}",
    ]

    def number(value, digits=2):
        return "-" if value is None else f"{float(value):,.{digits}f}"

    for row in rows:
        lines.append(
            f"{row['tier']:<10} {_pad(row['tier_name_zh'], 10)} {row['customer_count']:>9} "
            f"{number(row['customer_share_pct']):>8} "
            f"{number(row['total_spend_10k']):>14} {number(row['spend_share_pct']):>8} "
            f"{number(row['avg_margin_pct']):>9}"
        )
    return "\n".join(lines)
