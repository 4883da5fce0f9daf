"""Dagster's SQLite storage in DAGSTER_HOME, with each event database kept open for the run.

Dagster's SQLite event log (one database per run, and an index) opens a new database
connection for every event it stores and closes it again. Closing the last connection to a
database in WAL mode folds its write-ahead log back into the file and removes the log, so every
event pays for opening the file, reading its schema, a checkpoint and the log's removal. A
nightly run stores about 780 events (each dbt model and test is an asset event or an asset
check): at 10,000 customers that was 7.8 s of the job's main thread, in a run of about 30 s.

``KeptOpenSqliteStorage`` is Dagster's own SQLite storage, in the same folders and files, with
one change: its event log keeps one connection per database open while the process lives (at
most ``KEEP_OPEN`` databases: the UI, which reads any number of past runs, closes the runs it
read longest ago). Every event is still its own committed transaction, written through
SQLite's write-ahead log, so a stored event survives a crash of the process as before. The
checkpoint that closing did is done at most twice a second, after writes only
(``SETTLE_SECONDS``): ``dagster dev`` shows a running run's events as they come by watching the
run's database file, which a write into the log alone does not touch.

Two smaller savings halve what is left of storing events (about 2 s less of the job's main
thread at 100,000 customers): the kept connections commit without waiting for the disk
(``synchronous = normal``, the setting SQLite advises for its write-ahead log; the log is
synced at each checkpoint), and Dagster's question whether the index has a table, asked before
every asset check's result is stored, opens the index once per table rather than each time. A
crash of the whole machine may take back the last events stored before it, never the
database's consistency; the warehouse, whose ledger says what was loaded, waits for the disk as
before.

dagster.yaml names this class (``orchestration.instance``). The files are Dagster's own: with
the storage block taken out of dagster.yaml, Dagster's default storage reads them as they are.
The classes extended here are Dagster's internal ones, of the version pinned in
requirements.lock; tests/test_dagster_storage.py checks them again on an upgrade.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator

from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

# How long after a write its database is checkpointed, so that a watcher of the file sees it.
SETTLE_SECONDS = 0.5
# Databases kept open at once, the least recently used run closed first: a run uses two (its
# own and the index), while the UI, which lives for months, reads any number of past runs.
KEEP_OPEN = 8


class KeptOpenSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's run-sharded SQLite event log, each database opened once per process."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._tables: set[str] = set()  # tables of the index known to be there
        super().__init__(base_dir, inst_data=inst_data)
        self._engines: OrderedDict[str, Engine] = OrderedDict()  # least recently used first
        self._written: set[str] = set()  # databases written since their last checkpoint
        self._settle_timer: threading.Timer | None = None
        self._pid = os.getpid()

    def has_table(self, table_name: str) -> bool:
        """Dagster asks before it stores each asset check's result, each time over a new
        connection to the index; a table that is there stays there."""
        if table_name not in self._tables and super().has_table(table_name):
            self._tables.add(table_name)
        return table_name in self._tables

    def _engine(self, shard: str) -> Engine:
        if os.getpid() != self._pid:
            # A forked child: the parent's connections are the parent's; never touch them.
            self._engines, self._written, self._settle_timer = OrderedDict(), set(), None
            self._pid = os.getpid()
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
        else:
            while len(self._engines) >= KEEP_OPEN:
                # The index, which nearly every write touches, stays. Closing the last connection
                # to a database checkpoints it: nothing is left to settle.
                closed = next(name for name in self._engines if name != INDEX_SHARD_NAME)
                self._engines.pop(closed).dispose()
                self._written.discard(closed)
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=StaticPool,  # one connection, kept; self._db_lock lets one thread use it at a time
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                # The connection is kept (StaticPool), and with it this setting: in WAL mode,
                # a commit is written to the log without waiting for the disk; the log is
                # synced at each checkpoint. Only then, never in another journal mode.
                if conn.exec_driver_sql("pragma journal_mode").scalar() == "wal":
                    conn.exec_driver_sql("pragma synchronous = normal")
            self._engines[shard] = engine
        return engine

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            with engine.connect() as conn:
                sqlite = conn.connection.dbapi_connection
                changes = sqlite.total_changes
                with conn.begin():
                    yield conn
                wrote = sqlite.total_changes != changes
            if wrote:
                self._written.add(shard)
                if self._settle_timer is None:
                    self._settle_timer = threading.Timer(SETTLE_SECONDS, self.settle)
                    self._settle_timer.daemon = True
                    self._settle_timer.start()

    def settle(self) -> None:
        """Fold the write-ahead log of every database written since the last call into its file."""
        with self._db_lock:
            self._settle_timer = None
            if os.getpid() != self._pid:
                return
            for shard in sorted(self._written):
                engine = self._engines.get(shard)
                if engine is not None:
                    with engine.connect() as conn:
                        conn.exec_driver_sql("pragma wal_checkpoint(passive)")
            self._written.clear()

    def _close_all(self) -> None:
        timer = self._settle_timer
        if timer is not None:
            timer.cancel()
        self.settle()
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._tables.clear()
        self._close_all()  # the run databases are removed: no connection may keep them
        super().wipe()

    def dispose(self) -> None:
        self._close_all()
        super().dispose()


class KeptOpenSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (runs, event logs, schedules under ``base_dir``) whose event log
    is ``KeptOpenSqliteEventLogStorage``. In dagster.yaml::

        storage:
          custom:
            module: orchestration.storage
            class: KeptOpenSqliteStorage
            config:
              base_dir: {env: DAGSTER_HOME}
    """

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = KeptOpenSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value) -> KeptOpenSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)
