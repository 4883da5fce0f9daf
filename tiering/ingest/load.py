"""Land extract files into the raw schema of the build warehouse, with lineage and quarantine.

Each file is read once by DuckDB's CSV reader as text and checked against the contract in SQL
(``tiering.ingest.checks``): a record the reader cannot split, a value that is not exactly what
its column allows, a row that breaks a rule between its values (an invoice paid before it was
issued), an order in a currency without a rate, and every row of a key that the file repeats
with different values go to ``raw._quarantine`` with file, row, column and reason; the rest
lands in ``raw.<entity>``, all in one transaction with its ledger row. A checksum ledger skips
content already loaded, under any name; see ``tiering.ingest.ledger`` for how a run's
deliveries are held pending until it publishes.

A file that cannot be read as the entity it claims (not UTF-8, a column missing) is refused
whole with a ``ContractError`` naming the file, row and column: nothing of it is loaded.

A file a source profile matched (``tiering.sources``) is first normalised into the contract's
text relation in DuckDB, with each row's number in the exported file; the same checks follow.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from tiering import settings
from tiering.ingest.checks import entity_checks, plain_row, row_flags
from tiering.ingest.contract import ENTITIES, Entity, entity_for_file
from tiering.ingest.ledger import (
    LINEAGE_COLUMNS,
    PENDING,
    RAW_SCHEMA,
    ensure_raw_schema,
    mark_superseded,
    record_event,
    transaction,
    withdrawn,
)
from tiering.sql import literal

__all__ = [
    "LINEAGE_COLUMNS",
    "RAW_SCHEMA",
    "ContractError",
    "EntityResult",
    "INSERTION_ORDER_OFF",
    "FileResult",
    "ensure_raw_schema",
    "ingest_entity",
    "load_file",
]

# Exchange rates for order lines in another currency than CNY: a seed, dated.
CURRENCY_RATES_SEED = "currency_rates.csv"

# Held while a load copies rows into raw without insertion order, a setting of the whole
# database (every connection of the process to the warehouse): a query whose answer follows
# the rows' order, run in another thread meanwhile (the validation of the entity before,
# tiering's ingest steps loading ahead of their steps), takes it first.
INSERTION_ORDER_OFF = threading.Lock()


class ContractError(ValueError):
    """A file cannot be read as the entity it claims to be; nothing of it is loaded."""


@dataclass
class FileResult:
    entity: str
    source_file: str
    file_checksum: str
    status: str  # loaded | skipped_already_loaded | skipped_withdrawn
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    detail: str | None = None


@dataclass
class EntityResult:
    entity: str
    files: list[FileResult] = field(default_factory=list)

    def total(self, attribute: str) -> int:
        return sum(getattr(result, attribute) for result in self.files)

    @property
    def reconciles(self) -> bool:
        return self.total("rows_read") == self.total("rows_loaded") + self.total("rows_quarantined")


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def file_checksum(path: Path) -> str:
    """SHA-256 of the file as delivered (compressed files: of the compressed bytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _line_bytes(path: Path, line_number: int) -> bytes:
    with _open_binary(path) as handle:
        for number, line in enumerate(handle, start=1):
            if number == line_number:
                return line
    return b""


def _refuse_other_encoding(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A file in another encoding than UTF-8 is refused whole, naming its first bad row and
    the encoding it reads as; a UTF-8 file with a corrupt row has that row quarantined."""
    bad = connection.execute("select min(line) from _landing_rejects where error_type = 'INVALID ENCODING'").fetchall()[
        0
    ][0]
    if bad is None:
        return
    line = _line_bytes(path, int(bad))
    for encoding in ("gb18030", "utf-16"):
        try:
            line.decode(encoding)
        except UnicodeDecodeError:
            continue
        raise ContractError(
            f"{path.name}, row {int(bad) - 1}: not UTF-8 text; the file reads as {encoding.upper()}. Convert it "
            f"to UTF-8, or deliver it through a source profile that declares its encoding"
        )


def read_header(path: Path) -> list[str]:
    """The column names of a CSV file's first line; a UTF-8 byte-order mark is allowed."""
    with _open_binary(path) as handle:
        first_line = handle.readline()
    try:
        decoded = first_line.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ContractError(f"{path.name}, row 1 (header): not UTF-8 text ({error.reason})") from None
    if not decoded.strip():
        raise ContractError(f"{path.name}, row 1 (header): the file is empty; expected a header line")
    # The header is plain identifiers; DuckDB's reader handles quoting in the data rows.
    return [name.strip().strip('"').strip() for name in decoded.rstrip("\r\n").split(",")]


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


def matched_files(landing_dir: Path, entity: str, profiles: list) -> list[tuple[Path, object]]:
    """Files of one entity, with the source profile binding of each (None: a canonical file),
    in name order. ``profiles``: the active profiles (``tiering.sources.profiles``)."""
    from tiering.sources.profiles import bind, readable_suffix

    canonical = any(profile.is_canonical for profile in profiles)
    found = []
    if not landing_dir.is_dir():
        return found
    for path in landing_dir.iterdir():
        if path.name.startswith(".") or not path.is_file():
            continue
        binding = bind(path.name, profiles) if readable_suffix(path.name) else None
        if binding is not None:
            if binding.entity == entity:
                found.append((path, binding))
            continue
        known = entity_for_file(path.name)
        if canonical and known and known.name == entity:
            found.append((path, None))
    return sorted(found, key=lambda item: item[0].name)


_SCRATCH_TABLES = (
    "_landing_positioned",
    "_landing_typed",
    "_landing_rejected",
    "_landing_rejects",
    "_landing_scan",
    "_currency_rates",
    "_landing_source",
)


def _drop_scratch(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute("drop view if exists _landing_positioned")
    for table in _SCRATCH_TABLES[1:]:
        connection.execute(f"drop table if exists {table}")


def _read_typed(
    connection: duckdb.DuckDBPyConnection, path: Path, entity: Entity, seeds_dir: Path | None, normalised=None
) -> None:
    """Read a file once into ``_landing_typed``: typed values and a reason per bad row; the
    view ``_landing_positioned`` adds each row's number in the file.

    Records the reader cannot split (field count, quoting, encoding) go to its reject table
    with their line and become ``_landing_rejected``. Row numbers count data records from 1
    after the header. ``normalised``: the file was normalised by a source profile into
    ``_landing_source``, which carries each row's number in the exported file.
    """
    if normalised is None:
        _drop_scratch(connection)
    typed, reasons = entity_checks(entity)
    raw_record = " || ',' || ".join(f"coalesce(src.{name}, '')" for name in entity.column_names)
    # DuckDB computes a repeated expression once; a subquery for it would cost a projection.
    reason = f"nullif(concat_ws('; ', {', '.join(reasons)}), '')"
    source = f"""read_csv({literal(path)}, header = true, all_varchar = true,
                          delim = ',', quote = '"', escape = '"', strict_mode = true,
                          store_rejects = true, rejects_scan = '_landing_scan',
                          rejects_table = '_landing_rejects', normalize_names = false)"""
    if normalised is not None:
        source, reason = "_landing_source", f"coalesce(src._pre_reason, {reason})"
        typed = [*typed, "src._source_row as _source_row"]
    # The scratch table is written in file order (preserve_insertion_order, DuckDB's default),
    # so its rowid is the record's ordinal among the records the reader accepted.
    connection.execute(
        f"""
        create temp table _landing_typed as
        select {", ".join(typed)}, {reason} as reason,
               case when {reason} is not null then {raw_record} end as raw_record
        from (
            select *, {", ".join(row_flags(entity))}
            from (select *, {plain_row(entity)} from {source} as src) as src
        ) as src
        """
    )
    if normalised is not None:
        connection.execute(
            "create temp table _landing_rejected (source_row bigint, reason varchar, raw_record varchar)"
        )
        connection.execute(
            "create temp view _landing_positioned as "
            "select *, rowid as typed_rowid, _source_row as source_row from _landing_typed"
        )
        _apply_row_rules(connection, entity, seeds_dir)
        _quarantine_repeated_keys(connection, entity)
        if normalised.reason_prefix:
            prefix = literal(normalised.reason_prefix)
            connection.execute(f"update _landing_typed set reason = {prefix} || reason where reason is not null")
        return
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
            "create temp view _landing_positioned as "
            f"select *, rowid as typed_rowid, rowid - {first} + 1 as source_row from _landing_typed"
        )
    else:
        connection.execute(
            f"""
            create temp view _landing_positioned as
            select typed.*, typed.good_ordinal + coalesce(offsets.rejects_so_far, 0) as source_row
            from (select *, rowid as typed_rowid, rowid - {first} + 1 as good_ordinal from _landing_typed) as typed
            asof left join (
                select source_row - row_number() over (order by source_row) as good_before,
                       row_number() over (order by source_row) as rejects_so_far
                from _landing_rejected
            ) as offsets
                on typed.good_ordinal > offsets.good_before
            """
        )
    _refuse_other_encoding(connection, path)
    _apply_row_rules(connection, entity, seeds_dir)
    _quarantine_repeated_keys(connection, entity)


def _set_reason(connection: duckdb.DuckDBPyConnection, condition: str, reason: str) -> None:
    """Quarantine the rows not yet quarantined for which ``condition`` holds, with ``reason``."""
    connection.execute(f"update _landing_typed set reason = {reason} where reason is null and ({condition})")


def _apply_row_rules(connection: duckdb.DuckDBPyConnection, entity: Entity, seeds_dir: Path | None) -> None:
    for rule in entity.row_rules:
        _set_reason(connection, rule.broken, rule.reason)
        _fill_raw_record(connection, entity)
    if entity.name == "erp_orders":
        _check_currencies(connection, entity, seeds_dir)


def _fill_raw_record(connection: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """The raw record of rows quarantined after typing, from their typed values."""
    record = " || ',' || ".join(f"coalesce(cast({name} as varchar), '')" for name in entity.column_names)
    connection.execute(
        f"update _landing_typed set raw_record = {record} where reason is not null and raw_record is null"
    )


def currency_rates_path(seeds_dir: Path | None) -> Path:
    return (seeds_dir or settings.SEEDS_DIR) / CURRENCY_RATES_SEED


def _check_currencies(connection: duckdb.DuckDBPyConnection, entity: Entity, seeds_dir: Path | None) -> None:
    """An order line in another currency needs a rate for its order date; CNY (or empty) needs none."""
    rates = currency_rates_path(seeds_dir)
    connection.execute(
        f"""
        create temp table _currency_rates as
        select upper(trim(currency)) as currency, cast(valid_from as date) as valid_from,
               cast(valid_to as date) as valid_to
        from read_csv({literal(rates)}, header = true, all_varchar = true)
        """
    )
    _set_reason(
        connection,
        "currency is not null and upper(currency) <> 'CNY' and not exists ("
        "select 1 from _currency_rates as rates where rates.currency = upper(_landing_typed.currency) "
        "and _landing_typed.order_date between rates.valid_from and rates.valid_to)",
        f"'column currency: no CNY rate for ''' || currency || ''' on ' || cast(order_date as varchar) "
        f"|| ' in seeds/{CURRENCY_RATES_SEED}'",
    )
    _fill_raw_record(connection, entity)


def _quarantine_repeated_keys(connection: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """A key the file repeats: every row of it is quarantined when the rows differ (no row can
    be trusted over another); when they are identical, the first row loads and the others are
    quarantined as its duplicates."""
    key = ", ".join(entity.key)
    connection.execute(
        f"""
        create or replace temp table _landing_repeated as
        select {key} from _landing_positioned where reason is null group by {key} having count(*) > 1
        """
    )
    if connection.execute("select count(*) from _landing_repeated").fetchall()[0][0]:
        join = " and ".join(f"typed.{name} = repeated.{name}" for name in entity.key)
        key_text = " || ', ' || ".join(f"'{name}=' || cast(groups.{name} as varchar)" for name in entity.key)
        group_join = " and ".join(f"typed.{name} = groups.{name}" for name in entity.key)
        connection.execute(
            f"""
            create or replace temp table _landing_repeated as
            select {key}, min(value_hash) <> max(value_hash) as is_conflicting, min(source_row) as first_row,
                   string_agg(cast(source_row as varchar), ', ' order by source_row) as source_rows
            from (
                select typed.*, hash({", ".join(f"typed.{name}" for name in entity.column_names)}) as value_hash
                from _landing_positioned as typed
                semi join _landing_repeated as repeated on {join}
                where typed.reason is null
            ) as keyed
            group by {key}
            """
        )
        connection.execute(
            f"""
            update _landing_typed set reason = case
                when groups.is_conflicting then 'key (' || {key_text} || ') appears in rows '
                    || groups.source_rows || ' with different values; none of them is loaded'
                else 'duplicate of row ' || cast(groups.first_row as varchar) || ' (key ' || {key_text}
                    || ', identical values)'
            end
            from _landing_positioned as typed
            inner join _landing_repeated as groups on {group_join}
            where _landing_typed.rowid = typed.typed_rowid and typed.reason is null
                and (groups.is_conflicting or typed.source_row <> groups.first_row)
            """
        )
        _fill_raw_record(connection, entity)
    connection.execute("drop table if exists _landing_repeated")


def _already_seen(
    connection: duckdb.DuckDBPyConnection, path: Path, entity: Entity, checksum: str
) -> FileResult | None:
    """The skip of content loaded before or withdrawn, or None when the file is new."""
    seen = connection.execute(
        f"select source_file from {RAW_SCHEMA}._ingested_files where entity = ? and file_checksum = ? limit 1",
        [entity.name, checksum],
    ).fetchall()
    if seen:
        return FileResult(entity.name, path.name, checksum, status="skipped_already_loaded", detail=seen[0][0])
    was_withdrawn = withdrawn(connection, entity.name, checksum)
    if was_withdrawn:
        detail = f"withdrawn {was_withdrawn[0]}: {was_withdrawn[1]}"
        return FileResult(entity.name, path.name, checksum, status="skipped_withdrawn", detail=detail)
    return None


def _normalise_if_profiled(connection: duckdb.DuckDBPyConnection, path: Path, entity: Entity, binding):
    """The header check of a canonical file, or a profile-matched file normalised into the
    contract's text relation: (columns the contract ignores, the normalised file or None)."""
    if binding is None:
        return check_header(path, entity), None
    from tiering.sources.normalise import normalise
    from tiering.sources.read import SourceReadError

    _drop_scratch(connection)
    try:
        normalised = normalise(connection, path, binding)
    except SourceReadError as error:
        _drop_scratch(connection)
        raise ContractError(str(error)) from None
    return normalised.ignored, normalised


def _lineage(connection: duckdb.DuckDBPyConnection, path: Path, checksum: str, batch_id: str, loaded_at: datetime):
    """The delivery's lineage, as SQL literals: its quarantine rows carry all of it, its raw rows
    the load sequence (the ledger keeps the rest once)."""
    load_seq = connection.execute(
        f"select coalesce(max(load_seq), 0) + 1 from {RAW_SCHEMA}._ingested_files"
    ).fetchall()[0][0]
    return {
        "_source_file": literal(path.name),
        "_file_checksum": literal(checksum),
        "_batch_id": literal(batch_id),
        "_load_seq": str(load_seq),
        "_loaded_at": f"timestamp {literal(loaded_at.strftime('%Y-%m-%d %H:%M:%S.%f'))}",
    }


def _insert_rows_and_quarantine(connection: duckdb.DuckDBPyConnection, entity: Entity, lineage: dict) -> None:
    """The checked rows into raw.<entity>, the refused ones into raw._quarantine."""
    columns = ", ".join(entity.column_names)
    # The scratch table is written in file order and never read in order again, so the copy
    # into the raw table may write in parallel.
    with INSERTION_ORDER_OFF:
        connection.execute("set preserve_insertion_order = false")
        try:
            connection.execute(
                f"""
                insert into {RAW_SCHEMA}.{entity.name}
                select {columns}, source_row, {lineage["_load_seq"]}
                from _landing_positioned where reason is null
                """
            )
        finally:
            connection.execute("reset preserve_insertion_order")
    connection.execute(
        f"""
        insert into {RAW_SCHEMA}._quarantine
        select {literal(entity.name)}, {lineage["_source_file"]}, source_row, {lineage["_file_checksum"]},
               {lineage["_batch_id"]}, {lineage["_loaded_at"]}, reason, raw_record
        from (
            select source_row, reason, raw_record from _landing_positioned where reason is not null
            union all
            select source_row, reason, raw_record from _landing_rejected
        )
        """
    )


def _counted(connection: duckdb.DuckDBPyConnection, path: Path, entity: Entity, checksum: str, ignored) -> FileResult:
    """The file's rows read, loaded and quarantined: read = loaded + quarantined."""
    loaded, quarantined_typed = connection.execute(
        "select count(*) filter (where reason is null), count(*) filter (where reason is not null) from _landing_typed"
    ).fetchall()[0]
    rejected = connection.execute("select count(*) from _landing_rejected").fetchall()[0][0]
    return FileResult(
        entity=entity.name,
        source_file=path.name,
        file_checksum=checksum,
        status="loaded",
        rows_read=loaded + quarantined_typed + rejected,
        rows_loaded=loaded,
        rows_quarantined=quarantined_typed + rejected,
        ignored_columns=ignored,
    )


def _record_delivery(
    connection: duckdb.DuckDBPyConnection, result: FileResult, batch_id: str, load_seq: int, loaded_at: datetime
) -> None:
    """The delivery in the ledger, pending until the run publishes, and its event."""
    connection.execute(
        f"""
        insert into {RAW_SCHEMA}._ingested_files
            (entity, source_file, file_checksum, batch_id, load_seq, loaded_at, rows_read,
             rows_loaded, rows_quarantined, status)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            result.entity,
            result.source_file,
            result.file_checksum,
            batch_id,
            load_seq,
            loaded_at,
            result.rows_read,
            result.rows_loaded,
            result.rows_quarantined,
            PENDING,
        ],
    )
    record_event(
        connection,
        "loaded",
        entity=result.entity,
        source_file=result.source_file,
        file_checksum=result.file_checksum,
        batch_id=batch_id,
        detail=f"{result.rows_loaded} rows loaded, {result.rows_quarantined} quarantined",
    )


def load_file(
    connection: duckdb.DuckDBPyConnection,
    path: Path,
    entity: Entity,
    *,
    batch_id: str,
    loaded_at: datetime,
    seeds_dir: Path | None = None,
    binding=None,
) -> FileResult:
    """Load one file into raw.<entity>; quarantine what the contract refuses. Skips content
    already loaded or withdrawn. ``binding``: the source profile entity the file matched
    (``tiering.sources.profiles.Binding``); None for a canonical file."""
    checksum = file_checksum(path)
    skipped = _already_seen(connection, path, entity, checksum)
    if skipped:
        return skipped
    ignored, normalised = _normalise_if_profiled(connection, path, entity, binding)
    lineage = _lineage(connection, path, checksum, batch_id, loaded_at)

    # The file is read and checked into a scratch table before the transaction: only what lands
    # in raw (rows, quarantine, ledger) needs to be atomic, and DuckDB copies a committed
    # scratch table into raw twice as fast as one written in the same transaction.
    try:
        _read_typed(connection, path, entity, seeds_dir, normalised)
    except Exception:
        _drop_scratch(connection)
        raise
    try:
        with transaction(connection):
            _insert_rows_and_quarantine(connection, entity, lineage)
            result = _counted(connection, path, entity, checksum, ignored)
            _record_delivery(connection, result, batch_id, int(lineage["_load_seq"]), loaded_at)
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
    seeds_dir: Path | None = None,
    duckdb_config: dict[str, str] | None = None,
    sources: tuple[str, ...] = ("canonical",),
) -> EntityResult:
    """Load every new file of one entity from the landing folder into the warehouse.

    ``duckdb_config``: the connection's configuration (memory limit); default from the environment.
    ``sources``: the active source profiles (TIERING_SOURCES); a profile error is a ContractError.
    """
    from tiering.sources.profiles import ProfileError, load_profiles

    try:
        profiles = load_profiles(sources)
    except ProfileError as error:
        raise ContractError(str(error)) from None
    entity = ENTITIES[entity_name]
    loaded_at = loaded_at or datetime.now()
    result = EntityResult(entity_name)
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse_path), config=duckdb_config or settings.duckdb_config()) as connection:
        ensure_raw_schema(connection)
        for path, binding in matched_files(landing_dir, entity_name, profiles):
            result.files.append(
                load_file(
                    connection,
                    path,
                    entity,
                    batch_id=batch_id,
                    loaded_at=loaded_at,
                    seeds_dir=seeds_dir,
                    binding=binding,
                )
            )
        if any(file.status == "loaded" and file.rows_loaded for file in result.files):
            mark_superseded(connection, entity_name)
    return result
