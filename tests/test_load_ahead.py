"""The run's extracts loaded one step ahead (orchestration/defs/load_ahead.py): the next
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


def test_a_step_ahead_of_the_loader_loads_its_own_entity_after_the_load_under_way():
    loads = Loads(hold="a")
    loader = load_ahead.LoadAhead(loads, ["a", "b", "c"])
    assert loads.started["a"].wait(WAIT)

    taker = threading.Thread(target=lambda: loader.take("c"), name="step c")
    taker.start()
    loads.release.set()
    taker.join(WAIT)

    assert loader.take("a") == "loaded a"
    assert loader.take("b") == "loaded b"
    assert ("c", "step c") in loads.calls and ("c", "load-ahead") not in loads.calls
    assert loads.most_at_once == 1


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


def test_stop_waits_for_the_load_under_way_and_starts_no_other():
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
    assert loader.take("b") == "loaded b"  # what was loaded is handed over, for the rollback to count
    assert loader.take("c") == "loaded c"
    assert loads.calls[-1] == ("c", threading.current_thread().name)


def test_a_stopped_loader_stays_the_runs_so_later_steps_load_their_own():
    loads = Loads()
    started = load_ahead.for_run("run-1", lambda: load_ahead.LoadAhead(loads, ["a"]))
    load_ahead.stop("run-1")
    again = load_ahead.for_run("run-1", lambda: load_ahead.LoadAhead(loads, ["b"]))

    assert again is started
    assert again.take("a") == "loaded a"
    load_ahead.taken("run-1")
    assert load_ahead.for_run("run-1", lambda: load_ahead.LoadAhead(loads, [])) is not started


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
