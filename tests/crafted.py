"""Hand-made extracts for tests that run the real job: rows in, one CSV per entity out."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from tiering.credit_code import check_char as credit_code_check_char
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


def seeds_edited(folder: Path, name: str, replacements: dict[str, str]) -> Path:
    """A copy of the project's seeds in ``folder`` with each ``old`` text of seed ``name``
    replaced by ``new``: run the job with ``seeds_dir=`` it (TIERING_SEEDS_DIR), and the
    project's own files are never touched."""
    shutil.copytree(SEEDS_DIR, folder)
    path = folder / name
    text = path.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, f"{old!r} not in {name}"
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return folder
