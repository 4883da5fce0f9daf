"""How the pipeline starts dbt: the --vars and target of a run's configuration, the as-of date
in the environment, and dbt's saved parse kept from one run to the next. No Dagster here:
``make manifest`` uses it too (``python -m orchestration.dbt_invocation``).

dbt parses the whole project (about two seconds) unless its saved parse
(partial_parse.msgpack) was made with the same --vars and connection. So the as-of date, which
changes every night, is not a var but TIERING_AS_OF (macro as_of_date); ``make manifest``
parses with the vars a run of the current configuration passes; and a build that succeeds
leaves its parse for the next build of its configuration, in target/parses/<configuration>/.
Each build starts in a folder of its own with that parse in it; the first build of a
configuration starts from ``make manifest``'s (dagster-dbt copies target/partial_parse.msgpack).
A parse kept per configuration means that builds of two configurations on one checkout (a
backfill into another data folder, the test suite's runs side by side) do not undo each other's.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tiering import settings

PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
# dbt's saved parse of the project, in its target folder.
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# Each build writes its artifacts (run_results.json, compiled SQL, dbt.log: about 10 MB) into
# a folder of its own under target/; the newest are kept for a look after a run.
KEEP_BUILDS = 10
# The saved parses of the configurations built most recently (about 1 MB each).
PARSES_DIR = "parses"
KEEP_PARSES = 10


def seeds_path(seeds_dir: Path) -> str:
    """The seeds folder as dbt must see it: relative to the project, and such that dbt's copy of
    each seed's SQL (target/run/<project>/<seed path>) stays inside target/. The project's own
    folder is ../seeds; another (TIERING_SEEDS_DIR) is reached through a link in target/seeds/.
    (An absolute seed path would make dbt write that SQL over the seed files themselves.)"""
    project_dir = PROJECT_DIR.resolve()
    if seeds_dir.resolve() == (project_dir.parent / "seeds").resolve():
        return "../seeds"
    link = project_dir / "target" / "seeds" / hashlib.sha1(str(seeds_dir.resolve()).encode()).hexdigest()[:12]
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink() or Path(os.readlink(link)) != seeds_dir.resolve():
        staged = link.with_name(f"{link.name}.{os.getpid()}")
        staged.unlink(missing_ok=True)
        os.symlink(seeds_dir.resolve(), staged)
        os.replace(staged, link)
    return str(link.relative_to(project_dir))


def dbt_vars(config) -> dict[str, str]:
    """What dbt needs of the run's configuration: the rubric, where the warehouse is and how much
    memory it may use (profiles.yml reads these two), and where the seeds are (dbt_project.yml).
    On Spark, also the folder of its warehouse and catalog. Not the as-of date: see
    ``dbt_environment``."""
    values = {
        "rubric": config.rubric,
        "warehouse_path": str(config.warehouse_path),
        "memory_limit": config.memory_limit,
        "seeds_dir": seeds_path(config.seeds_dir),
    }
    if config.engine == "spark":
        values["spark_dir"] = str(config.spark_dir)
    return values


def dbt_args(config) -> list[str]:
    """The dbt build of a run. Unit tests test the models' logic, not tonight's data: the test
    suite runs them. The profile's target is the engine's (duckdb or spark)."""
    args = ["build", "--exclude-resource-type", "unit_test", "--target", config.engine]
    return [*args, "--vars", json.dumps(dbt_vars(config))]


def warm_build(config) -> list[str] | None:
    """The build a run's warm dbt parses ahead for (orchestration/dbt_warm.py): the run's own;
    None on Spark, whose adapter the warm process does not import."""
    return dbt_args(config) if config.engine == "duckdb" else None


@contextmanager
def dbt_environment(as_of: str) -> Iterator[None]:
    """The run's as-of date for the dbt process started inside, as TIERING_AS_OF."""
    before = os.environ.get("TIERING_AS_OF")
    os.environ["TIERING_AS_OF"] = as_of
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TIERING_AS_OF", None)
        else:
            os.environ["TIERING_AS_OF"] = before


def saved_parse(args: list[str]) -> Path:
    """Where the saved parse of builds started with ``args`` (``dbt_args``) is kept."""
    key = hashlib.sha1(json.dumps(args).encode()).hexdigest()[:12]
    return PROJECT_DIR / "target" / PARSES_DIR / key / PARTIAL_PARSE_FILE


def build_target(run_id: str, args: list[str]) -> Path:
    """A new folder for one build's artifacts, named as dagster-dbt names its own
    (tiering_dbt-<run>-<unique>), holding the saved parse of the build's configuration if any."""
    target = PROJECT_DIR / "target" / f"tiering_dbt-{run_id[:7]}-{uuid.uuid4().hex[:7]}"
    target.mkdir(parents=True)
    saved = saved_parse(args)
    if saved.exists():
        shutil.copyfile(saved, target / PARTIAL_PARSE_FILE)
    return target


def keep_parse(invocation_target: Path, args: list[str]) -> None:
    """dbt's saved parse of a build that succeeded, as the one the next build of its
    configuration starts from. It only saves the next build a parse: failing to keep it (the
    folder pruned meanwhile by another build) does not fail this one."""
    parsed = invocation_target / PARTIAL_PARSE_FILE
    if not parsed.exists():
        return
    kept = saved_parse(args)
    staged = kept.with_name(f"{kept.name}.{os.getpid()}")
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(parsed, staged)
        os.replace(staged, kept)
    except OSError:
        staged.unlink(missing_ok=True)


def _newest_first(paths) -> list[Path]:
    return sorted((path for path in paths if path.is_dir()), key=lambda path: path.stat().st_mtime, reverse=True)


def prune_builds(keep: int = KEEP_BUILDS, keep_parses: int = KEEP_PARSES) -> list[Path]:
    """Remove the artifact folders of all but the newest ``keep`` builds, and the saved parses of
    all but the ``keep_parses`` configurations built last; returns those removed. A nightly job
    would otherwise add a folder a night for ever."""
    target = PROJECT_DIR / "target"
    removed = _newest_first(target.glob("tiering_dbt-*"))[keep:]
    removed += _newest_first((target / PARSES_DIR).glob("*"))[keep_parses:]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def dbt_executable() -> str:
    """dbt from the same environment as dagster-dbt, so a venv need not be on PATH.

    `dagster dev` may start the code server with the base interpreter and the venv's
    packages on its path, so sys.executable alone does not find it."""
    candidates = [Path(sys.prefix) / "bin" / "dbt", Path(sys.executable).with_name("dbt")]
    spec = importlib.util.find_spec("dagster_dbt")
    if spec is not None and spec.origin:
        # <venv>/lib/pythonX.Y/site-packages/dagster_dbt/__init__.py -> <venv>/bin/dbt
        candidates.append(Path(spec.origin).resolve().parents[4] / "bin" / "dbt")
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


def parse() -> int:
    """``dbt parse`` (the manifest Dagster reads) with the target and --vars of a run of the
    configuration in the environment, so that run finds dbt's parse valid."""
    settings.read_dotenv()
    config = settings.load()
    command = [dbt_executable(), "parse", "--quiet", "--profiles-dir", "."]
    command += ["--target", config.engine, "--vars", json.dumps(dbt_vars(config))]
    code = subprocess.run(command, cwd=PROJECT_DIR, check=False).returncode
    if code == 0:
        keep_parse(PROJECT_DIR / "target", dbt_args(config))
    return code


if __name__ == "__main__":
    sys.exit(parse())
