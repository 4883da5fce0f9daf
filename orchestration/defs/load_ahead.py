"""The run's extracts loaded ahead of their steps: while an entity's step checks what it
landed (Great Expectations, which is mostly Python), the next entities' files load into DuckDB.

The ingest steps run one after another in one process (``jobs.py``). Each step loads its
entity's files, then validates them. Validating is Python for much of its time (and the first
step also waits for Great Expectations' import), while DuckDB's load of the next entity
needs no Python at all. So the first ingest step of a run starts a loader thread that loads
the run's entities, one after another, in the order their steps run; each step takes its
entity's result from it, waiting while that load is under way. The loads stay one at a time,
in the steps' order, and are the very calls a step would make (``ingest_entity``): the same
rows, quarantine, ledger and load sequence.

Only the overlap is new, and the loader gives way whenever anything goes wrong:

- a step whose entity is not the next one the loader foresaw has it loaded next;
- a load that fails stops the loader: its step raises the error as it would have, and every
  later step loads its own files;
- a step that fails (or a run terminated), and every rollback of the run's deliveries, stops
  the loader first (``stop``): the load under way finishes, nothing more starts, loads that
  no step has taken are forgotten, and the rollback takes every delivery of the run back
  out, those loaded ahead among them. A later step that still runs loads its files again.

Two things the overlap could disturb are kept apart. The loader's copy into a raw table runs
without insertion order, a setting of the whole database, and a validation's samples of
failing values follow the rows' order: the two take turns (``INSERTION_ORDER_OFF``). And the
loader holds a connection to the warehouse open while it works, because in DuckDB a
connection opened in one thread as another closes the file's last one can fail.

A run killed while the loader works leaves, as before, deliveries pending that the next run
rolls back in its first step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from typing import Any

_RUNS: dict[str, LoadAhead] = {}
_RUNS_LOCK = threading.Lock()


class _Withdrawn(Exception):
    """The loader will not load this entity (it stopped), or its load was rolled back: the
    step loads it itself."""


class LoadAhead:
    """Loads ``entities`` in order in a background thread, one at a time; ``take(entity)``
    returns (or raises) what ``load(entity)`` did."""

    def __init__(self, load: Callable[[str], Any], entities: Iterable[str], *, hold: Any = None):
        self._load = load
        # ``hold``: a connection to the warehouse, open until the loader is stopped, so that
        # the database stays open while two threads open and close connections to it (in
        # DuckDB, a connection opened as another thread closes the file's last one can fail
        # with "Unique file handle conflict"). Closed by ``stop``, after the loader's thread.
        self._hold = hold
        self._queue = list(entities)
        self._untaken = set(self._queue)
        self._futures: dict[str, Future] = {entity: Future() for entity in self._queue}
        self._state = threading.Lock()
        # One load at a time, the loader's or a step's: a delivery's load sequence is the
        # ledger's highest plus one.
        self._loading = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="load-ahead", daemon=True)
        self._thread.start()

    def _next(self) -> tuple[str, Future] | None:
        with self._state:
            if self._stopped or not self._queue:
                return None
            entity = self._queue.pop(0)
            return entity, self._futures[entity]

    def _withdraw(self, entities: Iterable[str]) -> None:
        """Called with ``_state`` held: these entities' steps load their own."""
        for entity in list(entities):
            future = self._futures.pop(entity, None)
            if future is not None and not future.done():
                future.set_exception(_Withdrawn(entity))

    def _run(self) -> None:
        while (item := self._next()) is not None:
            entity, future = item
            with self._loading:
                try:
                    result = self._load(entity)
                except BaseException as error:  # handed to the entity's step, which raises it
                    future.set_exception(error)
                    with self._state:
                        self._stopped = True
                        self._withdraw(self._queue)
                        self._queue.clear()
                    return
            future.set_result(result)

    def take(self, entity: str) -> Any:
        """The entity's load: the loader's (next in line if not started, waited for if under
        way), or, when the loader will not load it, loaded here after the load under way."""
        with self._state:
            self._untaken.discard(entity)
            future = self._futures.get(entity)
            if entity in self._queue:  # the steps' order was not the one foreseen
                self._queue.remove(entity)
                self._queue.insert(0, entity)
        if future is not None:
            try:
                return future.result()
            except _Withdrawn:
                pass
        with self._loading:
            return self._load(entity)

    def stop(self) -> None:
        """Start no further load and wait for the one under way. Loads that no step has taken
        yet are forgotten: the rollback that follows removes them, and their steps, if they
        run, load their files again."""
        with self._state:
            self._stopped = True
            self._withdraw(self._queue)
            self._queue.clear()
        if self._thread is not threading.current_thread():
            self._thread.join()
        with self._state:
            self._withdraw(self._untaken)
            hold, self._hold = self._hold, None
        if hold is not None:
            hold.close()

    @property
    def done(self) -> bool:
        """Every entity it was started for has been taken by its step."""
        with self._state:
            return not self._untaken


def step_order(entities: Iterable[str], parents: Mapping[str, Iterable[str]], step_key: Callable[[str], str]):
    """The entities in the order Dagster's in-process executor runs their steps. Its plan lists
    the steps by level of their dependencies, by step key within a level; it then runs the
    ready steps first in, first out, a step becoming ready (in plan order) when the last of
    its parents is done."""
    entities = list(entities)
    deps = {entity: {parent for parent in parents.get(entity, ()) if parent in entities} for entity in entities}
    plan: list[str] = []
    while len(plan) < len(entities):
        level = sorted((e for e in entities if e not in plan and deps[e] <= set(plan)), key=step_key)
        plan.extend(level or sorted((e for e in entities if e not in plan), key=step_key))
    order: list[str] = []
    ready = [entity for entity in plan if not deps[entity]]
    while ready:
        order.append(ready.pop(0))
        ready.extend(e for e in plan if e not in order and e not in ready and deps[e] <= set(order))
    return order + [entity for entity in plan if entity not in order]


def for_run(run_id: str, start: Callable[[], LoadAhead]) -> LoadAhead:
    """The run's loader, started by its first ingest step. A loader that was stopped stays
    the run's: the later steps of a run that rolled back load their own files, as before."""
    with _RUNS_LOCK:
        if run_id not in _RUNS:
            _RUNS[run_id] = start()
        return _RUNS[run_id]


def taken(run_id: str) -> None:
    """After a step took its load: the run's loader is forgotten once every step has."""
    with _RUNS_LOCK:
        loader = _RUNS.get(run_id)
        if loader is None or not loader.done:
            return
        del _RUNS[run_id]
    loader.stop()


def stop(run_id: str) -> None:
    """Before the run's deliveries are rolled back, or when a step fails: no load may start
    or be under way."""
    with _RUNS_LOCK:
        loader = _RUNS.get(run_id)
    if loader is not None:
        loader.stop()
