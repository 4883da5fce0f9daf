"""The same demo firms through the canonical files and through every shipped source profile
publish the same tiers: two runs of the real nightly job (ingest, GX, dbt, publish).

The profile run mixes systems as a firm would: the ERP rows are shared out among the ERP
profiles and the CRM rows among the CRM profiles, each part written as that system exports
it (workbooks, GBK and UTF-16 text, title rows, 合计 rows, footers), all in one landing folder
read with TIERING_SOURCES naming every profile.
"""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

import duckdb

from tiering.demo.generate import generate_demo_extracts
from tiering.ingest.contract import ENTITIES
from tiering.sources.export import export_extracts
from tiering.sources.profiles import load_profiles, shipped_profiles

AS_OF = "2026-01-05"
PUBLISHED = ("customer_tiers", "customer_indicator_scores", "tier_summary", "dimension_summary")
RUN_SPECIFIC = re.compile(r"^(run_id|batch_id|published_at|computed_at|built_at|loaded_at|serving_version)$")


def _share_out(canonical: Path, out: Path, work: Path) -> list[str]:
    """Each entity's rows shared out among the profiles that have it, each part exported in
    its profile's format into ``out``; the profile names used."""
    profiles = load_profiles([name for name in shipped_profiles() if name != "canonical"])
    with duckdb.connect() as connection:
        for entity in ENTITIES:
            owners = [profile for profile in profiles if entity in profile.spec.entities]
            [source] = canonical.glob(f"{entity}*.csv")
            group = "order_id" if entity == "erp_orders" else "_ordinal"
            for index, profile in enumerate(owners):
                part = work / f"{profile.name}"
                part.mkdir(parents=True, exist_ok=True)
                connection.execute(
                    f"""
                    copy (
                        select * exclude (_ordinal) from (
                            select *, row_number() over () as _ordinal
                            from read_csv('{source}', header = true, all_varchar = true)
                        )
                        where hash({group}) % {len(owners)} = {index} order by _ordinal
                    ) to '{part / source.name}' (format csv, header)
                    """
                )
    for profile in profiles:
        export_extracts(work / profile.name, out, [profile], date.fromisoformat(AS_OF))
    return [profile.name for profile in profiles]


def _table(serving: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(serving), read_only=True) as connection:
        columns = [row[0] for row in connection.execute(f"describe {table}").fetchall()]
        kept = ", ".join(f'"{c}"' for c in columns if not RUN_SPECIFIC.match(c))
        return connection.execute(f"select {kept} from {table} order by all").fetchall()


def test_every_shipped_profile_publishes_the_same_tiers_as_the_canonical_files(tmp_path, run_pipeline):
    canonical = tmp_path / "canonical"
    generate_demo_extracts(canonical, customers=120, seed=21, as_of=date.fromisoformat(AS_OF))
    exported = tmp_path / "exported"
    names = _share_out(canonical, exported, tmp_path / "parts")
    assert not any(path.name.startswith(tuple(ENTITIES)) for path in exported.iterdir())

    started = time.monotonic()
    expected = run_pipeline(canonical, tmp_path / "canonical_data", AS_OF)
    canonical_seconds = time.monotonic() - started
    started = time.monotonic()
    got = run_pipeline(exported, tmp_path / "profile_data", AS_OF, sources=",".join(names))
    profile_seconds = time.monotonic() - started
    print(f"canonical run {canonical_seconds:.1f} s, profile run {profile_seconds:.1f} s")
    assert expected.success and got.success

    # Every file of every profile was loaded and reconciles; the excluded rows are totals and footers.
    files = got.warehouse_query(
        "select source_file, rows_read, rows_loaded, rows_quarantined from raw._ingested_files order by source_file"
    )
    assert len(files) == len(list(exported.iterdir()))
    assert all(read == loaded + quarantined for _, read, loaded, quarantined in files)
    extra = got.warehouse_query("select count(*) from raw._quarantine where reason like '%excluded: %'")[0][0]
    canonical_quarantine = expected.warehouse_query("select count(*) from raw._quarantine")[0][0]
    assert got.warehouse_query("select count(*) from raw._quarantine")[0][0] == canonical_quarantine + extra > 0

    for table in PUBLISHED:
        rows = _table(expected.serving_path, table)
        assert rows, table
        assert _table(got.serving_path, table) == rows, table
