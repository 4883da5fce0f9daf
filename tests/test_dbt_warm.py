"""dbt started with the run (orchestration/dbt_warm.py): the build runs in the process that
imported dbt (and parsed the project for the build it expects) while the extracts loaded, with
the same output and exit code as a dbt process of its own, and it stops when the process
dagster-dbt started stops."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration import dbt_warm
from orchestration.dbt_invocation import dbt_executable, keep_parse, saved_parse
from orchestration.defs.project import dbt_project
from orchestration.defs.resources import TieringDbtCliResource, _dbt_dying_with_parent, _expected_build

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the hand-over is Linux only")

WRAPPER = _dbt_dying_with_parent(dbt_executable())


def _output(invocation) -> str:
    return "\n".join(str(line) for line in invocation._stream_stdout())


def _cold(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """dbt with ``args``, as dagster-dbt starts it; in a process of its own unless ``env``
    offers it a warm one."""
    return subprocess.run(
        [WRAPPER, *args], capture_output=True, text=True, cwd=dbt_project.project_dir, env=env, timeout=120
    )


def _handed(warm: dbt_warm.WarmDbt, *args: str) -> subprocess.CompletedProcess:
    """dbt with ``args``, as dagster-dbt starts it, offered ``warm``."""
    return _cold(*args, env={**os.environ, dbt_warm.SOCKET_ENV: warm.name})


def test_dbt_runs_in_the_warm_process_with_the_output_and_code_of_its_own_process():
    resource = TieringDbtCliResource(project_dir=dbt_project, dbt_executable=WRAPPER)
    with dg.build_resources({"dbt": resource}) as resources:
        warm = resources.dbt._warm
        invocation = resources.dbt.cli(["--version"], raise_on_error=False)
        output = _output(invocation)

        assert invocation.process.wait(timeout=120) == 0
        # The warm process ran it: it serves one build, then exits with the build's code.
        assert warm.process.wait(timeout=30) == 0
        cold = _cold("--version")
        assert output.split() == cold.stdout.split()
        assert "Core:" in output

        # The warm process is used up: the next dbt starts itself, and works.
        again = resources.dbt.cli(["--version"], raise_on_error=False)
        assert _output(again).split() == cold.stdout.split()
        assert again.process.wait(timeout=120) == 0


def test_a_failing_command_keeps_its_exit_code():
    cold = _cold("no-such-command")
    warm = dbt_warm.start()
    try:
        handed = _handed(warm, "no-such-command")
        assert warm.process.wait(timeout=30) == cold.returncode == handed.returncode == 2
        assert "No such command" in handed.stderr and "No such command" in cold.stderr
    finally:
        warm.close()


def _start_long_query(warm: dbt_warm.WarmDbt, tmp_path) -> subprocess.Popen:
    """dbt running a query that takes minutes, in the warm process."""
    query = "select count(*) as n from range(1000000000000) as t(i) where i % 7 = 3"
    vars_ = f'{{"warehouse_path": "{tmp_path / "w.duckdb"}", "memory_limit": "1GB"}}'
    wrapper = subprocess.Popen(
        [WRAPPER, "show", "--inline", query, "--target", "duckdb", "--vars", vars_, "--target-path", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=dbt_project.project_dir,
        env={**os.environ, dbt_warm.SOCKET_ENV: warm.name},
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / "w.duckdb").exists():  # dbt has parsed and opened the warehouse
        assert time.monotonic() < deadline and wrapper.poll() is None and warm.process.poll() is None
        time.sleep(0.2)
    # The warm process took it: it works in the folder the command was started in.
    assert Path(f"/proc/{warm.process.pid}/cwd").resolve() == Path(dbt_project.project_dir).resolve()
    time.sleep(1)
    assert wrapper.poll() is None and warm.process.poll() is None
    return wrapper


@contextlib.contextmanager
def _started_as_by_a_job_in_the_background():
    """Processes started here inherit SIGINT ignored, as from a job that a shell runs in the
    background, and SIGINT and SIGTERM blocked, as from a thread that blocks them."""
    ignored = signal.signal(signal.SIGINT, signal.SIG_IGN)
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGTERM))
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        signal.signal(signal.SIGINT, ignored)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda number: number.name)
def test_stopping_the_process_dagster_dbt_started_stops_dbt(stop, tmp_path):
    with _started_as_by_a_job_in_the_background():
        warm = dbt_warm.start()
    try:
        with _started_as_by_a_job_in_the_background():
            wrapper = _start_long_query(warm, tmp_path)

        wrapper.send_signal(stop)

        code = wrapper.wait(timeout=60)
        assert warm.process.wait(timeout=60) != 0
        assert code != 0
        if stop != signal.SIGINT:
            assert code == -stop
    finally:
        warm.close()


def test_a_warm_process_killed_during_the_build_ends_the_command_as_killed(tmp_path):
    warm = dbt_warm.start()
    try:
        wrapper = _start_long_query(warm, tmp_path)

        warm.process.kill()

        assert wrapper.wait(timeout=60) == -signal.SIGKILL
    finally:
        warm.close()


def test_a_build_in_the_warm_process_leaves_what_it_wrote_in_the_database_file(tmp_path):
    """The warm process ends without Python's teardown once it has closed the warehouse: what
    the build wrote is in the file itself, with no write-ahead log left for the next reader to
    replay, and the command ends with the build's code."""
    warehouse = tmp_path / "w.duckdb"
    seeded = sum(1 for _ in (dbt_project.project_dir.parent / "seeds" / "currency_rates.csv").open()) - 1
    warm = dbt_warm.start()
    try:
        vars_ = json.dumps({"warehouse_path": str(warehouse), "memory_limit": "1GB"})
        command = ["seed", "--select", "currency_rates", "--target", "duckdb", "--vars", vars_]
        handed = subprocess.run(
            [WRAPPER, *command, "--target-path", str(tmp_path / "target")],
            capture_output=True,
            text=True,
            cwd=dbt_project.project_dir,
            env={**os.environ, dbt_warm.SOCKET_ENV: warm.name},
            timeout=120,
        )

        assert handed.returncode == 0, handed.stdout[-2000:] + handed.stderr[-2000:]
        assert warm.process.wait(timeout=30) == 0
        assert warehouse.exists() and not warehouse.with_name("w.duckdb.wal").exists()
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            assert connection.execute("select count(*) from rubric.currency_rates").fetchall() == [(seeded,)]
    finally:
        warm.close()


SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists(SYSTEM_PYTHON), reason="needs a second user to connect as")
def test_the_warm_process_runs_nothing_for_another_user():
    warm = dbt_warm.start()
    knock = (
        "import socket\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        f"s.connect('\\0{warm.name}')\n"
        "print('closed' if s.recv(4) == b'' else 'answered')\n"
    )
    try:
        other = subprocess.run(
            [SYSTEM_PYTHON, "-c", knock], capture_output=True, text=True, user=65534, cwd="/", timeout=120
        )
        assert other.stdout.strip() == "closed", other.stderr
        # The warm process still waits for a command of its own user, and runs it.
        assert warm.process.poll() is None
        handed = subprocess.run(
            [WRAPPER, "no-such-command"],
            capture_output=True,
            cwd=dbt_project.project_dir,
            env={**os.environ, dbt_warm.SOCKET_ENV: warm.name},
            timeout=120,
        )
        assert warm.process.wait(timeout=30) == handed.returncode == 2
    finally:
        warm.close()


def _parse_for(build: list[str], tmp_path: Path) -> None:
    """dbt's saved parse of ``build``, as ``make manifest`` or a build leaves it."""
    target = tmp_path / "parsed"
    parse = ["parse", *build[build.index("--target") :], "--target-path", str(target), "--quiet"]
    assert _cold(*parse).returncode == 0
    keep_parse(target, build)


def _parsed_in(log: str) -> bool:
    """Whether dbt's log says it parsed the project (from a saved parse or in full)."""
    return any(words in log for words in ("skipping parsing", "Partial parsing", "partial parsing", "full parse"))


def test_the_build_it_expects_runs_on_the_parse_made_while_it_waited(tmp_path):
    variables = json.dumps({"warehouse_path": str(tmp_path / "w.duckdb"), "memory_limit": "1GB"})
    build = ["build", "--target", "duckdb", "--vars", variables]
    selected = [*build, "--select", "rubric_tiers"]  # as dagster-dbt adds a selection
    _parse_for(build, tmp_path)
    saved = saved_parse(build).read_bytes()
    project = str(dbt_project.project_dir)

    def dbt(argv: list[str], folder: str, warm: dbt_warm.WarmDbt | None) -> subprocess.CompletedProcess:
        environ = {
            **os.environ,
            "DBT_PROJECT_DIR": project,
            "DBT_PROFILES_DIR": project,
            "DBT_TARGET_PATH": str(tmp_path / folder),
            "DBT_LOG_PATH": str(tmp_path / folder),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",  # as dagster-dbt starts dbt
        }
        if warm is not None:
            environ[dbt_warm.SOCKET_ENV] = warm.name
        (tmp_path / folder).mkdir()
        return subprocess.run([WRAPPER, *argv], capture_output=True, text=True, cwd=project, env=environ, timeout=180)

    def handed(argv: list[str], folder: str) -> subprocess.CompletedProcess:
        warm = dbt_warm.start(build)
        try:
            done = dbt(argv, folder, warm)
            assert warm.process.wait(timeout=30) == done.returncode
            return done
        finally:
            warm.close()

    cold = dbt(selected, "cold", None)
    expected = handed(selected, "expected")
    assert cold.returncode == expected.returncode == 0, expected.stdout[-2000:]
    assert "parsed while the extracts loaded" in expected.stderr
    # The build ran on the parse handed to it: its own log has no parsing, the parse's log
    # (beside it) does, and its target folder has dbt's saved parse, as a cold build's has.
    built = (tmp_path / "expected" / "dbt.log").read_text(encoding="utf-8")
    assert not _parsed_in(built) and "Completed successfully" in built
    assert _parsed_in((tmp_path / "expected" / dbt_warm.PARSE_LOG).read_text(encoding="utf-8"))
    assert _parsed_in((tmp_path / "cold" / "dbt.log").read_text(encoding="utf-8"))
    assert (tmp_path / "expected" / "partial_parse.msgpack").read_bytes() == saved
    # The same nodes run, with the same results: the seed, its tests, the project's hook.
    results = [json.loads((tmp_path / folder / "run_results.json").read_text()) for folder in ("cold", "expected")]
    outcomes = [sorted((r["unique_id"], r["status"]) for r in result["results"]) for result in results]
    assert outcomes[0] == outcomes[1]
    assert ("seed.tiering.rubric_tiers", "success") in outcomes[1] and len(outcomes[1]) == 5
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as connection:
        assert connection.execute("select count(*) from rubric.rubric_tiers").fetchall()[0][0] > 0
    manifest = json.loads((tmp_path / "expected" / "manifest.json").read_text())
    assert manifest["metadata"]["invocation_id"] == results[1]["metadata"]["invocation_id"]

    # Another build than the one it parsed for parses for itself.
    other = handed([*selected, "--full-refresh"], "other")
    assert other.returncode == 0 and "parsed while the extracts loaded" not in other.stderr
    assert _parsed_in((tmp_path / "other" / "dbt.log").read_text(encoding="utf-8"))
    assert not (tmp_path / "other" / dbt_warm.PARSE_LOG).exists()


def _parsed(tmp_path: Path, environ: dict[str, str]) -> dbt_warm._Parsed:
    """A parse made ahead (of a stand-in manifest: the matching is what is tested here) of
    the project in ``tmp_path``."""
    project = Path(tempfile.mkdtemp(dir=tmp_path))
    (project / "models").mkdir()
    (project / "models" / "a.sql").write_text("select 1 as n\n")
    (project / "dbt_project.yml").write_text("models:\n  +schema: \"{{ env_var('SCHEMA_SUFFIX', '') }}\"\n")
    (project / "target").mkdir()
    manifest = types.SimpleNamespace(env_vars={"TIERING_READ": "yes"})
    build = ["build", "--target", "duckdb", "--vars", "{}"]
    files, names = dbt_warm._files([project])
    variables = dbt_warm._Parsed.variables(environ, names)
    return dbt_warm._Parsed(build, project, [project], files, variables, manifest, b"", "")


def test_a_parse_made_ahead_is_handed_only_to_the_build_it_was_made_for(tmp_path):
    environ = {
        "TIERING_RUBRIC": "default",
        "TIERING_READ": "yes",
        "DBT_PARTIAL_PARSE": "true",
        "SCHEMA_SUFFIX": "",
        "HOME": "/root",
    }

    def build_environ(parsed: dbt_warm._Parsed) -> dict[str, str]:
        project = str(parsed.project_dir)
        return {
            **environ,
            "DBT_PROJECT_DIR": project,
            "DBT_PROFILES_DIR": project,
            # What differs from build to build and does not change the parse.
            "DBT_TARGET_PATH": str(tmp_path / "t1"),
            "DBT_LOG_PATH": str(tmp_path / "t1"),
            "DBT_LOG_FORMAT": "json",
            "TIERING_AS_OF": "2026-11-24",
            "HOME": "/elsewhere",
        }

    parsed = _parsed(tmp_path, environ)
    built = build_environ(parsed)
    argv = ["build", "--target", "duckdb", "--vars", "{}", "--select", "fqn:*"]
    assert parsed.manifest_for(argv, built) is parsed.manifest
    assert parsed.manifest_for(argv[:-2], built) is parsed.manifest  # the selection aside

    assert parsed.manifest_for(["build", "--target", "duckdb", "--vars", '{"rubric": "retail"}'], built) is None
    assert parsed.manifest_for([*argv, "--full-refresh"], built) is None
    assert parsed.manifest_for(argv, {**built, "DBT_PROJECT_DIR": str(tmp_path)}) is None
    assert parsed.manifest_for(argv, {k: v for k, v in built.items() if k != "DBT_PROFILES_DIR"}) is None
    assert parsed.manifest_for(argv, {**built, "TIERING_RUBRIC": "retail"}) is None
    assert parsed.manifest_for(argv, {**built, "TIERING_ENGINE": "spark"}) is None  # a new one
    assert parsed.manifest_for(argv, {**built, "DBT_STATIC_PARSER": "false"}) is None
    assert parsed.manifest_for(argv, {**built, "TIERING_READ": "no"}) is None
    assert parsed.manifest_for(argv, {k: v for k, v in built.items() if k != "TIERING_READ"}) is None
    # A variable that a file of the project reads (here dbt_project.yml), whatever its name.
    assert parsed.manifest_for(argv, {**built, "SCHEMA_SUFFIX": "_x"}) is None
    # dbt's own folders are not the project.
    (parsed.project_dir / "target" / "run_results.json").write_text("{}")
    assert parsed.manifest_for(argv, built) is parsed.manifest

    # A file of the project changed, added or removed since the parse.
    def changed(change) -> object:
        parsed = _parsed(tmp_path, environ)
        change(parsed.project_dir / "models")
        return parsed.manifest_for(argv, build_environ(parsed))

    assert changed(lambda models: None) is not None
    assert changed(lambda models: (models / "a.sql").write_text("select 2 as n\n")) is None
    assert changed(lambda models: (models / "b.sql").write_text("select 3 as n\n")) is None
    assert changed(lambda models: (models / "a.sql").unlink()) is None


def test_only_a_build_of_known_arguments_is_parsed_for_ahead():
    vars_ = '{"rubric": "default"}'
    build = ["build", "--exclude-resource-type", "unit_test", "--target", "duckdb", "--vars", vars_]
    assert dbt_warm._parse_arguments(build) == ["--target", "duckdb", "--vars", vars_]
    # An argument the parse would not be made with (some change what dbt parses): none made.
    assert dbt_warm._parse_arguments([*build, "--profile", "other"]) is None
    assert dbt_warm._parse_arguments([*build, "--no-partial-parse"]) is None
    assert dbt_warm._parse_arguments(["run", *build[1:]]) is None


def test_the_run_takes_the_warm_process_started_before_it_and_only_for_its_build():
    resource = TieringDbtCliResource(project_dir=dbt_project, dbt_executable=WRAPPER)
    dbt_warm.start_early(_expected_build())
    early = dbt_warm._early
    try:
        with dg.build_resources({"dbt": resource}) as resources:
            assert resources.dbt._warm is early
            invocation = resources.dbt.cli(["--version"], raise_on_error=False)
            assert "Core:" in _output(invocation)
            assert invocation.process.wait(timeout=120) == 0
            assert early.process.wait(timeout=30) == 0  # the early process ran it
        # One started for another build is stopped; the run starts its own.
        dbt_warm.start_early(["build", "--target", "another"])
        other = dbt_warm._early
        with dg.build_resources({"dbt": resource}) as resources:
            assert resources.dbt._warm not in (None, other)
            assert other.process.wait(timeout=30) != 0  # killed
        assert dbt_warm._early is None
    finally:
        dbt_warm.close_early()


def test_what_the_warm_process_says_before_the_hand_over_goes_to_the_build_output():
    # A build whose parse ahead fails (its --vars are not JSON): the process says so while it
    # waits, before any output of the build is handed to it.
    build = ["build", "--target", "duckdb", "--vars", "{not json"]
    saved = saved_parse(build)
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_bytes(b"")
    warm = dbt_warm.start(build)
    try:
        handed = _handed(warm, "--version")
        assert warm.process.wait(timeout=30) == handed.returncode == 0
        assert "dbt: the project could not be parsed ahead of the build" in handed.stderr
        assert "Core:" in handed.stdout
    finally:
        warm.close()
        saved.unlink()
        saved.parent.rmdir()
