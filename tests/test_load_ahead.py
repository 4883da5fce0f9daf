"""The run's extracts loaded ahead of their steps (orchestration/defs/load_ahead.py): the next
entity loads while a step checks its own, the loads keep the steps' order one at a time, and
the loader gives way on any failure."""

from __future__ import annotations

import threading

import pytest

from orchestration.defs import load_ahead
from orchestration.defs.assets.ingest import _step_name
from tiering.ingest.contract import ENTITIES
from tiering.quality.views import referenced_entities

WAIT = 10  # seconds; the loads below take microseconds unless a test holds them


class Loads:
    """A load function that records each load, its thread, and how many ran at once."""

    def __init__(self, fail: str | None = None, hold: str | None = None):
        self.calls: list[tuple[str, str]] = []
        self.started = {name: threading.Event() for name in "abcd"}
        self.release = threading.Event()
        self.fail, self.hold = fail, hold
        self.running = self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, entity: str) -> str:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.calls.append((entity, threading.current_thread().name))
        self.started[entity].set()
        try:
            if entity == self.hold:
                assert self.release.wait(WAIT)
            if entity == self.fail:
                raise ValueError(f"{entity}: the file breaks the contract")
            return f"loaded {entity}"
        finally:
            with self._lock:
                self.running -= 1


def test_the_next_entity_loads_while_a_step_works_on_its_own():
    loads = Loads()
    loader = load_ahead.LoadAhead(loads, ["a", "b", "c"])

    assert loader.take("a") == "loaded a"
    # The step has not asked for b yet, and b is loading (or loaded) already.
    assert loads.started["b"].wait(WAIT)
    assert loader.take("b") == "loaded b"
    assert loader.take("c") == "loaded c"

    assert loads.calls == [("a", "load-ahead"), ("b", "load-ahead"), ("c", "load-ahead")]
    assert loads.most_at_once == 1
    assert loader.done


def test_a_step_ahead_of_the_foreseen_order_has_its_entity_loaded_next():
    loads = Loads(hold="a")
    loader = load_ahead.LoadAhead(loads, ["a", "b", "c"])
    assert loads.started["a"].wait(WAIT)
    results = []

    taker = threading.Thread(target=lambda: results.append(loader.take("c")), name="step c")
    taker.start()
    taker.join(0.2)
    assert taker.is_alive()  # c waits for a, the load under way
    loads.release.set()
    taker.join(WAIT)

    assert not taker.is_alive() and results == ["loaded c"]
    assert loader.take("a") == "loaded a"
    assert loader.take("b") == "loaded b"
    assert [entity for entity, _ in loads.calls] == ["a", "c", "b"]
    assert loads.most_at_once == 1


def test_a_step_waiting_behind_a_load_that_fails_loads_its_own_entity():
    loads = Loads(fail="a", hold="a")
    loader = load_ahead.LoadAhead(loads, ["a", "b"])
    assert loads.started["a"].wait(WAIT)
    results = []

    taker = threading.Thread(target=lambda: results.append(loader.take("b")), name="step b")
    taker.start()
    loads.release.set()
    taker.join(WAIT)

    assert not taker.is_alive() and results == ["loaded b"]
    assert loads.calls == [("a", "load-ahead"), ("b", "step b")]
    with pytest.raises(ValueError, match="a: the file breaks the contract"):
        loader.take("a")


def test_a_failed_load_is_raised_by_its_step_and_the_later_steps_load_their_own():
    loads = Loads(fail="b")
    loader = load_ahead.LoadAhead(loads, ["a", "b", "c", "d"])

    assert loader.take("a") == "loaded a"
    with pytest.raises(ValueError, match="b: the file breaks the contract"):
        loader.take("b")
    assert loader.take("c") == "loaded c"

    assert loads.calls[:2] == [("a", "load-ahead"), ("b", "load-ahead")]
    assert loads.calls[2] == ("c", threading.current_thread().name)
    assert not loads.started["d"].is_set()  # nothing is loaded that no step asked for


def test_stop_waits_for_the_load_under_way_and_forgets_what_no_step_took():
    loads = Loads(hold="b")
    loader = load_ahead.LoadAhead(loads, ["a", "b", "c"])
    assert loader.take("a") == "loaded a"
    assert loads.started["b"].wait(WAIT)

    stopper = threading.Thread(target=loader.stop)
    stopper.start()
    stopper.join(0.2)
    assert stopper.is_alive()  # b is still loading: stop waits for it
    loads.release.set()
    stopper.join(WAIT)

    assert not stopper.is_alive()
    assert not loads.started["c"].is_set()
    # The rollback after a stop removes b's delivery: its step loads it again, as does c's.
    assert loader.take("b") == "loaded b"
    assert loader.take("c") == "loaded c"
    here = threading.current_thread().name
    assert loads.calls == [("a", "load-ahead"), ("b", "load-ahead"), ("b", here), ("c", here)]


def test_a_stopped_loader_stays_the_runs_so_later_steps_load_their_own():
    loads = Loads()
    started = load_ahead.for_run("stopped-run", lambda: load_ahead.LoadAhead(loads, ["a"]))
    load_ahead.stop("stopped-run")
    again = load_ahead.for_run("stopped-run", lambda: load_ahead.LoadAhead(loads, ["b"]))

    assert again is started
    assert again.take("a") == "loaded a"
    load_ahead.taken("stopped-run")  # every step took its load: the run's loader is forgotten
    fresh = load_ahead.for_run("stopped-run", lambda: load_ahead.LoadAhead(loads, []))
    assert fresh is not started
    load_ahead.taken("stopped-run")
    assert load_ahead.for_run("stopped-run", lambda: started) is started
    load_ahead.taken("stopped-run")


def test_the_order_is_the_executors():
    # Dagster's in-process executor runs the ready steps first in, first out; the nightly job
    # ran them in this order (tests/test_recovery.py checks it against a real run's output).
    names = list(ENTITIES)
    order = load_ahead.step_order(names, {name: referenced_entities(name) for name in names}, _step_name)
    assert order == [
        "crm_customers",
        "erp_customers",
        "erp_products",
        "crm_complaints",
        "erp_receivables",
        "erp_orders",
    ]
    assert load_ahead.step_order(["b", "a", "c"], {"a": ["c"]}, str) == ["b", "c", "a"]


def test_the_warehouse_stays_open_while_the_loader_works_and_closes_after(tmp_path):
    # Two threads opening and closing a DuckDB file's connections can collide ("Unique file
    # handle conflict") when one opens as the other closes the last: the loader holds one.
    import duckdb

    path = str(tmp_path / "warehouse.duckdb")
    hold = duckdb.connect(path)
    hold.execute("create table loaded (entity varchar)")

    def load(entity: str) -> str:
        with duckdb.connect(path) as connection:
            connection.execute("insert into loaded values (?)", [entity])
        return entity

    loader = load_ahead.LoadAhead(load, [f"e{i}" for i in range(200)], hold=hold)
    for i in range(200):
        assert loader.take(f"e{i}") == f"e{i}"
        with duckdb.connect(path) as connection:  # the step's own connection, meanwhile
            assert connection.execute("select count(*) from loaded where entity = ?", [f"e{i}"]).fetchall() == [(1,)]
    loader.stop()

    with pytest.raises(duckdb.ConnectionException):
        hold.execute("select 1")
    with duckdb.connect(path, read_only=True) as connection:
        assert connection.execute("select count(*) from loaded").fetchall() == [(200,)]
