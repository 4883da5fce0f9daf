"""The expectation suites: one Great Expectations (GX 1.x) suite per raw entity, as files.

``expectations/<entity>.json`` is in GX's own serialisation. Each expectation carries
``meta.severity``: ``error`` blocks the run (a contract failure), ``warn`` is only recorded
because a later cleaning rule handles the defect. GX's own ``severity`` field must agree.
"""

from __future__ import annotations

import json
from pathlib import Path

from tiering.ingest.contract import ENTITIES

SEVERITIES = ("error", "warn")
# GX 1.x has its own per-expectation ``severity`` (critical | warning | info). Our files
# set it to match meta.severity, so that anything GX renders agrees with us.
GX_SEVERITY = {"error": "critical", "warn": "warning"}
_COLUMN_KWARGS = ("column", "column_A", "column_B")


class SuiteError(ValueError):
    """An expectation suite file is malformed, or uses a severity we don't know."""


def repo_root() -> Path:
    """The repository root: the nearest parent of this file that has an ``expectations`` folder."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "expectations").is_dir():
            return parent
    raise FileNotFoundError(f"no expectations/ folder above {here}")


def suite_path(entity: str) -> Path:
    """The suite file of a raw entity: ``expectations/<entity>.json`` under the repo root."""
    if entity not in ENTITIES:
        raise KeyError(f"unknown entity {entity!r}; expected one of {sorted(ENTITIES)}")
    return repo_root() / "expectations" / f"{entity}.json"


def load_suite(path: Path) -> dict:
    """Read a suite file and check its shape and severities, so a typo fails loudly, not late."""
    with Path(path).open(encoding="utf-8") as handle:
        suite = json.load(handle)
    if not isinstance(suite, dict) or not isinstance(suite.get("name"), str):
        raise SuiteError(f"{path}: a suite must be a JSON object with a string 'name'")
    expectations = suite.get("expectations")
    if not isinstance(expectations, list):
        raise SuiteError(f"{path}: 'expectations' must be a list")
    for index, expectation in enumerate(expectations):
        where = f"{path}: expectation {index}"
        if not isinstance(expectation, dict) or not isinstance(expectation.get("type"), str):
            raise SuiteError(f"{where} has no 'type'")
        if not isinstance(expectation.get("kwargs"), dict):
            raise SuiteError(f"{where} ({expectation['type']}) has no 'kwargs' object")
        severity = (expectation.get("meta") or {}).get("severity")
        if severity not in SEVERITIES:
            raise SuiteError(f"{where} ({expectation['type']}): meta.severity must be one of {SEVERITIES}")
        gx_severity = expectation.get("severity")
        if gx_severity is not None and gx_severity != GX_SEVERITY[severity]:
            raise SuiteError(
                f"{where} ({expectation['type']}): GX severity {gx_severity!r} disagrees with "
                f"meta.severity {severity!r}; expected {GX_SEVERITY[severity]!r}"
            )
    return suite


def expectation_columns(expectation: dict) -> list[str]:
    """The columns an expectation (as a suite-file dict) reads, in order."""
    kwargs = expectation["kwargs"]
    columns = [kwargs[key] for key in _COLUMN_KWARGS if isinstance(kwargs.get(key), str)]
    columns += list(kwargs.get("column_list") or [])
    return columns


def suite_columns(suite: dict) -> list[str]:
    """Every column a suite mentions, in first-mention order."""
    return list(dict.fromkeys(c for e in suite["expectations"] for c in expectation_columns(e)))
