"""Reading the Spark warehouse's tables from DuckDB, for publishing.

dbt on Spark writes each model as Parquet under ``<spark_dir>/warehouse/<schema>.db/<table>/``;
the models that keep every as-of date are partitioned by it (``as_of_date=<date>/`` folders).
Publishing reads those files directly, as DuckDB SQL, and writes the same serving version as on
DuckDB (tiering.duckdb, parquet/*.parquet, the report) with the same atomic switch. It never
opens Spark's catalog (Derby lets one process in at a time) and needs no JVM.

A partitioned table stores its partition column last; the model's own column order is recorded
by dbt beside the warehouse (macro record_column_order) and restored here.
"""

from __future__ import annotations

import json
from pathlib import Path

from tiering.spark.landing import warehouse_dir
from tiering.sql import literal

COLUMN_ORDER_DIR = "column_order"

# Spark SQL type names (DESCRIBE) as DuckDB spells them.
_TYPES = {
    "string": "varchar",
    "int": "integer",
    "bigint": "bigint",
    "smallint": "smallint",
    "tinyint": "tinyint",
    "double": "double",
    "float": "float",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamptz",
    "timestamp_ntz": "timestamp",
}


class SparkWarehouseError(RuntimeError):
    """A table dbt should have written to the Spark warehouse is not there."""


def _quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duckdb_type(spark_type: str) -> str:
    spark_type = spark_type.strip().lower()
    return _TYPES.get(spark_type, spark_type)  # decimal(p,s) is spelled the same


def column_order(spark_dir: Path, schema: str, table: str) -> list[tuple[str, str]] | None:
    """The model's columns and Spark types in its own order, when dbt recorded them."""
    folder = spark_dir / COLUMN_ORDER_DIR / f"{schema}.{table}"
    for part in sorted(folder.glob("part-*.json")) if folder.is_dir() else []:
        for line in part.read_text(encoding="utf-8").splitlines():
            if line.strip():
                recorded = json.loads(line)["columns"]
                return [tuple(column) for column in json.loads(recorded)]
    return None


def relation_sql(spark_dir: Path, relation: str) -> str:
    """DuckDB SQL (a subquery) that reads ``schema.table`` of the Spark warehouse."""
    schema, table = relation.split(".", 1)
    folder = warehouse_dir(spark_dir) / f"{schema}.db" / table
    if not folder.is_dir():
        raise SparkWarehouseError(f"{relation} is not in the Spark warehouse ({folder} is missing); did dbt build it?")
    columns = column_order(spark_dir, schema, table)
    partitioned = any(path.is_dir() and "=" in path.name for path in folder.iterdir())
    files = list(folder.glob("*=*/*.parquet" if partitioned else "*.parquet"))
    if not files:
        if columns is None:
            raise SparkWarehouseError(f"{relation} has no Parquet files in {folder} and no recorded columns")
        typed = ", ".join(f"cast(null as {duckdb_type(kind)}) as {_quote_name(name)}" for name, kind in columns)
        return f"(select {typed} where false)"
    pattern = literal(folder / ("*=*/*.parquet" if partitioned else "*.parquet"))
    if partitioned:
        source = f"read_parquet({pattern}, hive_partitioning = true, hive_types = {{'as_of_date': date}})"
    else:
        source = f"read_parquet({pattern})"
    select = ", ".join(_quote_name(name) for name, _ in columns) if columns else "*"
    return f"(select {select} from {source})"
