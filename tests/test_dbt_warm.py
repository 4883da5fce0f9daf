"""dbt started with the run (orchestration/dbt_warm.py): the build runs in the process that
imported dbt while the extracts loaded, with the same output and exit code as a dbt process of
its own, and it stops when the process dagster-dbt started stops."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from orchestration import dbt_warm
from orchestration.dbt_invocation import dbt_executable
from orchestration.defs.project import dbt_project
from orchestration.defs.resources import TieringDbtCliResource, _dbt_dying_with_parent

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the hand-over is Linux only")

WRAPPER = _dbt_dying_with_parent(dbt_executable())


def _output(invocation) -> str:
    return "\n".join(str(line) for line in invocation._stream_stdout())


def _cold(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([WRAPPER, *args], capture_output=True, text=True, cwd=dbt_project.project_dir, timeout=120)


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
        handed = subprocess.run(
            [WRAPPER, "no-such-command"],
            capture_output=True,
            text=True,
            cwd=dbt_project.project_dir,
            env={**os.environ, dbt_warm.SOCKET_ENV: warm.name},
            timeout=120,
        )
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


def _project_of_a_short_and_a_long_branch(folder: Path) -> Path:
    """Two models without parents: ``a_short`` (two tests, nothing after it) and ``b_chain_1``,
    the first of a chain of four. By dbt's order ``a_short`` runs first, as its name sorts first
    among the nodes of the first level."""
    (folder / "models").mkdir(parents=True)
    (folder / "dbt_project.yml").write_text(
        "name: order_check\nversion: '1.0'\nprofile: order_check\nmodel-paths: [models]\n", encoding="utf-8"
    )
    (folder / "profiles.yml").write_text(
        f"order_check:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n"
        f"      path: {str(folder / 'w.duckdb')!r}\n      threads: 1\n",
        encoding="utf-8",
    )
    (folder / "models" / "a_short.sql").write_text("select 1 as id", encoding="utf-8")
    (folder / "models" / "b_chain_1.sql").write_text("select 1 as id", encoding="utf-8")
    for link in range(2, 5):
        (folder / "models" / f"b_chain_{link}.sql").write_text(
            f"select id from {{{{ ref('b_chain_{link - 1}') }}}}", encoding="utf-8"
        )
    (folder / "models" / "schema.yml").write_text(
        "version: 2\nmodels:\n  - name: a_short\n    columns:\n      - name: id\n"
        "        data_tests: [not_null, unique]\n",
        encoding="utf-8",
    )
    return folder


def _order_of_build(folder: Path, env: dict[str, str]) -> list[str]:
    build = subprocess.run(
        [WRAPPER, "build", "--profiles-dir", str(folder), "--target-path", str(folder / "target")],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        timeout=180,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    results = json.loads((folder / "target" / "run_results.json").read_text(encoding="utf-8"))["results"]
    started = sorted(results, key=lambda result: result["timing"][0]["started_at"])
    return [result["unique_id"].split(".")[2] for result in started]


def test_the_warm_process_runs_the_longest_chain_first(tmp_path):
    project = _project_of_a_short_and_a_long_branch(tmp_path / "project")
    cold = _order_of_build(project, {**os.environ})
    warm = dbt_warm.start()
    try:
        handed = _order_of_build(project, {**os.environ, dbt_warm.SOCKET_ENV: warm.name})
        assert warm.process.wait(timeout=30) == 0
    finally:
        warm.close()

    # dbt's own order: the first level by name, then in the order nodes became ready.
    assert cold[:2] == ["a_short", "b_chain_1"]
    # The warm process's: the chain of four until the short branch is as long as what is left
    # of it (then by name), and the tests, which end no chain, last.
    assert handed == [
        "b_chain_1",
        "b_chain_2",
        "a_short",
        "b_chain_3",
        "b_chain_4",
        "not_null_a_short_id",
        "unique_a_short_id",
    ]
    assert sorted(handed) == sorted(cold)
