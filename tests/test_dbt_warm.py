"""dbt started with the run (orchestration/dbt_warm.py): the build runs in the process that
imported dbt while the extracts loaded, with the same output and exit code as a dbt process of
its own, and it stops when the process dagster-dbt started stops."""

from __future__ import annotations

import contextlib
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
