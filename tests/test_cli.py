"""Every `tiering` command answers a bad argument or missing data with one clear line and a
non-zero exit, never a traceback; --help documents every option."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tiering.cli import build_parser

TIERING = str(Path(sys.executable).with_name("tiering"))

CASES = [
    (["summary"], 1, "error: nothing is published at {data}/serving/tiering.duckdb; run `make run` first"),
    (["summary", "--as-of", "2026-13-01"], 2, "tiering summary: error: argument --as-of: '2026-13-01' is not a date"),
    (
        ["migration", "--from", "2026-11-01", "--to", "2026-11-24"],
        1,
        "error: nothing is published at {data}/serving/tiering.duckdb; run `make run` first",
    ),
    (["migration", "--from", "2026-11-24", "--to", "2026-11-01"], 1, "error: --to 2026-11-01 must be after --from"),
    (["sheet", "C1"], 1, "error: nothing is published at"),
    (["generate", "--customers", "0"], 2, "tiering generate: error: argument --customers: 0 is not 1 or more"),
    (["ahp", "{data}/no_such_matrix.yml"], 1, "error: "),
    (["landing", "withdraw", "erp_orders_x.csv", "--reason", "wrong"], 1, "error: no warehouse at"),
    (["serving", "rollback"], 1, "error: no serving version before"),
    (["warehouse", "restore"], 1, "error: no warehouse backup in"),
    (["nonsense"], 2, "tiering: error: argument command: invalid choice: 'nonsense'"),
    (["landing"], 2, "tiering landing: error: the following arguments are required: landing_command"),
]


@pytest.mark.parametrize(("args", "code", "message"), CASES, ids=[" ".join(case[0]) for case in CASES])
def test_a_bad_call_gets_one_line_and_a_non_zero_exit(tmp_path, args, code, message):
    data = tmp_path / "data"
    env = {key: value for key, value in os.environ.items() if not key.startswith("TIERING_")}
    env.update(TIERING_DATA_DIR=str(data), TIERING_LANDING_DIR=str(tmp_path / "landing"))
    completed = subprocess.run(
        [TIERING, *(arg.format(data=data) for arg in args)], env=env, capture_output=True, text=True, cwd=tmp_path
    )

    assert completed.returncode == code
    assert completed.stderr.startswith(message.format(data=data)), completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_bad_setting_names_the_variable(tmp_path):
    env = {**os.environ, "TIERING_DATA_DIR": str(tmp_path), "TIERING_MEMORY_LIMIT": "lots"}
    completed = subprocess.run([TIERING, "summary"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr.startswith("error: TIERING_MEMORY_LIMIT='lots' is not an amount of memory")


def _parsers(parser):
    yield parser
    for action in parser._actions:
        if hasattr(action, "choices") and isinstance(action.choices, dict):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_option_of_every_command_is_documented():
    for parser in _parsers(build_parser()):
        for action in parser._actions:
            if action.dest in ("help", "command", "landing_command", "serving_command", "warehouse_command"):
                continue
            assert action.help, f"{parser.prog} {action.option_strings or action.dest} has no help"
