"""Land extract files into the raw schema of the build warehouse, with lineage and quarantine.

Each file is read by DuckDB's CSV reader as text, then every value is cast to its contract
type in one SQL statement. A row that cannot be parsed (wrong number of fields, bad encoding,
a value that does not cast, a required value missing) goes to ``raw._quarantine`` with its
file, row number and reason; every other row lands in ``raw.<entity>``. A ledger,
``raw._ingested_files``, records each file's checksum so a file already loaded, under any
name, is skipped: the same content delivered twice never counts twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from tiering.ingest.contract import ENTITIES, Entity, entity_for_file
from tiering.settings import duckdb_config

RAW_SCHEMA = "raw"
LINEAGE_COLUMNS = (
    ("_source_file", "VARCHAR"),
    ("_source_row", "BIGINT"),
    ("_file_checksum", "VARCHAR"),
    ("_batch_id", "VARCHAR"),
    ("_load_seq", "BIGINT"),
    ("_loaded_at", "TIMESTAMP"),
)


class ContractError(ValueError):
    """A file cannot be read as the entity it claims to be; nothing of it is loaded."""


@dataclass
class FileResult:
    entity: str
    source_file: str
    file_checksum: str
    status: str  # loaded | skipped_already_loaded
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class EntityResult:
    entity: str
    files: list[FileResult] = field(default_factory=list)

    def total(self, attribute: str) -> int:
        return sum(getattr(result, attribute) for result in self.files)

    @property
    def reconciles(self) -> bool:
        return self.total("rows_read") == self.total("rows_loaded") + self.total("rows_quarantined")


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def landed_files(landing_dir: Path, entity: str) -> list[Path]:
    """Files of one entity in the landing folder, oldest delivery first (names carry the date)."""
    if not landing_dir.is_dir():
        return []
    found = [path for path in landing_dir.iterdir() if path.is_file() and _entity_name(path) == entity]
    return sorted(found, key=lambda path: path.name)


def _entity_name(path: Path) -> str | None:
    entity = entity_for_file(path.name)
    return entity.name if entity else None


def ensure_raw_schema(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(f"create schema if not exists {RAW_SCHEMA}")
    for entity in ENTITIES.values():
        columns = [f"{column.name} {column.sql_type}" for column in entity.columns]
        columns += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS]
        connection.execute(f"create table if not exists {RAW_SCHEMA}.{entity.name} ({', '.join(columns)})")
    connection.execute(
        f"""
        create table if not exists {RAW_SCHEMA}._ingested_files (
            entity varchar, source_file varchar, file_checksum varchar, batch_id varchar,
            load_seq bigint, loaded_at timestamp, rows_read bigint, rows_loaded bigint,
            rows_quarantined bigint
        )
        """
    )
    connection.execute(
        f"""
        create table if not exists {RAW_SCHEMA}._quarantine (
            entity varchar, source_file varchar, source_row bigint, file_checksum varchar,
            batch_id varchar, loaded_at timestamp, reason varchar, raw_record varchar
        )
        """
    )
    from tiering.quality.validate import DQ_RESULTS_DDL  # the validation history lives beside the ledger

    connection.execute(DQ_RESULTS_DDL)


def read_header(path: Path) -> list[str]:
    """The column names of a CSV file's first line; a UTF-8 byte-order mark is allowed."""
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            first_line = handle.readline()
    except UnicodeDecodeError as error:
        raise ContractError(f"{path.name}, row 1 (header): not UTF-8 text ({error.reason})") from None
    if not first_line.strip():
        raise ContractError(f"{path.name}, row 1 (header): the file is empty; expected a header line")
    # The header is plain identifiers; DuckDB's reader handles quoting in the data rows.
    return [name.strip().strip('"').strip() for name in first_line.rstrip("\r\n").split(",")]


def check_header(path: Path, entity: Entity) -> list[str]:
    """Raise ContractError naming the missing columns; return the extra columns we ignore."""
    header = read_header(path)
    lowered = [name.lower() for name in header]
    missing = [name for name in entity.column_names if name not in lowered]
    if missing:
        raise ContractError(
            f"{path.name}, row 1 (header): missing column(s) {', '.join(missing)} "
            f"required for {entity.name}; found {', '.join(header)}"
        )
    duplicated = sorted({name for name in lowered if lowered.count(name) > 1})
    if duplicated:
        raise ContractError(f"{path.name}, row 1 (header): column(s) {', '.join(duplicated)} appear more than once")
    return [name for name in header if name.lower() not in entity.column_names]


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _cast_failures(entity: Entity) -> tuple[list[str], list[str]]:
    """SQL expressions for typed values and for per-column failure reasons."""
    typed, reasons = [], []
    for column in entity.columns:
        text = f"nullif(trim(src.{column.name}), '')"
        value = text if column.sql_type == "VARCHAR" else f"try_cast({text} as {column.sql_type})"
        typed.append(f"{value} as {column.name}")
        if column.sql_type != "VARCHAR":
            reasons.append(
                f"case when {text} is not null and {value} is null then "
                f"'column {column.name}: ''' || {text} || ''' is not a valid {column.sql_type}' end"
            )
        if column.required:
            reasons.append(f"case when {text} is null then 'column {column.name}: required value is missing' end")
    return typed, reasons


_SCRATCH_TABLES = ("_landing_positioned", "_landing_typed", "_landing_rejected", "_landing_rejects", "_landing_scan")


def _drop_scratch(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute("drop view if exists _landing_positioned")
    for table in _SCRATCH_TABLES[1:]:
        connection.execute(f"drop table if exists {table}")


def _read_typed(connection: duckdb.DuckDBPyConnection, path: Path, entity: Entity) -> None:
    """Read a file once into ``_landing_typed``: typed values, source row, and a reason per bad row.

    DuckDB's CSV reader takes every field as text. Records it cannot split (field count,
    quoting, encoding) go to its reject table with their line and become ``_landing_rejected``;
    every other record is cast to the contract in the same pass. Row numbers count data records
    from 1 after the header.
    """
    _drop_scratch(connection)
    typed, reasons = _cast_failures(entity)
    raw_record = " || ',' || ".join(f"coalesce(src.{name}, '')" for name in entity.column_names)
    # DuckDB computes a repeated expression once; a subquery for it would cost a projection.
    reason = f"nullif(concat_ws('; ', {', '.join(reasons)}), '')"
    # The scratch table is written in file order (preserve_insertion_order, DuckDB's default),
    # so its rowid is the record's ordinal among the records the reader accepted.
    connection.execute(
        f"""
        create temp table _landing_typed as
        select {", ".join(typed)}, {reason} as reason,
               case when {reason} is not null then {raw_record} end as raw_record
        from read_csv({_sql_string(str(path))}, header = true, all_varchar = true,
                      delim = ',', quote = '"', escape = '"', strict_mode = true,
                      store_rejects = true, rejects_scan = '_landing_scan',
                      rejects_table = '_landing_rejects', normalize_names = false) as src
        """
    )
    connection.execute(
        """
        create temp table _landing_rejected as
        select line - 1 as source_row,
               arg_min(error_type || ': ' || error_message, coalesce(column_idx, 0)) as reason,
               any_value(csv_line) as raw_record
        from _landing_rejects
        group by line
        """
    )
    # A record's row is its ordinal among the accepted records plus the rejected records
    # before it. Almost always none was rejected: then the ordinal is the row.
    first, rejected = connection.execute(
        "select (select coalesce(min(rowid), 0) from _landing_typed), (select count(*) from _landing_rejected)"
    ).fetchall()[0]
    if rejected == 0:
        connection.execute(
            f"create temp view _landing_positioned as select *, rowid - {first} + 1 as source_row from _landing_typed"
        )
        return
    connection.execute(
        f"""
        create temp view _landing_positioned as
        select typed.*, typed.good_ordinal + coalesce(offsets.rejects_so_far, 0) as source_row
        from (select *, rowid - {first} + 1 as good_ordinal from _landing_typed) as typed
        asof left join (
            select source_row - row_number() over (order by source_row) as good_before,
                   row_number() over (order by source_row) as rejects_so_far
            from _landing_rejected
        ) as offsets
            on typed.good_ordinal > offsets.good_before
        """
    )


def load_file(
    connection: duckdb.DuckDBPyConnection,
    path: Path,
    entity: Entity,
    *,
    batch_id: str,
    loaded_at: datetime,
) -> FileResult:
    """Load one file into raw.<entity>; quarantine what does not parse. Skips a known checksum."""
    checksum = file_checksum(path)
    seen = connection.execute(
        f"select source_file from {RAW_SCHEMA}._ingested_files where entity = ? and file_checksum = ? limit 1",
        [entity.name, checksum],
    ).fetchall()
    if seen:
        return FileResult(entity.name, path.name, checksum, status="skipped_already_loaded")

    ignored = check_header(path, entity)
    load_seq = connection.execute(
        f"select coalesce(max(load_seq), 0) + 1 from {RAW_SCHEMA}._ingested_files"
    ).fetchall()[0][0]
    lineage = {
        "_source_file": _sql_string(path.name),
        "_file_checksum": _sql_string(checksum),
        "_batch_id": _sql_string(batch_id),
        "_load_seq": str(load_seq),
        "_loaded_at": f"timestamp {_sql_string(loaded_at.strftime('%Y-%m-%d %H:%M:%S.%f'))}",
    }

    # The file is read and cast into a scratch table before the transaction: only what lands
    # in raw (rows, quarantine, ledger) needs to be atomic, and DuckDB copies a committed
    # scratch table into raw twice as fast as one written in the same transaction.
    try:
        _read_typed(connection, path, entity)
    except Exception:
        _drop_scratch(connection)
        raise
    connection.execute("begin transaction")
    try:
        columns = ", ".join(entity.column_names)
        # The typed scratch table is written in file order and never read in order again, so
        # the copy into the raw table may write in parallel.
        connection.execute("set preserve_insertion_order = false")
        connection.execute(
            f"""
            insert into {RAW_SCHEMA}.{entity.name}
            select {columns}, {lineage["_source_file"]}, source_row, {lineage["_file_checksum"]},
                   {lineage["_batch_id"]}, {lineage["_load_seq"]}, {lineage["_loaded_at"]}
            from _landing_positioned where reason is null
            """
        )
        connection.execute("reset preserve_insertion_order")
        connection.execute(
            f"""
            insert into {RAW_SCHEMA}._quarantine
            select {_sql_string(entity.name)}, {lineage["_source_file"]}, source_row, {lineage["_file_checksum"]},
                   {lineage["_batch_id"]}, {lineage["_loaded_at"]}, reason, raw_record
            from (
                select source_row, reason, raw_record from _landing_positioned where reason is not null
                union all
                select source_row, reason, raw_record from _landing_rejected
            )
            """
        )
        loaded, quarantined_typed = connection.execute(
            "select count(*) filter (where reason is null), count(*) filter (where reason is not null) "
            "from _landing_typed"
        ).fetchall()[0]
        rejected = connection.execute("select count(*) from _landing_rejected").fetchall()[0][0]
        result = FileResult(
            entity=entity.name,
            source_file=path.name,
            file_checksum=checksum,
            status="loaded",
            rows_read=loaded + quarantined_typed + rejected,
            rows_loaded=loaded,
            rows_quarantined=quarantined_typed + rejected,
            ignored_columns=ignored,
        )
        connection.execute(
            f"insert into {RAW_SCHEMA}._ingested_files values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                entity.name,
                path.name,
                checksum,
                batch_id,
                load_seq,
                loaded_at,
                result.rows_read,
                result.rows_loaded,
                result.rows_quarantined,
            ],
        )
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    finally:
        connection.execute("reset preserve_insertion_order")
        _drop_scratch(connection)
    return result


def ingest_entity(
    warehouse_path: Path,
    landing_dir: Path,
    entity_name: str,
    *,
    batch_id: str,
    loaded_at: datetime | None = None,
) -> EntityResult:
    """Load every new file of one entity from the landing folder into the warehouse."""
    entity = ENTITIES[entity_name]
    loaded_at = loaded_at or datetime.now()
    result = EntityResult(entity_name)
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse_path), config=duckdb_config()) as connection:
        ensure_raw_schema(connection)
        for path in landed_files(landing_dir, entity_name):
            result.files.append(load_file(connection, path, entity, batch_id=batch_id, loaded_at=loaded_at))
    return result
