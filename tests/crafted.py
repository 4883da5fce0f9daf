"""Hand-made extracts for tests that run the real job: rows in, one CSV per entity out."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tiering.demo.generate import credit_code_check_char
from tiering.ingest.contract import ENTITIES
from tiering.rubric.checks import SEEDS_DIR


def valid_code(first17: str) -> str:
    """A unified social credit code with the right check character."""
    return first17 + credit_code_check_char(first17)


def write_extracts(landing: Path, delivery_date: str, rows: dict[str, list[tuple]]) -> Path:
    """One `<entity>_<delivery_date>.csv` per entity of the contract (empty ones too), in contract column order."""
    landing.mkdir(parents=True, exist_ok=True)
    for entity, spec in ENTITIES.items():
        with (landing / f"{entity}_{delivery_date}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(spec.column_names)
            writer.writerows(rows.get(entity, []))
    return landing


@contextmanager
def seed_edited(name: str, replacements: dict[str, str]) -> Iterator[Path]:
    """The project's seed file with each ``old`` text replaced by ``new``, restored afterwards.

    The job seeds dbt from the project's seeds/ folder (as a firm edits its configuration), so a
    test of another setting edits the file itself, as test_pipeline_e2e's broken-seed test does.
    """
    path = SEEDS_DIR / name
    original = path.read_bytes()
    text = original.decode("utf-8")
    for old, new in replacements.items():
        assert old in text, f"{old!r} not in {name}"
        text = text.replace(old, new, 1)
    try:
        path.write_bytes(text.encode("utf-8"))
        yield path
    finally:
        path.write_bytes(original)
