"""The Dagster instance of DAGSTER_HOME, configured for this pipeline (dagster.yaml).

Runs queue and run one at a time, in the order they were submitted: DuckDB has one writer,
and a backfill must build history date by date, oldest first. Runs and their events are kept in
Dagster's SQLite files under DAGSTER_HOME, written through ``orchestration.storage``, which keeps
each event database open for the run instead of opening it again for every event. Telemetry is
off. `make` writes the file before the first run (``python -m orchestration.instance``), so
Dagster never warns that it has none, and replaces a file it wrote before that nobody has
edited since; any other dagster.yaml is left as it is.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DAGSTER_YAML = """\
# Written by `make` (orchestration/instance.py). Runs queue and run one at a time, in the order
# submitted: the warehouse has one writer, and history is built date by date. Runs and events
# are Dagster's SQLite files in this folder, each event database kept open for a run.
storage:
  custom:
    module: orchestration.storage
    class: KeptOpenSqliteStorage
    config:
      base_dir:
        env: DAGSTER_HOME
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
telemetry:
  enabled: false
"""

# What `make` wrote before, exactly: such a file is ours and unedited, so it is brought up to date.
EARLIER_VERSIONS = (
    """\
# Written by `make` (orchestration/instance.py). Runs queue and run one at a time, in the order
# submitted: the warehouse has one writer, and history is built date by date.
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
telemetry:
  enabled: false
""",
)


def ensure(home: Path) -> Path:
    """Write dagster.yaml into ``home`` unless it holds one already; replace it when it is an
    earlier version of ours, unedited. Return its path."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    if not path.exists() or path.read_text(encoding="utf-8") in EARLIER_VERSIONS:
        path.write_text(DAGSTER_YAML, encoding="utf-8")
    return path


if __name__ == "__main__":
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        sys.exit("DAGSTER_HOME is not set")
    ensure(Path(home))
