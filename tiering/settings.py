"""The one place that reads settings, and checks them up front.

Settings come from the environment, and from a ``.env`` file in the working directory for any
variable the environment does not set (``read_dotenv``; the ``tiering`` command and the Dagster
code location both call it, so they always point at the same folders). They are read at call
time, never at import. Every value is checked when it is read: a bad one is a
``SettingsError`` naming the variable, the value and what is allowed, before anything runs.
The as-of date of a run is its Dagster partition; ``TIERING_AS_OF`` only chooses the partition
that ``make run`` runs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Asia/Shanghai")

# DuckDB's buffers, not the process: a DuckDB process holds a few hundred MB beyond its limit,
# and the job's own process about half a GB beside dbt's. At a million customers 6GB took the
# job's processes together past 6 GB; 5GB keeps them within it.
DEFAULT_MEMORY_LIMIT = "5GB"
UNKNOWN_FILES_POLICIES = ("warn", "fail")
# The engine the models run on (TIERING_ENGINE): DuckDB in one file, or Apache Spark.
ENGINES = ("duckdb", "spark")
_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)
_NOTIFIER = re.compile(r"^(file|log|[A-Za-z_][\w.]*:[A-Za-z_]\w*)$")


class SettingsError(ValueError):
    """A setting in the environment has a value we cannot use."""


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    data_dir: Path
    as_of: date
    # The rubric preset (TIERING_RUBRIC): rows of seeds/rubric_*.csv with this `rubric` score.
    rubric: str = "default"
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    notifier: str = "file"
    # Serving versions and warehouse backups kept; what to do with a file the pipeline does not
    # know in the landing folder; how long a run waits for another to finish.
    keep_versions: int = 7
    keep_backups: int = 3
    unknown_files: str = "warn"
    lock_wait_seconds: int = 600
    # duckdb: everything in warehouse.duckdb and its marts.duckdb. spark: the landed tables
    # handed to Spark as Parquet, the checks and the dbt models run on Spark (tiering.spark),
    # its warehouse under spark_dir.
    engine: str = "duckdb"
    # The configuration seeds (rubric, cleaning rules, currency rates); point it at a copy to
    # try another rubric without touching the project's files.
    seeds_dir: Path = Path(__file__).resolve().parents[1] / "seeds"
    # The source profiles whose export files are read (TIERING_SOURCES, sources/<name>.yaml).
    sources: tuple[str, ...] = ("canonical",)
    # Rows per sheet of the published Excel workbook, the first in each sheet's order (the
    # highest composite first); Excel's own limit is 1,048,575. Every row is in the Parquet files.
    excel_max_rows: int = 10_000

    @property
    def duckdb_config(self) -> dict[str, str]:
        """The configuration of every DuckDB connection the pipeline opens for writing."""
        return {"memory_limit": self.memory_limit}

    @property
    def warehouse_path(self) -> Path:
        """The build warehouse: raw, staging and intermediate; only the pipeline opens it."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def marts_path(self) -> Path:
        """The build's marts, beside the warehouse: the tables each serving version starts as a
        copy of."""
        return marts_path(self.warehouse_path)

    @property
    def spark_dir(self) -> Path:
        """With TIERING_ENGINE=spark: Spark's warehouse (spark_dir/warehouse/<schema>.db/<table>/,
        Parquet) and its catalog (spark_dir/metastore_db)."""
        return self.data_dir / "spark"

    @property
    def serving_dir(self) -> Path:
        return self.data_dir / "serving"

    @property
    def serving_path(self) -> Path:
        """The published DuckDB file BI tools read: a link to the current serving version's."""
        return self.serving_dir / "tiering.duckdb"

    @property
    def parquet_dir(self) -> Path:
        return self.serving_dir / "parquet"

    @property
    def reports_dir(self) -> Path:
        """The auditor reports, one HTML file per run, and latest.html."""
        return self.serving_dir / "reports"


def marts_path(warehouse_path: Path) -> Path:
    """The marts file of a warehouse: ``marts.duckdb`` beside it. dbt attaches it as ``marts``
    and writes the marts into its main schema, in the serving file's format."""
    return warehouse_path.with_name("marts.duckdb")


def duckdb_config(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Settings for every DuckDB connection the pipeline opens for writing.

    DuckDB would otherwise take 80 % of the machine's memory before spilling to disk; at a
    million customers that was 20 GB during ingest. TIERING_MEMORY_LIMIT bounds it (dbt's
    profile reads the same variable).
    """
    env = os.environ if environ is None else environ
    return {"memory_limit": parse_memory_limit(env.get("TIERING_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT)}


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


def parse_memory_limit(value: str, source: str = "TIERING_MEMORY_LIMIT") -> str:
    if not _MEMORY.match(value):
        raise SettingsError(
            f"{source}={value!r} is not an amount of memory; expected a number and a unit, e.g. 6GB, 512MB or 1.5GiB"
        )
    return value.strip().replace(" ", "")


def parse_count(value: str, source: str, *, minimum: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise SettingsError(f"{source}={value!r} is not a whole number; expected {minimum} or more") from None
    if number < minimum:
        raise SettingsError(f"{source}={value!r} is too small; expected {minimum} or more")
    return number


def parse_choice(value: str, source: str, choices: tuple[str, ...]) -> str:
    choice = value.strip().lower()
    if choice not in choices:
        raise SettingsError(f"{source}={value!r} is not allowed; expected one of {', '.join(choices)}")
    return choice


def parse_notifier(value: str, source: str = "TIERING_NOTIFIER") -> str:
    spec = value.strip()
    if not _NOTIFIER.match(spec):
        raise SettingsError(f"{source}={value!r} is not a notifier; expected file, log or package.module:ClassName")
    return spec


def parse_sources(value: str, source: str = "TIERING_SOURCES") -> tuple[str, ...]:
    """Profile names (sources/<name>.yaml) or paths to profile files, comma-separated."""
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    for name in names:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name) and not name.endswith((".yaml", ".yml")):
            raise SettingsError(
                f"{source}={value!r}: {name!r} is not a profile; expected names such as canonical, kingdee, "
                "salesforce (sources/*.yaml) or paths to .yaml files, comma-separated"
            )
    if not names:
        raise SettingsError(f"{source}={value!r} names no profile; expected e.g. canonical or kingdee,salesforce")
    return names


def _folder(value: str, source: str) -> Path:
    path = Path(value).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise SettingsError(f"{source}={value!r} is not a folder; expected a folder (it is created when missing)")
    return path


SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"
VARIABLES = (
    "TIERING_LANDING_DIR",
    "TIERING_DATA_DIR",
    "TIERING_AS_OF",
    "TIERING_RUBRIC",
    "TIERING_MEMORY_LIMIT",
    "TIERING_NOTIFIER",
    "TIERING_KEEP_VERSIONS",
    "TIERING_KEEP_BACKUPS",
    "TIERING_UNKNOWN_FILES",
    "TIERING_LOCK_WAIT_SECONDS",
    "TIERING_SEEDS_DIR",
    "TIERING_ENGINE",
    "TIERING_SOURCES",
    "TIERING_EXCEL_MAX_ROWS",
)


def read_dotenv(path: Path | None = None) -> None:
    """Put the settings of a ``.env`` file into the environment where it does not set them
    already, as ``dagster dev`` does: the command line and the job then read the same values."""
    from dotenv import load_dotenv

    load_dotenv(path or Path.cwd() / ".env", override=False)


def load(environ: dict[str, str] | None = None, *, as_of: date | None = None) -> Settings:
    """Every setting from the environment, checked; the first bad one raises SettingsError.

    ``as_of``: the run's as-of date (its partition); without it, TIERING_AS_OF or today.
    """
    env = os.environ if environ is None else environ

    def get(name: str, default: str) -> str:
        return env.get(name) or default

    as_of_text = env.get("TIERING_AS_OF", "").strip()
    return Settings(
        landing_dir=_folder(get("TIERING_LANDING_DIR", "data/landing"), "TIERING_LANDING_DIR"),
        data_dir=_folder(get("TIERING_DATA_DIR", "data"), "TIERING_DATA_DIR"),
        as_of=as_of or (parse_as_of(as_of_text) if as_of_text else today_in_shanghai()),
        rubric=parse_rubric(get("TIERING_RUBRIC", "default")),
        memory_limit=parse_memory_limit(get("TIERING_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)),
        notifier=parse_notifier(get("TIERING_NOTIFIER", "file")),
        keep_versions=parse_count(get("TIERING_KEEP_VERSIONS", "7"), "TIERING_KEEP_VERSIONS", minimum=1),
        keep_backups=parse_count(get("TIERING_KEEP_BACKUPS", "3"), "TIERING_KEEP_BACKUPS", minimum=1),
        unknown_files=parse_choice(
            get("TIERING_UNKNOWN_FILES", "warn"), "TIERING_UNKNOWN_FILES", UNKNOWN_FILES_POLICIES
        ),
        lock_wait_seconds=parse_count(get("TIERING_LOCK_WAIT_SECONDS", "600"), "TIERING_LOCK_WAIT_SECONDS", minimum=0),
        engine=parse_choice(get("TIERING_ENGINE", "duckdb"), "TIERING_ENGINE", ENGINES),
        sources=parse_sources(get("TIERING_SOURCES", "canonical")),
        seeds_dir=_seeds(get("TIERING_SEEDS_DIR", str(SEEDS_DIR))),
        excel_max_rows=parse_count(get("TIERING_EXCEL_MAX_ROWS", "10000"), "TIERING_EXCEL_MAX_ROWS", minimum=1),
    )


def _seeds(value: str) -> Path:
    path = _folder(value, "TIERING_SEEDS_DIR")
    if not path.is_dir():
        raise SettingsError(f"TIERING_SEEDS_DIR={value}: no such folder")
    return path
