"""The raw schema's bookkeeping: which deliveries are in it, and every change to that.

- ``raw._ingested_files``: one row per delivery whose rows are in the raw tables, with its
  checksum, batch (the run that loaded it), row counts and ``status``: ``pending`` until the run
  that loaded it has published, then ``accepted``. ``superseded`` is true once every key of the
  delivery is in a later one: none of its rows can be a key's latest, so staging skips it.
- ``raw._quarantine``: every row that was not loaded, with file, row and reason.
- ``raw._withdrawn_files``: deliveries an operator withdrew; a file with that content is
  skipped from then on, and says why.
- ``raw._ingest_events``: the audit trail: loaded, accepted, rolled_back, withdrawn.

A run's deliveries are held as ``pending``: when the run fails, or is killed, before it
publishes, they are rolled back (the next run does it first), so a failed delivery never
stays half-committed and the next run with a corrected file needs no hand work.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import duckdb

from tiering.ingest.contract import ENTITIES

RAW_SCHEMA = "raw"
# Each raw row's lineage: its delivery (``_ingested_files.load_seq``, where that delivery's
# file, checksum, batch and load time are kept once) and its row in the file.
LINEAGE_COLUMNS = (
    ("_source_row", "BIGINT"),
    ("_load_seq", "BIGINT"),
)
# Lineage that raw rows carried until 2026-12, each the same for a whole delivery and now kept
# in the ledger only: a warehouse from before loses them from its raw tables once.
DELIVERY_COLUMNS = ("_source_file", "_file_checksum", "_batch_id", "_loaded_at")

PENDING, ACCEPTED = "pending", "accepted"


def ensure_raw_schema(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(f"create schema if not exists {RAW_SCHEMA}")
    for entity in ENTITIES.values():
        columns = [f"{column.name} {column.sql_type}" for column in entity.columns]
        columns += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS]
        connection.execute(f"create table if not exists {RAW_SCHEMA}.{entity.name} ({', '.join(columns)})")
    _drop_delivery_columns(connection)
    connection.execute(
        f"""
        create table if not exists {RAW_SCHEMA}._ingested_files (
            entity varchar, source_file varchar, file_checksum varchar, batch_id varchar,
            load_seq bigint, loaded_at timestamp, rows_read bigint, rows_loaded bigint,
            rows_quarantined bigint
        )
        """
    )
    # Warehouses from before deliveries were held pending: what they hold was accepted.
    connection.execute(
        f"alter table {RAW_SCHEMA}._ingested_files add column if not exists status varchar default '{ACCEPTED}'"
    )
    # Warehouses from before deliveries were marked superseded: every delivery is read, as then.
    connection.execute(
        f"alter table {RAW_SCHEMA}._ingested_files add column if not exists superseded boolean default false"
    )
    connection.execute(
        f"""
        create table if not exists {RAW_SCHEMA}._quarantine (
            entity varchar, source_file varchar, source_row bigint, file_checksum varchar,
            batch_id varchar, loaded_at timestamp, reason varchar, raw_record varchar
        )
        """
    )
    connection.execute(
        f"""
        create table if not exists {RAW_SCHEMA}._withdrawn_files (
            entity varchar, file_checksum varchar, source_file varchar, withdrawn_at timestamp, reason varchar
        )
        """
    )
    connection.execute(
        f"""
        create table if not exists {RAW_SCHEMA}._ingest_events (
            event_at timestamp, event varchar, entity varchar, source_file varchar, file_checksum varchar,
            batch_id varchar, rows_removed bigint, detail varchar
        )
        """
    )
    connection.execute(
        f"""
        create table if not exists {RAW_SCHEMA}._landing_files (
            run_id varchar, as_of_date date, checked_at timestamp, file_name varchar, entity varchar,
            status varchar, reason varchar, size_bytes bigint, file_checksum varchar, rows_read bigint,
            rows_loaded bigint, rows_quarantined bigint
        )
        """
    )
    from tiering.quality.validate import DQ_RESULTS_DDL  # the validation history lives beside the ledger

    connection.execute(DQ_RESULTS_DDL)


def _drop_delivery_columns(connection: duckdb.DuckDBPyConnection) -> None:
    """Take the per-delivery lineage out of the raw tables of a warehouse from before it was kept
    in the ledger alone. Every delivery in a raw table has its ledger row (ingest writes both in
    one transaction, and removes both together), so nothing is lost."""
    stale = connection.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? and column_name in ? "
        "order by table_name, column_name",
        [RAW_SCHEMA, list(DELIVERY_COLUMNS)],
    ).fetchall()
    stale = [(table, column) for table, column in stale if table in ENTITIES]
    if not stale:
        return
    with transaction(connection):
        for table, column in stale:
            connection.execute(f"alter table {RAW_SCHEMA}.{table} drop column {column}")


def record_event(
    connection: duckdb.DuckDBPyConnection,
    event: str,
    *,
    entity: str | None,
    source_file: str | None,
    file_checksum: str | None,
    batch_id: str | None,
    rows_removed: int | None = None,
    detail: str | None = None,
) -> None:
    connection.execute(
        f"insert into {RAW_SCHEMA}._ingest_events values (?, ?, ?, ?, ?, ?, ?, ?)",
        [datetime.now(), event, entity, source_file, file_checksum, batch_id, rows_removed, detail],
    )


@contextlib.contextmanager
def transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One DuckDB transaction: committed when the block ends, rolled back when it raises."""
    connection.execute("begin transaction")
    try:
        yield
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise


def _delivery_event(connection: duckdb.DuckDBPyConnection, event: str, delivery: Delivery, **details) -> None:
    record_event(
        connection,
        event,
        entity=delivery.entity,
        source_file=delivery.source_file,
        file_checksum=delivery.file_checksum,
        batch_id=delivery.batch_id,
        **details,
    )


@dataclass(frozen=True)
class Delivery:
    entity: str
    source_file: str
    file_checksum: str
    batch_id: str
    status: str
    rows_loaded: int
    rows_quarantined: int
    load_seq: int


def deliveries(connection: duckdb.DuckDBPyConnection, **where: str) -> list[Delivery]:
    """Deliveries in the raw tables, filtered by column = value."""
    conditions = " and ".join(f"{column} = ?" for column in where) or "true"
    rows = connection.execute(
        f"""
        select entity, source_file, file_checksum, batch_id, status, rows_loaded, rows_quarantined, load_seq
        from {RAW_SCHEMA}._ingested_files where {conditions} order by load_seq
        """,
        list(where.values()),
    ).fetchall()
    return [Delivery(*row) for row in rows]


def mark_superseded(connection: duckdb.DuckDBPyConnection, entity_name: str) -> int:
    """Mark the deliveries of an entity that hold no key's latest row; returns how many.

    Staging keeps the row of the newest delivery of each key, so a delivery whose every key was
    delivered again later cannot contribute a row. Skipping it keeps staging's latest-delivery
    window the size of the deliveries that matter: when extracts are re-delivered whole every
    night, one delivery, however many nights the raw tables hold. A delivery stays unmarked
    until this has run, which only costs staging the time of reading it.
    """
    live = connection.execute(
        f"select count(*) from {RAW_SCHEMA}._ingested_files where entity = ? and not superseded and rows_loaded > 0",
        [entity_name],
    ).fetchall()[0][0]
    if live < 2:
        return 0
    keys = ", ".join(ENTITIES[entity_name].key)
    (marked,) = connection.execute(
        f"""
        update {RAW_SCHEMA}._ingested_files set superseded = true
        where entity = ? and not superseded and rows_loaded > 0 and load_seq not in (
            select max(_load_seq) from {RAW_SCHEMA}.{entity_name}
            where _load_seq in (
                select load_seq from {RAW_SCHEMA}._ingested_files where entity = ? and not superseded
            )
            group by {keys}
        )
        """,
        [entity_name, entity_name],
    ).fetchall()[0]
    return marked


def _mark_again(connection: duckdb.DuckDBPyConnection, removed: list[Delivery]) -> None:
    """After deliveries are removed, the ones they superseded may hold a key's latest row again:
    their entities' marks are worked out from the start."""
    for entity_name in sorted({delivery.entity for delivery in removed}):
        connection.execute(
            f"update {RAW_SCHEMA}._ingested_files set superseded = false where entity = ?", [entity_name]
        )
        mark_superseded(connection, entity_name)


def _remove(connection: duckdb.DuckDBPyConnection, delivery: Delivery) -> int:
    """Delete one delivery's rows, quarantine rows and ledger row; returns rows removed."""
    key = [delivery.file_checksum, delivery.batch_id]
    (removed,) = connection.execute(
        f"select count(*) from {RAW_SCHEMA}.{delivery.entity} where _load_seq = ?", [delivery.load_seq]
    ).fetchall()[0]
    connection.execute(f"delete from {RAW_SCHEMA}.{delivery.entity} where _load_seq = ?", [delivery.load_seq])
    connection.execute(
        f"delete from {RAW_SCHEMA}._quarantine where entity = ? and file_checksum = ? and batch_id = ?",
        [delivery.entity, *key],
    )
    connection.execute(
        f"delete from {RAW_SCHEMA}._ingested_files where entity = ? and file_checksum = ? and batch_id = ?",
        [delivery.entity, *key],
    )
    return removed


def rollback_batch(connection: duckdb.DuckDBPyConnection, batch_id: str, reason: str) -> list[Delivery]:
    """Take every pending delivery of a run back out of the raw tables, in one transaction."""
    pending = deliveries(connection, batch_id=batch_id, status=PENDING)
    if not pending:
        return []
    with transaction(connection):
        for delivery in pending:
            removed = _remove(connection, delivery)
            _delivery_event(connection, "rolled_back", delivery, rows_removed=removed, detail=reason)
        _mark_again(connection, pending)
    return pending


def recover_unfinished_runs(connection: duckdb.DuckDBPyConnection, current_batch_id: str) -> list[Delivery]:
    """Roll back deliveries left pending by runs that did not finish (failed or killed)."""
    batches = connection.execute(
        f"select distinct batch_id from {RAW_SCHEMA}._ingested_files where status = ? and batch_id <> ?",
        [PENDING, current_batch_id],
    ).fetchall()
    rolled_back = []
    for (batch_id,) in batches:
        rolled_back += rollback_batch(connection, batch_id, "the run that loaded it did not finish")
    return rolled_back


def accept_batch(connection: duckdb.DuckDBPyConnection, batch_id: str) -> int:
    """Mark a run's deliveries accepted: the run has published them."""
    pending = deliveries(connection, batch_id=batch_id, status=PENDING)
    with transaction(connection):
        connection.execute(
            f"update {RAW_SCHEMA}._ingested_files set status = ? where batch_id = ? and status = ?",
            [ACCEPTED, batch_id, PENDING],
        )
        for delivery in pending:
            _delivery_event(connection, "accepted", delivery)
    return len(pending)


class WithdrawError(ValueError):
    """The delivery to withdraw cannot be found."""


def withdraw(connection: duckdb.DuckDBPyConnection, file_name: str, reason: str) -> list[Delivery]:
    """Forget a delivery: its rows leave the raw tables and a file with its content is skipped
    from now on. ``file_name`` is the delivered file's name (or its SHA-256 checksum)."""
    found = [d for d in deliveries(connection) if file_name in (d.source_file, d.file_checksum)]
    if not found:
        known = ", ".join(sorted({d.source_file for d in deliveries(connection)})) or "none"
        raise WithdrawError(f"no delivery named {file_name!r} is in the warehouse; deliveries: {known}")
    with transaction(connection):
        for delivery in found:
            removed = _remove(connection, delivery)
            connection.execute(
                f"insert into {RAW_SCHEMA}._withdrawn_files values (?, ?, ?, ?, ?)",
                [delivery.entity, delivery.file_checksum, delivery.source_file, datetime.now(), reason],
            )
            _delivery_event(connection, "withdrawn", delivery, rows_removed=removed, detail=reason)
        _mark_again(connection, found)
    return found


def withdrawn(connection: duckdb.DuckDBPyConnection, entity: str, file_checksum: str) -> tuple[str, str] | None:
    """When and why a delivery with this content was withdrawn, or None."""
    rows = connection.execute(
        f"""
        select strftime(withdrawn_at, '%Y-%m-%d %H:%M'), reason from {RAW_SCHEMA}._withdrawn_files
        where entity = ? and file_checksum = ? order by withdrawn_at desc limit 1
        """,
        [entity, file_checksum],
    ).fetchall()
    return rows[0] if rows else None


def record_landing(connection: duckdb.DuckDBPyConnection, *, run_id: str, as_of: object, entries: list) -> None:
    """This run's listing of the landing folder (``tiering.ingest.landing.LandingEntry``)."""
    checked_at = datetime.now()
    connection.execute(f"delete from {RAW_SCHEMA}._landing_files where run_id = ?", [run_id])
    rows = [
        (run_id, as_of, checked_at, e.name, e.entity, e.status, e.reason, e.size_bytes, None, None, None, None)
        for e in entries
    ]
    if rows:
        connection.executemany(
            f"insert into {RAW_SCHEMA}._landing_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )


def record_file_results(connection: duckdb.DuckDBPyConnection, *, run_id: str, results: list) -> None:
    """What an entity's asset did with each of its files (``tiering.ingest.load.FileResult``)."""
    for result in results:
        reason = {
            "skipped_already_loaded": f"the same content was loaded before, as {result.detail}",
            "skipped_withdrawn": result.detail,
        }.get(result.status)
        connection.execute(
            f"""
            update {RAW_SCHEMA}._landing_files
            set status = ?, reason = ?, file_checksum = ?, rows_read = ?, rows_loaded = ?, rows_quarantined = ?
            where run_id = ? and file_name = ?
            """,
            [
                result.status,
                reason,
                result.file_checksum,
                result.rows_read,
                result.rows_loaded,
                result.rows_quarantined,
                run_id,
                result.source_file,
            ],
        )
