"""What each published table and column means, from the dbt project's own documentation.

The descriptions written beside the models in YAML are the one source; the serving DuckDB file
carries them as ``COMMENT ON`` (``duckdb_tables().comment``, ``duckdb_columns().comment``, shown
by DBeaver, DataGrip and ``describe``), the Parquet files as key-value metadata, and the Excel
workbook as header notes. A published column without a description fails a test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tiering.sql import literal

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = PROJECT_ROOT / "dbt_project" / "target" / "manifest.json"


@dataclass(frozen=True)
class TableDoc:
    description: str = ""
    columns: dict[str, str] = field(default_factory=dict)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def load(tables: dict[str, str], manifest_path: Path = MANIFEST) -> dict[str, TableDoc]:
    """Published table -> its documentation, for the models in ``tables`` (``schema.model``).
    Tables the manifest does not know get empty documentation."""
    if not manifest_path.is_file():
        return {name: TableDoc() for name in tables}
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    by_relation: dict[str, dict] = {}
    by_model: dict[str, dict] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") in ("model", "seed", "snapshot"):
            identifier = node.get("alias") or node.get("name")
            by_relation[f"{node.get('schema')}.{identifier}"] = node
            if node.get("resource_type") == "model":
                by_model[identifier] = node
    docs: dict[str, TableDoc] = {}
    for name, relation in tables.items():
        # On DuckDB the marts are the main schema of a file of their own: found by name.
        node = by_relation.get(relation) or by_model.get(relation.rsplit(".", 1)[-1])
        if node is None:
            docs[name] = TableDoc()
            continue
        columns = {column: _clean(spec.get("description")) for column, spec in node.get("columns", {}).items()}
        docs[name] = TableDoc(_clean(node.get("description")), columns)
    return docs


def comment_statements(table: str, doc: TableDoc, columns: list[str]) -> list[str]:
    """``COMMENT ON`` statements for one published table in the serving file."""
    statements = []
    if doc.description:
        statements.append(f"comment on table main.{table} is {literal(doc.description)}")
    for column in columns:
        if doc.columns.get(column):
            statements.append(f'comment on column main.{table}."{column}" is {literal(doc.columns[column])}')
    return statements


def parquet_metadata(doc: TableDoc) -> str:
    """A ``KV_METADATA`` clause for COPY: the table's description and the column descriptions
    as JSON, readable with ``parquet_kv_metadata()`` or pyarrow's ``schema.metadata``."""
    entries = {"description": doc.description, "column_descriptions": json.dumps(doc.columns, ensure_ascii=False)}
    return "{" + ", ".join(f"{key}: {literal(value)}" for key, value in entries.items()) + "}"


def table_columns(connection, table: str) -> list[tuple[str, str]]:
    """``(name, type)`` of each column of ``main.<table>`` in the connection's own database, in order."""
    return connection.execute(
        "select column_name, data_type from duckdb_columns() where database_name = current_database() "
        "and schema_name = 'main' and table_name = ? order by column_index",
        [table],
    ).fetchall()


def as_doubles(columns: list[tuple[str, str]]) -> str:
    """A select list of ``(name, type)`` columns with the DECIMAL columns cast to DOUBLE: the
    number type every BI reader takes as a number."""
    return ", ".join(
        f'cast("{name}" as double) as "{name}"' if kind.startswith("DECIMAL") else f'"{name}"' for name, kind in columns
    )
