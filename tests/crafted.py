"""Hand-made extracts for tests that run the real job: rows in, one CSV per entity out."""

from __future__ import annotations

import csv
from pathlib import Path

from tiering.demo.generate import credit_code_check_char
from tiering.ingest.contract import ENTITIES


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
