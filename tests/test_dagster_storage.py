"""The Dagster instance of DAGSTER_HOME: its dagster.yaml, and the event log that keeps each
run's database open (orchestration/storage.py). Runs and events must be exactly what Dagster's
own storage would hold, readable by it, and visible to a watcher (the UI) as they come."""

import contextlib
import os
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.event_log.sqlite import sqlite_event_log
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from orchestration import storage
from orchestration.instance import DAGSTER_YAML, EARLIER_VERSIONS, ensure


@dg.asset
def tiers() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"customers": 42})


@dg.asset_check(asset=tiers)
def no_customer_twice() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, metadata={"duplicates": 0})


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "dagster"
    ensure(home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def materialize_tiers(instance: dg.DagsterInstance) -> str:
    result = dg.materialize([tiers, no_customer_twice], instance=instance)
    assert result.success
    return result.run_id


def test_the_instance_stores_through_the_kept_open_event_log(home):
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, storage.KeptOpenSqliteEventLogStorage)
        run_id = materialize_tiers(instance)
        run_id_2 = materialize_tiers(instance)
        kept = instance.all_logs(run_id)
        materializations = instance.fetch_materializations(dg.AssetKey("tiers"), limit=10).records
        checks = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("tiers"), "no_customer_twice"), limit=10
        )
    assert [record.run_id for record in materializations] == [run_id_2, run_id]
    assert [record.asset_materialization.metadata["customers"].value for record in materializations] == [42, 42]
    assert [execution.run_id for execution in checks] == [run_id_2, run_id]
    assert all(execution.status.value == "SUCCEEDED" for execution in checks)

    # Closed, every database is whole in its file (no write-ahead log left beside it), and
    # Dagster's own storage reads the same events.
    runs = home / "history" / "runs"
    assert not list(runs.glob("*.db-wal"))
    plain = SqliteEventLogStorage(str(runs))
    read_back = plain.get_logs_for_run(run_id)
    assert len(read_back) == len(kept) > 10
    assert [entry.dagster_event_type for entry in read_back] == [entry.dagster_event_type for entry in kept]
    kinds = [entry.dagster_event_type for entry in read_back]
    assert kinds.count(dg.DagsterEventType.ASSET_MATERIALIZATION) == 1
    assert kinds.count(dg.DagsterEventType.ASSET_CHECK_EVALUATION) == 1
    assert kinds[-1] == dg.DagsterEventType.RUN_SUCCESS


def test_a_watcher_of_a_running_run_sees_each_new_event_within_a_second(home):
    """`dagster dev` follows a run by watching its database file; an event only in the
    write-ahead log would not reach it until the run ended."""
    with dg.DagsterInstance.get() as instance:
        run_id = materialize_tiers(instance)
        time.sleep(storage.SETTLE_SECONDS * 2)
        cursor = instance.get_records_for_run(run_id).cursor  # after the last event stored
        watcher = SqliteEventLogStorage(str(home / "history" / "runs"))
        seen: list[str] = []
        arrived = threading.Event()

        def on_event(entry, cursor):
            seen.append(entry.dagster_event.message)
            arrived.set()

        watcher.watch(run_id, cursor, on_event)
        try:
            time.sleep(0.5)  # the watcher's observer is running
            run = instance.get_run_by_id(run_id)
            written = time.monotonic()
            instance.report_engine_event("the serving file was swapped in", run)
            assert arrived.wait(timeout=10), "the watcher never saw the new event"
            waited = time.monotonic() - written
        finally:
            watcher.end_watch(run_id, on_event)
            watcher.dispose()
    assert seen == ["the serving file was swapped in"]
    assert waited < storage.SETTLE_SECONDS + 1.5


def test_kept_connections_commit_through_the_log_without_waiting_for_the_disk(home, monkeypatch):
    """synchronous = normal, and only in WAL mode; Dagster's check for its asset-check table
    opens the index once, not once for every check result."""
    opened = []
    plain_engine = sqlite_event_log.create_engine

    def counting_engine(url, **kwargs):
        opened.append(str(url))
        return plain_engine(url, **kwargs)

    monkeypatch.setattr(sqlite_event_log, "create_engine", counting_engine)
    with dg.DagsterInstance.get() as instance:
        opened.clear()  # the instance's own start
        run_ids = [materialize_tiers(instance) for _ in range(3)]
        settings = {}
        for shard, engine in instance.event_log_storage._engines.items():
            with engine.connect() as conn:
                settings[shard] = (
                    conn.exec_driver_sql("pragma journal_mode").scalar(),
                    conn.exec_driver_sql("pragma synchronous").scalar(),
                )
        checks = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("tiers"), "no_customer_twice"), limit=10
        )
    assert [execution.run_id for execution in checks] == run_ids[::-1]
    assert settings and all(value == ("wal", 1) for value in settings.values())  # 1: normal
    # Three runs, each storing a planned and an evaluated check: the index was opened once for
    # each table Dagster asks about, where Dagster's own storage opens it for every question.
    assert sum(url.endswith("index.db") for url in opened) <= 2


def open_databases(folder) -> set[str]:
    """The databases in ``folder`` this process holds open."""
    names = set()
    for fd in (Path("/proc/self/fd")).iterdir():
        with contextlib.suppress(OSError):
            target = Path(os.readlink(fd))
            if target.parent == folder and target.suffix == ".db":
                names.add(target.name)
    return names


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through /proc")
def test_a_long_lived_reader_keeps_only_the_recently_used_databases_open(home):
    runs = home / "history" / "runs"
    with dg.DagsterInstance.get() as instance:
        run_ids = [materialize_tiers(instance) for _ in range(storage.KEEP_OPEN + 4)]
        events = {run_id: len(instance.all_logs(run_id)) for run_id in run_ids}
        held = open_databases(runs)
        # The UI reading every run's events again, oldest first.
        again = {run_id: len(instance.all_logs(run_id)) for run_id in run_ids}
        held_after = open_databases(runs)
    assert again == events and min(events.values()) > 10
    assert len(held) <= storage.KEEP_OPEN and len(held_after) <= storage.KEEP_OPEN
    assert "index.db" in held_after and f"{run_ids[-1]}.db" in held_after
    assert f"{run_ids[0]}.db" not in held_after
    assert open_databases(runs) == set()  # the instance closed, nothing is left open


def test_dagster_yaml_is_written_once_and_replaced_only_when_it_is_an_unedited_earlier_one_of_ours(tmp_path):
    home = tmp_path / "dagster"
    path = ensure(home)
    assert path.read_text(encoding="utf-8") == DAGSTER_YAML
    assert "orchestration.storage" in DAGSTER_YAML

    path.write_text(EARLIER_VERSIONS[0], encoding="utf-8")
    ensure(home)
    assert path.read_text(encoding="utf-8") == DAGSTER_YAML

    edited = EARLIER_VERSIONS[0].replace("max_concurrent_runs: 1", "max_concurrent_runs: 2")
    for theirs in (edited, "telemetry:\n  enabled: false\n"):
        path.write_text(theirs, encoding="utf-8")
        ensure(home)
        assert path.read_text(encoding="utf-8") == theirs
