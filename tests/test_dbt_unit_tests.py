"""The dbt unit tests (given / expect rows) of the scoring and cleaning models.

The nightly build leaves them out (they test logic, not tonight's data), so they run here: an
`--empty` build creates every relation with no rows, then each unit test runs its fixtures.
"""

from __future__ import annotations

import json

import duckdb

from tests.conftest import REPO_ROOT, run_dbt
from tiering.ingest.load import ensure_raw_schema


def test_every_dbt_unit_test_passes(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        ensure_raw_schema(connection)
    manifest = json.loads((REPO_ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    expected = sorted(node["name"] for node in manifest["unit_tests"].values())

    completed = run_dbt(["build", "--empty"], tmp_path, {"as_of_date": "2026-06-30"}, check=False)

    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    unit_results = {
        result["unique_id"].split(".")[-1]: result["status"]
        for result in results
        if result["unique_id"].startswith("unit_test.")
    }
    assert sorted(unit_results) == expected and len(expected) >= 6
    assert set(unit_results.values()) == {"pass"}, completed.stdout[-3000:]
