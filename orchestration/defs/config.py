"""The run's configuration, explicit: one resource built from the TIERING_* environment
variables, and the as-of date as the run's daily partition.

Nothing is handed from step to step through the environment. An asset asks the resource for
its settings with the run's partition (``config.settings(context)``); dbt gets the warehouse
path, memory limit, rubric and as-of date as ``--vars``. The values are checked by the same
code as the ``tiering`` command's (``tiering.settings``), `.env` included.
"""

import os
from datetime import date

import dagster as dg

from tiering import settings

# The as-of date of a run. Daily, in Asia/Shanghai; today's partition exists from midnight.
as_of_partitions = dg.DailyPartitionsDefinition(
    start_date="2020-01-01", timezone=str(settings.TIMEZONE), end_offset=1, fmt="%Y-%m-%d"
)


# History is built date by date, each from the date before: one partition per run.
ONE_DATE_PER_RUN = dg.BackfillPolicy.multi_run(max_partitions_per_run=1)


class TieringConfig(dg.ConfigurableResource):
    """Paths, rubric preset, memory limit, notifier and retention of the pipeline."""

    landing_dir: str = "data/landing"
    data_dir: str = "data"
    rubric: str = "default"
    memory_limit: str = settings.DEFAULT_MEMORY_LIMIT
    notifier: str = "file"
    keep_versions: str = "7"
    keep_backups: str = "3"
    unknown_files: str = "warn"
    lock_wait_seconds: str = "600"
    seeds_dir: str = str(settings.SEEDS_DIR)
    engine: str = "duckdb"
    sources: str = "canonical"
    excel_max_rows: str = "10000"

    def values(self) -> dict[str, str]:
        """The configuration as the environment variables it comes from."""
        return {
            "TIERING_LANDING_DIR": self.landing_dir,
            "TIERING_DATA_DIR": self.data_dir,
            "TIERING_RUBRIC": self.rubric,
            "TIERING_MEMORY_LIMIT": self.memory_limit,
            "TIERING_NOTIFIER": self.notifier,
            "TIERING_KEEP_VERSIONS": self.keep_versions,
            "TIERING_KEEP_BACKUPS": self.keep_backups,
            "TIERING_UNKNOWN_FILES": self.unknown_files,
            "TIERING_LOCK_WAIT_SECONDS": self.lock_wait_seconds,
            "TIERING_SEEDS_DIR": self.seeds_dir,
            "TIERING_ENGINE": self.engine,
            "TIERING_SOURCES": self.sources,
            "TIERING_EXCEL_MAX_ROWS": self.excel_max_rows,
        }

    def settings_for(self, as_of: date) -> settings.Settings:
        """Checked settings for a run as of ``as_of``; a bad value fails the step, naming it."""
        try:
            return settings.load(self.values(), as_of=as_of)
        except settings.SettingsError as error:
            raise dg.Failure(description=str(error)) from error

    def settings(self, context: dg.AssetExecutionContext | dg.OpExecutionContext) -> settings.Settings:
        return self.settings_for(partition_date(context))


def partition_date(context) -> date:
    """The run's as-of date: its partition."""
    return date.fromisoformat(context.partition_key)


def from_environment() -> TieringConfig:
    """The resource, each field an EnvVar where the environment (or .env) sets it."""
    settings.read_dotenv()
    fields = {
        "landing_dir": "TIERING_LANDING_DIR",
        "data_dir": "TIERING_DATA_DIR",
        "rubric": "TIERING_RUBRIC",
        "memory_limit": "TIERING_MEMORY_LIMIT",
        "notifier": "TIERING_NOTIFIER",
        "keep_versions": "TIERING_KEEP_VERSIONS",
        "keep_backups": "TIERING_KEEP_BACKUPS",
        "unknown_files": "TIERING_UNKNOWN_FILES",
        "lock_wait_seconds": "TIERING_LOCK_WAIT_SECONDS",
        "seeds_dir": "TIERING_SEEDS_DIR",
        "engine": "TIERING_ENGINE",
        "sources": "TIERING_SOURCES",
        "excel_max_rows": "TIERING_EXCEL_MAX_ROWS",
    }
    return TieringConfig(**{field: dg.EnvVar(name) for field, name in fields.items() if os.environ.get(name)})


def _lock():
    from orchestration.defs.warehouse import WarehouseLock

    return WarehouseLock(tiering=tiering_config)


tiering_config = from_environment()
defs = dg.Definitions(resources={"tiering": tiering_config, "warehouse_lock": _lock()})
