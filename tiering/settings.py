"""The one place that reads settings from the environment.

Read at call time, never at import, so that a test or a backfill can point the same
code at another folder or another as-of date by setting the environment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Asia/Shanghai")


class SettingsError(ValueError):
    """A setting in the environment has a value we cannot use."""


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    data_dir: Path
    as_of: date
    # The rubric preset (TIERING_RUBRIC): rows of seeds/rubric_*.csv with this `rubric` score.
    rubric: str = "default"

    @property
    def warehouse_path(self) -> Path:
        """The build warehouse: raw, staging, intermediate and marts; only the pipeline opens it."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def serving_dir(self) -> Path:
        return self.data_dir / "serving"

    @property
    def serving_path(self) -> Path:
        """The published DuckDB file BI tools read; replaced whole after each good build."""
        return self.serving_dir / "tiering.duckdb"

    @property
    def parquet_dir(self) -> Path:
        return self.serving_dir / "parquet"

    @property
    def reports_dir(self) -> Path:
        """The auditor reports, one HTML file per run, and latest.html."""
        return self.serving_dir / "reports"


DEFAULT_MEMORY_LIMIT = "6GB"


def duckdb_config(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Settings for every DuckDB connection the pipeline opens for writing.

    DuckDB would otherwise take 80 % of the machine's memory before spilling to disk; at a
    million customers that was 20 GB during ingest. TIERING_MEMORY_LIMIT bounds it (dbt's
    profile reads the same variable).
    """
    env = os.environ if environ is None else environ
    return {"memory_limit": (env.get("TIERING_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT).strip()}


def today_in_shanghai() -> date:
    return datetime.now(TIMEZONE).date()


def parse_as_of(value: str, source: str = "TIERING_AS_OF") -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise SettingsError(f"{source}={value!r} is not a date; expected YYYY-MM-DD, e.g. 2026-11-21") from None


def parse_rubric(value: str, source: str = "TIERING_RUBRIC") -> str:
    """A preset name as it appears in the seeds' `rubric` column (default, manufacturing, retail, value_only)."""
    name = value.strip()
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise SettingsError(f"{source}={value!r} is not a preset name; expected e.g. default, manufacturing or retail")
    return name


def load(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    as_of_text = env.get("TIERING_AS_OF", "").strip()
    return Settings(
        landing_dir=Path(env.get("TIERING_LANDING_DIR") or "data/landing").resolve(),
        data_dir=Path(env.get("TIERING_DATA_DIR") or "data").resolve(),
        as_of=parse_as_of(as_of_text) if as_of_text else today_in_shanghai(),
        rubric=parse_rubric(env.get("TIERING_RUBRIC") or "default"),
    )
