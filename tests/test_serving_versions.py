"""One serving version, switched at once: versions, readers, rollback, clean-up, and kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import duckdb
import pytest

from tiering.publish import serving

TABLES = {"customer_tiers": "marts.customer_tiers", "tier_summary": "marts.tier_summary"}


def make_warehouse(path: Path, tier: str) -> Path:
    """A warehouse whose marts (the file beside it that dbt writes) say which night built them
    (the tier of one customer)."""
    path.unlink(missing_ok=True)
    duckdb.connect(str(path)).close()
    marts = path.with_name("marts.duckdb")
    marts.unlink(missing_ok=True)
    with duckdb.connect(str(marts)) as connection:
        connection.execute(f"create table customer_tiers as select 'C1' as customer_id, '{tier}' as tier")
        connection.execute(f"create table tier_summary as select '{tier}' as tier, 1 as customer_count")
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


def test_a_mart_that_cannot_be_copied_fails_the_publication_and_readers_keep_theirs(tmp_path):
    first = publish(tmp_path, "key", "run-aaaaaaaa")
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", "strategic")
    # A mart the build did not write: the publication fails, and nothing is switched.
    tables = {**TABLES, "tier_changes": "marts.tier_changes"}
    with pytest.raises(serving.ServingError, match="tier_changes"):
        serving.publish(warehouse, tmp_path / "serving", run_id="run-bbbbbbbb", as_of="2026-03-31", tables=tables)

    assert what_readers_see(tmp_path / "serving") == ("key", "key", "key")
    assert serving.complete_versions(tmp_path / "serving") == [first.version]


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


# A history mart as dbt's history_table materialization leaves it in the marts file: rows of
# several as-of dates, and each write recorded in _history_writes (the dates written, or the
# whole table).
HISTORY = {"customer_tiers": "marts.customer_tiers", "tier_summary": "marts.tier_summary"}


class History:
    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.warehouse = tmp_path / "warehouse.duckdb"
        duckdb.connect(str(self.warehouse)).close()
        self.runs = 0
        with self.connect() as connection:
            connection.execute("create table main.customer_tiers (customer_id varchar, as_of_date date, tier varchar)")
            connection.execute(
                "create table main._history_writes "
                "(relation varchar, seq bigint, invocation_id varchar, as_of_date date, whole_table boolean, "
                "written_at timestamp)"
            )
            self.write("insert into main.customer_tiers values ('C1', '2026-03-30', 'key')", None)
            connection.execute("create table main.tier_summary as select 'key' as tier, 1 as customer_count")

    def connect(self):
        return duckdb.connect(str(self.warehouse.with_name("marts.duckdb")))

    def write(self, sql: str, day: str | None) -> None:
        """Change the mart as a dbt run does, and record the write: of one date, or (None) whole."""
        with self.connect() as connection:
            connection.execute(sql)
            connection.execute(
                "insert into main._history_writes select 'main.customer_tiers', "
                "coalesce((select max(seq) from main._history_writes), 0) + 1, ?, cast(? as date), ?, now()",
                [uuid.uuid4().hex, day, day is None],
            )

    def publish(self) -> dict[str, tuple[int, int]]:
        """Publish; per table, the rows it holds and the rows this publication wrote."""
        self.runs += 1
        serving.publish(
            self.warehouse, self.tmp_path / "serving", run_id=f"run-{self.runs:08d}", as_of="2026-03-31", tables=HISTORY
        )
        with duckdb.connect(str(self.tmp_path / "serving" / "tiering.duckdb"), read_only=True) as connection:
            rows = connection.execute("select table_name, row_count, rows_written from _publication").fetchall()
            published = connection.execute("select * from customer_tiers order by all").fetchall()
        with self.connect() as connection:
            assert published == connection.execute("select * from main.customer_tiers order by all").fetchall()
        return {name: (count, written) for name, count, written in rows}


def test_a_version_counts_as_written_the_rows_of_the_dates_written_since_the_one_before(tmp_path):
    history = History(tmp_path)
    assert history.publish() == {"customer_tiers": (1, 1), "tier_summary": (1, 1)}  # the first: whole

    history.write("insert into main.customer_tiers values ('C1', '2026-03-31', 'strategic')", "2026-03-31")
    assert history.publish()["customer_tiers"] == (2, 1)
    # Tables that record no writes are written whole every time.
    assert history.publish() == {"customer_tiers": (2, 0), "tier_summary": (1, 1)}
    # A run that wrote no rows.
    with history.connect() as connection:
        connection.execute(
            "insert into main._history_writes select relation, seq + 1, 'empty', null, false, now() "
            "from main._history_writes order by seq desc limit 1"
        )
    assert history.publish()["customer_tiers"] == (2, 0)

    # A run of an earlier date replaces that date's rows, wherever they are.
    history.write("update main.customer_tiers set tier = 'ordinary' where as_of_date = '2026-03-30'", "2026-03-30")
    history.write("insert into main.customer_tiers values ('C2', '2026-03-30', 'key')", "2026-03-30")
    assert history.publish()["customer_tiers"] == (3, 2)


@pytest.mark.parametrize(
    "change",
    [
        "the whole table written again (dbt's --full-refresh)",
        "a column added (on_schema_change)",
        "the record of writes lacks the version's last (a warehouse restored from a backup)",
    ],
)
def test_a_version_counts_every_row_as_written_when_the_one_before_cannot_be_compared(tmp_path, change):
    history = History(tmp_path)
    history.publish()
    history.write("insert into main.customer_tiers values ('C1', '2026-03-31', 'strategic')", "2026-03-31")
    assert history.publish()["customer_tiers"] == (2, 1)

    if change.startswith("the whole table"):
        history.write("update main.customer_tiers set tier = 'potential'", None)
    elif change.startswith("a column added"):
        history.write("alter table main.customer_tiers add column reason varchar default 'initial'", "2026-03-31")
    else:
        with history.connect() as connection:
            connection.execute("delete from main._history_writes where seq > 1")
        history.write("update main.customer_tiers set tier = 'potential' where as_of_date = '2026-03-30'", None)
        with history.connect() as connection:  # the same number as the version's, another write
            connection.execute(
                "update main._history_writes set as_of_date = '2026-03-30', whole_table = false where seq = 2"
            )

    assert history.publish()["customer_tiers"] == (2, 2)


def test_a_version_holds_the_marts_alone_not_their_record_of_writes_nor_what_a_killed_build_left(tmp_path):
    history = History(tmp_path)
    with history.connect() as connection:
        connection.execute("create view main.customer_tiers__dbt_new_rows as select 1 as left_by_a_killed_run")
        connection.execute("create table main.customer_tiers__dbt_tmp as select 1 as left_by_a_killed_run")
    history.publish()
    with duckdb.connect(str(tmp_path / "serving" / "tiering.duckdb"), read_only=True) as connection:
        assert connection.execute(
            "select table_name from duckdb_tables() union all "
            "select view_name from duckdb_views() where not internal order by all"
        ).fetchall() == [("_publication",), ("customer_tiers",), ("tier_summary",)]


def test_what_the_build_wrote_after_its_last_checkpoint_is_published(tmp_path):
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", "key")
    with duckdb.connect(str(tmp_path / "marts.duckdb")) as connection:
        connection.execute("pragma disable_checkpoint_on_shutdown")
        connection.execute("update customer_tiers set tier = 'strategic'")
    assert (tmp_path / "marts.duckdb.wal").exists()  # the write is in the log alone

    serving.publish(warehouse, tmp_path / "serving", run_id="run-aaaaaaaa", as_of="2026-03-31", tables=TABLES)

    with duckdb.connect(str(tmp_path / "serving" / "tiering.duckdb"), read_only=True) as connection:
        assert connection.execute("select tier from customer_tiers").fetchall() == [("strategic",)]
