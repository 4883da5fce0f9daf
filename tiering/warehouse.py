"""The build warehouse's safety: one run at a time, and a backup before each run.

- ``run_lock``: an exclusive lock on ``$TIERING_DATA_DIR/.tiering.lock`` held for a whole run
  (and by the commands that change the warehouse or the serving folder). A second run waits
  for it up to a limit, then stops with a message naming the run that holds it. The lock is
  the operating system's (flock): it goes with the process, so a killed run leaves none behind.
- ``backup``: a copy of ``warehouse.duckdb`` in ``$TIERING_DATA_DIR/backups/`` taken at the
  start of every run, before anything changes it; the newest ``keep`` are kept.
- ``restore``: put a backup back (``tiering warehouse restore``), under the lock.
- ``create``: a new warehouse, in the storage format of the DuckDB the project pins.
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
    size_bytes: int
    taken_at: datetime


def create(warehouse_path: Path) -> None:
    """Create an empty warehouse in STORAGE_VERSION unless one is there.

    The format is the file's own from then on: later connections need not ask for it."""
    if warehouse_path.exists():
        return
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(warehouse_path), config={"storage_compatibility_version": STORAGE_VERSION}).close()


def backups(data_dir: Path) -> list[Backup]:
    """The warehouse backups, oldest first."""
    folder = data_dir / BACKUPS_DIR
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("warehouse_*.duckdb"):
        info = path.stat()
        found.append(Backup(path.name, path, info.st_size, datetime.fromtimestamp(info.st_mtime)))
    return sorted(found, key=lambda backup: (backup.taken_at, backup.name))


def backup(warehouse_path: Path, data_dir: Path, *, label: str, keep: int) -> Backup | None:
    """Copy the warehouse aside (nothing to copy on the first night); keep the newest ``keep``.

    Call it holding the run lock: no one writes the file while it is copied.
    """
    if not warehouse_path.exists():
        return None
    folder = data_dir / BACKUPS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    name = f"warehouse_{datetime.now():%Y%m%dT%H%M%S}_{label}.duckdb"
    staged = folder / f".{name}.partial"
    shutil.copyfile(warehouse_path, staged)
    os.replace(staged, folder / name)
    for stale in folder.glob(".*.partial"):
        stale.unlink(missing_ok=True)
    for old in backups(data_dir)[: max(0, len(backups(data_dir)) - keep)]:
        old.path.unlink(missing_ok=True)
    made = folder / name
    info = made.stat()
    return Backup(name, made, info.st_size, datetime.fromtimestamp(info.st_mtime))


def restore(warehouse_path: Path, data_dir: Path, name: str | None = None) -> Backup:
    """Replace the warehouse with a backup (the newest when ``name`` is not given)."""
    available = backups(data_dir)
    if not available:
        raise BackupError(
            f"no warehouse backup in {data_dir / BACKUPS_DIR}; a backup is taken at the start of each run"
        )
    chosen = available[-1] if name is None else next((b for b in available if b.name == name), None)
    if chosen is None:
        names = ", ".join(b.name for b in available)
        raise BackupError(f"no backup named {name!r} in {data_dir / BACKUPS_DIR}; backups: {names}")
    staged = warehouse_path.with_name(f".{warehouse_path.name}.restoring")
    shutil.copyfile(chosen.path, staged)
    warehouse_path.with_name(warehouse_path.name + ".wal").unlink(missing_ok=True)
    os.replace(staged, warehouse_path)
    return chosen
