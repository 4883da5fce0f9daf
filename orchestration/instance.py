"""The Dagster instance of DAGSTER_HOME, configured for this pipeline (dagster.yaml).

Runs queue and run one at a time, in the order they were submitted: DuckDB has one writer,
and a backfill must build history date by date, oldest first. Telemetry is off. `make` writes
the file before the first run (``python -m orchestration.instance``), so Dagster never warns
that it has none.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DAGSTER_YAML = """\
# Written by `make` (orchestration/instance.py). Runs queue and run one at a time, in the order
# submitted: the warehouse has one writer, and history is built date by date.
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
telemetry:
  enabled: false
"""


def ensure(home: Path) -> Path:
    """Write dagster.yaml into ``home`` unless it holds one already; return its path."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    if not path.exists():
        path.write_text(DAGSTER_YAML, encoding="utf-8")
    return path


if __name__ == "__main__":
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        sys.exit("DAGSTER_HOME is not set")
    ensure(Path(home))
