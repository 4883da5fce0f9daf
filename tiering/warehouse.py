"""The build warehouse's safety: one run at a time, and a backup before each run.

- ``run_lock``: an exclusive lock on ``$TIERING_DATA_DIR/.tiering.lock`` held for a whole run
  (and by the commands that change the warehouse or the serving folder). A second run waits
  for it up to a limit, then stops with a message naming the run that holds it. The lock is
  the operating system's (flock): it goes with the process, so a killed run leaves none behind.
- ``backup``: a copy of ``warehouse.duckdb`` and of the marts beside it (``marts.duckdb``) in
  ``$TIERING_DATA_DIR/backups/`` taken at the start of every run, before anything changes
  them; the newest ``keep`` are kept.
- ``restore``: put a backup back (``tiering warehouse restore``), under the lock.
- ``create``: a new warehouse, in the storage format of the DuckDB the project pins.
- ``move_marts``: once, the marts of a warehouse made before they had a file of their own.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from tiering.publish.serving import HISTORY_WRITES
from tiering.publish.serving import STORAGE_VERSION as SERVING_STORAGE_VERSION
from tiering.settings import marts_path
from tiering.sql import literal

LOCK_FILE = ".tiering.lock"
BACKUPS_DIR = "backups"
# The warehouse is written most of a run and only the pipeline opens it, so a new one takes the
# format of the DuckDB the project pins, with its newest compression: a run of a million
# customers takes about 5 % less time than in the format every release since 1.0 reads. The
# serving file, which BI tools open with DuckDB drivers of their own, is written in that older
# format (``tiering.publish.serving.STORAGE_VERSION``). A warehouse keeps the format it was
# created in: one made by an earlier version of the project stays readable by it.
STORAGE_VERSION = "latest"


class LockedError(RuntimeError):
    """Another process holds the warehouse."""


class BackupError(RuntimeError):
    """A backup cannot be found or restored."""


def _holder(lock_path: Path) -> str:
    try:
        holder = json.loads(lock_path.read_text(encoding="utf-8"))
        return f"{holder.get('what', 'a run')} (pid {holder.get('pid')}, since {holder.get('since')})"
    except (OSError, ValueError):
        return "another process"


@contextlib.contextmanager
def run_lock(data_dir: Path, what: str, *, wait_seconds: float = 0) -> Iterator[None]:
    """Hold the warehouse for ``what`` (e.g. "run 5c0e30aa"); wait up to ``wait_seconds``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_path = data_dir / LOCK_FILE
    handle = lock_path.open("a+", encoding="utf-8")
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockedError(
                        f"{data_dir} is in use by {_holder(lock_path)}; {what} did not start. Wait for it to "
                        "finish and start again (a run that was killed holds nothing)."
                    ) from None
                time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps({"what": what, "pid": os.getpid(), "since": datetime.now().isoformat(timespec="seconds")})
        )
        handle.flush()
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


@contextlib.contextmanager
def connect_when_free(
    warehouse_path: Path, *, wait_seconds: float, config: dict[str, str], log=None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writing connection to the warehouse, waiting while another process holds DuckDB's lock
    on the file (a dbt process of a killed run finishing its statement, say)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            connection = duckdb.connect(str(warehouse_path), config=config)
            break
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() >= deadline:
                raise
            if log:
                log.warning(f"Waiting for another process to let go of {warehouse_path}: {error}")
            time.sleep(2)
    try:
        yield connection
    finally:
        connection.close()


@dataclass(frozen=True)
class Backup:
    name: str
    path: Path
    size_bytes: int  # the warehouse's and its marts' together
    taken_at: datetime
    marts: Path | None = None  # the copy of the marts taken with it (none before they had a file)


def create(warehouse_path: Path) -> None:
    """Create an empty warehouse in STORAGE_VERSION unless one is there.

    The format is the file's own from then on: later connections need not ask for it."""
    if warehouse_path.exists():
        return
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(warehouse_path), config={"storage_compatibility_version": STORAGE_VERSION}).close()


def _marts_copy(backup_path: Path) -> Path:
    """Where the marts taken with the warehouse backup ``warehouse_<when>_<run>.duckdb`` are."""
    return backup_path.with_name("marts_" + backup_path.name.removeprefix("warehouse_"))


def backups(data_dir: Path) -> list[Backup]:
    """The warehouse backups, oldest first."""
    folder = data_dir / BACKUPS_DIR
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("warehouse_*.duckdb"):
        info = path.stat()
        marts = _marts_copy(path)
        size = info.st_size + (marts.stat().st_size if marts.is_file() else 0)
        taken_at = datetime.fromtimestamp(info.st_mtime)
        found.append(Backup(path.name, path, size, taken_at, marts if marts.is_file() else None))
    return sorted(found, key=lambda backup: (backup.taken_at, backup.name))


def _copy(source: Path, target: Path) -> None:
    staged = target.with_name(f".{target.name}.partial")
    shutil.copyfile(source, staged)
    os.replace(staged, target)


def backup(warehouse_path: Path, data_dir: Path, *, label: str, keep: int) -> Backup | None:
    """Copy the warehouse and its marts aside (nothing to copy on the first night); keep the
    newest ``keep``. The marts are copied first: a listed backup has its marts beside it.

    Call it holding the run lock: no one writes the files while they are copied.
    """
    if not warehouse_path.exists():
        return None
    folder = data_dir / BACKUPS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    made = folder / f"warehouse_{datetime.now():%Y%m%dT%H%M%S}_{label}.duckdb"
    marts = marts_path(warehouse_path)
    if marts.exists():
        _copy(marts, _marts_copy(made))
    _copy(warehouse_path, made)
    for stale in folder.glob(".*.partial"):
        stale.unlink(missing_ok=True)
    kept = backups(data_dir)
    for old in kept[: max(0, len(kept) - keep)]:
        old.path.unlink(missing_ok=True)
        _marts_copy(old.path).unlink(missing_ok=True)
    return next(found for found in kept if found.path == made)


def restore(warehouse_path: Path, data_dir: Path, name: str | None = None) -> Backup:
    """Replace the warehouse and its marts with a backup (the newest when ``name`` is not given).

    A backup taken before the marts had a file of their own holds them in the warehouse: the
    marts file is then removed, and the next run moves them out again (``move_marts``)."""
    available = backups(data_dir)
    if not available:
        raise BackupError(
            f"no warehouse backup in {data_dir / BACKUPS_DIR}; a backup is taken at the start of each run"
        )
    chosen = available[-1] if name is None else next((b for b in available if b.name == name), None)
    if chosen is None:
        names = ", ".join(b.name for b in available)
        raise BackupError(f"no backup named {name!r} in {data_dir / BACKUPS_DIR}; backups: {names}")
    marts = marts_path(warehouse_path)
    for path in (warehouse_path, marts):
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
    if chosen.marts is not None:
        _copy(chosen.marts, marts)
    else:
        marts.unlink(missing_ok=True)
    _copy(chosen.path, warehouse_path)
    return chosen


def move_marts(connection: duckdb.DuckDBPyConnection, marts: Path) -> list[str]:
    """Once, for a warehouse made by a version of the project that kept the marts in its own
    ``marts`` schema: move them, history and all, into the marts file that dbt writes now (the
    main schema of ``marts``, in the serving file's storage format), and drop the schema. The
    record of writes then names each mart where it is (``main.<mart>``), so its writes keep
    counting on. The tables moved; none for a warehouse without the schema.

    The file is written under another name and renamed into place before the schema is dropped:
    a move cut short is made again, whole, by the next run.
    """
    [(schemas,)] = connection.execute(
        "select count(*) from duckdb_schemas() where database_name = current_database() and schema_name = 'marts'"
    ).fetchall()
    if not schemas:
        return []
    tables = [
        name
        for (name,) in connection.execute(
            "select table_name from duckdb_tables() where database_name = current_database() "
            "and schema_name = 'marts' order by table_name"
        ).fetchall()
    ]
    if tables:
        staged = marts.with_name(f".{marts.name}.moving")
        staged.unlink(missing_ok=True)
        connection.execute(f"attach {literal(staged)} as moving (storage_version '{SERVING_STORAGE_VERSION}')")
        try:
            for name in tables:
                columns = "*"
                if name == HISTORY_WRITES:
                    columns = "* replace (regexp_replace(relation, '^marts[.]', 'main.') as relation)"
                connection.execute(f'create table moving.main."{name}" as select {columns} from marts."{name}"')
        finally:
            connection.execute("detach moving")
        marts.with_name(marts.name + ".wal").unlink(missing_ok=True)
        os.replace(staged, marts)
    connection.execute("drop schema marts cascade")
    return tables
