"""Run the nightly job in this process: what `make run` and `make bench` call.

    python -m orchestration.run

The run is recorded in the Dagster instance of DAGSTER_HOME (an ephemeral one when it is not
set), so it shows in `make dev`. Exits 0 when every step succeeded.
"""

import logging
import os
import sys

import dagster as dg


def main() -> int:
    from orchestration.definitions import defs

    job = defs.resolve_job_def("nightly_tiering")
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    with instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    return 0 if result.success else 1


if __name__ == "__main__":
    code = main()
    # Everything is committed and the instance closed. Skip the interpreter's teardown of the
    # modules the run loaded (Dagster, dbt, Great Expectations), which takes a second or two.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
