"""Alerts, handed to a pluggable notifier: strategic and key customers whose effective tier
fell (after each successful publish), and runs that failed.

A notifier is any object with ``notify(downgrades)`` and, optionally,
``notify_failure(failure)`` (without it a failed run is logged). The setting TIERING_NOTIFIER
picks one: ``file`` (default: append JSON lines to serving/alerts/downgrades.jsonl and
serving/alerts/run_failures.jsonl, and log them), ``log`` (log only), or
``package.module:ClassName`` for your own (e-mail, a webhook …), constructed with the serving
folder as its only argument.
"""

from __future__ import annotations

import importlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import duckdb

logger = logging.getLogger("tiering.publish.alerts")

WATCHED_TIERS = ("strategic", "key")


@dataclass(frozen=True)
class Downgrade:
    customer_id: str
    customer_name: str
    as_of_date: str
    from_tier: str
    to_tier: str
    reason: str
    composite_before: float | None
    composite_after: float | None
    indicators_moved_most: str | None
    owner: str | None

    def message(self) -> str:
        return (
            f"{self.as_of_date} {self.customer_id} {self.customer_name}: {self.from_tier} → {self.to_tier} "
            f"({self.reason}; composite {self.composite_before} → {self.composite_after}; "
            f"moved most: {self.indicators_moved_most or '-'}; owner {self.owner or '-'})"
        )


@dataclass(frozen=True)
class RunFailure:
    run_id: str
    job: str
    as_of_date: str
    message: str
    failed_steps: list[str]

    def text(self) -> str:
        steps = ", ".join(self.failed_steps) or "-"
        return f"run {self.run_id[:8]} of {self.job} for {self.as_of_date} failed at {steps}: {self.message}"


class Notifier(Protocol):
    def notify(self, downgrades: list[Downgrade]) -> None: ...


def _notify_failure(notifier: object, failure: RunFailure) -> None:
    handler = getattr(notifier, "notify_failure", None)
    if handler is None:
        logger.error("Run failed: %s", failure.text())
    else:
        handler(failure)


class LogNotifier:
    def __init__(self, serving_dir: Path | None = None) -> None:
        pass

    def notify(self, downgrades: list[Downgrade]) -> None:
        for downgrade in downgrades:
            logger.warning("Downgrade: %s", downgrade.message())

    def notify_failure(self, failure: RunFailure) -> None:
        logger.error("Run failed: %s", failure.text())


class FileNotifier(LogNotifier):
    """Appends one JSON line per downgrade; the file is the record auditors can read.
    Re-running an as-of date does not record its downgrades twice."""

    def __init__(self, serving_dir: Path) -> None:
        self.path = serving_dir / "alerts" / "downgrades.jsonl"

    def _recorded(self) -> set[tuple[str, str, str]]:
        if not self.path.exists():
            return set()
        records = (json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip())
        return {(record["customer_id"], record["as_of_date"], record["to_tier"]) for record in records}

    def notify(self, downgrades: list[Downgrade]) -> None:
        recorded = self._recorded()
        new = [item for item in downgrades if (item.customer_id, item.as_of_date, item.to_tier) not in recorded]
        super().notify(new)
        if not new:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            for downgrade in new:
                handle.write(json.dumps(asdict(downgrade), ensure_ascii=False, default=str) + "\n")

    def notify_failure(self, failure: RunFailure) -> None:
        super().notify_failure(failure)
        path = self.path.with_name("run_failures.jsonl")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(failure), ensure_ascii=False) + "\n")


class _WithFailures:
    """A notifier, given ``notify_failure`` when its class has none (the failure is logged)."""

    def __init__(self, notifier: object) -> None:
        self._notifier = notifier

    def notify(self, downgrades: list[Downgrade]) -> None:
        self._notifier.notify(downgrades)

    def notify_failure(self, failure: RunFailure) -> None:
        _notify_failure(self._notifier, failure)


def load_notifier(spec: str, serving_dir: Path) -> Notifier:
    spec = (spec or "file").strip()
    if spec == "file":
        return FileNotifier(serving_dir)
    if spec == "log":
        return LogNotifier()
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise ValueError(f"TIERING_NOTIFIER={spec!r}: expected file, log or package.module:ClassName")
    return _WithFailures(getattr(importlib.import_module(module_name), class_name)(serving_dir))


def find_downgrades(serving_path: Path, as_of: str) -> list[Downgrade]:
    """Downgrades of strategic and key customers published for one as-of date."""
    with duckdb.connect(str(serving_path), read_only=True) as connection:
        rows = connection.execute(
            f"""
            select changes.customer_id, tiers.customer_name, cast(changes.as_of_date as varchar),
                   changes.from_tier, changes.to_tier, changes.reason,
                   cast(changes.composite_before as double), cast(changes.composite_after as double),
                   changes.indicators_moved_most, tiers.owner_name
            from tier_changes as changes
            left join customer_tiers as tiers
                on changes.customer_id = tiers.customer_id and changes.as_of_date = tiers.as_of_date
            where changes.as_of_date = cast(? as date)
              and changes.is_downgrade
              and changes.from_tier in ({", ".join("'" + tier + "'" for tier in WATCHED_TIERS)})
            order by changes.customer_id
            """,
            [as_of],
        ).fetchall()
    return [Downgrade(*row) for row in rows]
