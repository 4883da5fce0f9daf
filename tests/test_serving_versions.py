"""One serving version, switched at once: versions, readers, rollback, clean-up, and kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from tiering.publish import serving

TABLES = {"customer_tiers": "marts.customer_tiers", "tier_summary": "marts.tier_summary"}


def make_warehouse(path: Path, tier: str) -> Path:
    """A warehouse whose marts say which night built them (the tier of one customer)."""
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute(f"create table marts.customer_tiers as select 'C1' as customer_id, '{tier}' as tier")
        connection.execute(f"create table marts.tier_summary as select '{tier}' as tier, 1 as customer_count")
    return path


def publish(tmp_path: Path, tier: str, run_id: str, **options) -> serving.Publication:
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", tier)
    return serving.publish(
        warehouse,
        tmp_path / "serving",
        run_id=run_id,
        as_of="2026-03-31",
        tables=TABLES,
        write_extras=lambda version_dir: (version_dir / serving.REPORT_FILE).write_text(tier, encoding="utf-8"),
        **options,
    )


def what_readers_see(serving_dir: Path) -> tuple[str, str, str]:
    """The tier as the DuckDB file, the Parquet file and the latest report show it."""
    with duckdb.connect(str(serving_dir / "tiering.duckdb"), read_only=True) as connection:
        database = connection.execute("select tier from customer_tiers").fetchall()[0][0]
        parquet = connection.execute(
            f"select tier from '{serving_dir / 'parquet' / 'customer_tiers.parquet'}'"
        ).fetchall()[0][0]
    report = (serving_dir / "reports" / "latest.html").read_text(encoding="utf-8")
    return database, parquet, report


def test_each_publication_is_a_version_and_readers_see_the_newest(tmp_path):
    first = publish(tmp_path, "key", "run-aaaaaaaa")
    assert what_readers_see(tmp_path / "serving") == ("key", "key", "key")
    second = publish(tmp_path, "strategic", "run-bbbbbbbb")

    assert what_readers_see(tmp_path / "serving") == ("strategic", "strategic", "strategic")
    assert serving.complete_versions(tmp_path / "serving") == [first.version, second.version]
    assert serving.current_version(tmp_path / "serving") == second.version
    assert second.row_counts == {"customer_tiers": 1, "tier_summary": 1}


def test_a_reader_holding_the_file_keeps_its_version_across_a_switch(tmp_path):
    publish(tmp_path, "key", "run-aaaaaaaa")
    with duckdb.connect(str(tmp_path / "serving" / "tiering.duckdb"), read_only=True) as reader:
        publish(tmp_path, "strategic", "run-bbbbbbbb")
        assert reader.execute("select tier from customer_tiers").fetchall() == [("key",)]
    assert what_readers_see(tmp_path / "serving")[0] == "strategic"


def test_rollback_switches_readers_to_the_version_before(tmp_path):
    first = publish(tmp_path, "key", "run-aaaaaaaa")
    publish(tmp_path, "strategic", "run-bbbbbbbb")

    assert serving.rollback(tmp_path / "serving") == first.version
    assert what_readers_see(tmp_path / "serving") == ("key", "key", "key")
    with pytest.raises(serving.ServingError, match="no serving version before"):
        serving.rollback(tmp_path / "serving")


def test_old_versions_beyond_the_kept_number_are_removed_never_the_current(tmp_path):
    versions = [publish(tmp_path, f"tier{i}", f"run-{i}0000000", keep_versions=2).version for i in range(4)]
    assert serving.complete_versions(tmp_path / "serving") == versions[-2:]
    serving.rollback(tmp_path / "serving", versions[-2])
    publish(tmp_path, "tier4", "run-40000000", keep_versions=1)
    assert serving.current_version(tmp_path / "serving") == "2026-03-31_run-4000"


def test_leftovers_of_a_killed_publication_are_removed_by_the_next(tmp_path):
    publish(tmp_path, "key", "run-aaaaaaaa")
    versions = tmp_path / "serving" / "versions"
    (versions / ".2026-03-31_run-dead.1234.partial").mkdir()
    (versions / "2026-03-31_run-half").mkdir()  # renamed but never marked complete
    (tmp_path / "serving" / ".tiering.duckdb.abc.tmp").write_text("x")

    publish(tmp_path, "strategic", "run-bbbbbbbb")

    assert sorted(path.name for path in versions.iterdir()) == ["2026-03-31_run-aaaa", "2026-03-31_run-bbbb"]
    assert not list((tmp_path / "serving").glob(".*.tmp"))


def test_a_serving_folder_from_before_versions_is_taken_over(tmp_path):
    legacy = tmp_path / "serving"
    (legacy / "parquet").mkdir(parents=True)
    with duckdb.connect(str(legacy / "tiering.duckdb")) as connection:
        connection.execute("create table customer_tiers as select 'C1' as customer_id, 'ordinary' as tier")

    publish(tmp_path, "key", "run-aaaaaaaa")

    assert (legacy / "tiering.duckdb").is_symlink() and (legacy / "parquet").is_symlink()
    assert (legacy / "versions" / "legacy" / "tiering.duckdb").exists()
    assert what_readers_see(legacy)[:2] == ("key", "key")


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_serving_versions import publish
    publish(Path({tmp!r}), "strategic", "run-bbbbbbbb")
    """
)


@pytest.mark.parametrize(
    ("crash_at", "readers_see"),
    [
        ("publish:writing_version", "key"),
        ("publish:version_complete", "key"),
        ("publish:before_switch", "key"),
        ("publish:switched", "strategic"),
    ],
)
def test_a_publication_killed_at_any_point_leaves_one_whole_version(tmp_path, crash_at, readers_see):
    publish(tmp_path, "key", "run-aaaaaaaa")
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), tmp=str(tmp_path))
    killed = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, "TIERING_CRASH_AT": crash_at}, capture_output=True
    )

    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    assert what_readers_see(tmp_path / "serving") == (readers_see, readers_see, readers_see)
    publish(tmp_path, "potential", "run-cccccccc")
    assert what_readers_see(tmp_path / "serving") == ("potential", "potential", "potential")
    leftovers = [p.name for p in (tmp_path / "serving" / "versions").iterdir() if p.name.startswith(".")]
    assert leftovers == []
