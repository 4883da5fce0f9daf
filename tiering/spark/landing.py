"""The landed tables handed to Spark: every table of the warehouse's ``raw`` schema written as
Parquet into the Spark warehouse, ``<spark_dir>/warehouse/raw.db/<table>/``.

The ingest itself stays as it is: DuckDB reads each delivery, checks it against the contract in
SQL, quarantines the rows it refuses with file, row and reason, and keeps the ledger (checksums,
pending and accepted deliveries, rollbacks). What Spark gets is its result: the extract tables
with their lineage columns (_load_seq, the delivery in the ledger, and _source_row) and the
bookkeeping (_ingested_files, _quarantine, _landing_files, _dq_results, _ingest_events, ...), so
the dbt models on Spark reconcile rows per file and publish the quarantine exactly as on DuckDB.
dbt registers these folders as tables of the Spark catalog's ``raw`` database at the start of
every run (macro register_landed_tables).

Each table is written beside the previous copy and renamed into place, so a reader never sees
half a table; the run lock keeps two runs from doing it at once.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tiering.sql import literal

RAW_SCHEMA = "raw"
DATABASE_DIR = "raw.db"
PARQUET_FILE = "data.parquet"


def warehouse_dir(spark_dir: Path) -> Path:
    """Spark's spark.sql.warehouse.dir (profiles.yml): <spark_dir>/warehouse."""
    return spark_dir / "warehouse"


def raw_dir(spark_dir: Path) -> Path:
    return warehouse_dir(spark_dir) / DATABASE_DIR


@dataclass(frozen=True)
class LandedTable:
    table: str
    path: Path
    rows: int


def land_raw_tables(
    warehouse_path: Path,
    spark_dir: Path,
    *,
    duckdb_config: dict[str, str] | None = None,
    tables: list[str] | None = None,
) -> list[LandedTable]:
    """Write the raw tables (all, or ``tables``) as Parquet for Spark; returns what was written."""
    target_root = raw_dir(spark_dir)
    target_root.mkdir(parents=True, exist_ok=True)
    landed = []
    with duckdb.connect(str(warehouse_path), read_only=True, config=duckdb_config or {}) as connection:
        names = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE'"
                " order by table_name",
                [RAW_SCHEMA],
            ).fetchall()
        ]
        for name in names if tables is None else [t for t in tables if t in names]:
            staged = target_root / f".{name}.{uuid.uuid4().hex[:8]}"
            staged.mkdir()
            target = literal(staged / PARQUET_FILE)
            connection.execute(f'copy (select * from {RAW_SCHEMA}."{name}") to {target} (format parquet)')
            (rows,) = connection.execute(f'select count(*) from {RAW_SCHEMA}."{name}"').fetchone()
            final = target_root / name
            if final.exists():
                old = target_root / f".{name}.{uuid.uuid4().hex[:8]}.old"
                final.rename(old)
                staged.rename(final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                staged.rename(final)
            landed.append(LandedTable(name, final, rows))
    for stale in target_root.glob(".*"):  # left by a run killed while writing
        shutil.rmtree(stale, ignore_errors=True)
    return landed
