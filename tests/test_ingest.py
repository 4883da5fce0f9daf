"""Ingestion on crafted files: every row is loaded or quarantined with file, row and reason."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tiering.ingest.contract import ENTITIES
from tiering.ingest.ledger import rollback_batch, withdraw
from tiering.ingest.load import ContractError, ingest_entity

PRODUCTS_HEADER = "product_id,product_name,product_category,is_active"


def write(path: Path, text: str, *, bom: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8-sig" if bom else "utf-8")
    return path


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def test_unparseable_rows_are_quarantined_with_file_row_and_column(tmp_path, warehouse):
    landing = tmp_path / "landing"
    write(
        landing / "erp_products_2026-11-01.csv",
        f"{PRODUCTS_HEADER}\n"
        "P1,笔记本,电子,true\n"
        "P2,only two fields\n"
        "P3,桌子,家具,maybe\n"
        ",椅子,家具,true\n"
        'P5,"灯,具",照明,false\n',
    )
    result = ingest_entity(warehouse, landing, "erp_products", batch_id="test")

    assert (result.total("rows_read"), result.total("rows_loaded"), result.total("rows_quarantined")) == (5, 2, 3)
    assert query(warehouse, "select product_id, product_name, _source_row from raw.erp_products order by 1") == [
        ("P1", "笔记本", 1),
        ("P5", "灯,具", 5),
    ]
    quarantined = query(warehouse, "select source_file, source_row, reason from raw._quarantine order by source_row")
    assert [(row[0], row[1]) for row in quarantined] == [
        ("erp_products_2026-11-01.csv", 2),
        ("erp_products_2026-11-01.csv", 3),
        ("erp_products_2026-11-01.csv", 4),
    ]
    assert "MISSING COLUMNS" in quarantined[0][2]
    assert quarantined[1][2] == "column is_active: 'maybe' is not a valid BOOLEAN"
    assert quarantined[2][2] == "column product_id: required value is missing"


def test_row_counts_reconcile_for_every_file(tmp_path, warehouse):
    landing = tmp_path / "landing"
    write(landing / "erp_products_2026-11-01.csv", f"{PRODUCTS_HEADER}\nP1,a,b,true\nP2,a,b,true,extra\n")
    ingest_entity(warehouse, landing, "erp_products", batch_id="test")
    ledger = query(warehouse, "select rows_read, rows_loaded, rows_quarantined from raw._ingested_files")
    assert ledger == [(2, 1, 1)]


def test_a_file_with_a_byte_order_mark_loads(tmp_path, warehouse):
    landing = tmp_path / "landing"
    write(landing / "erp_products_2026-11-01.csv", f"{PRODUCTS_HEADER}\nP1,笔记本,电子,true\n", bom=True)
    result = ingest_entity(warehouse, landing, "erp_products", batch_id="test")
    assert result.total("rows_loaded") == 1


def test_the_same_content_delivered_twice_is_loaded_once(tmp_path, warehouse):
    landing = tmp_path / "landing"
    content = f"{PRODUCTS_HEADER}\nP1,a,b,true\nP2,a,b,false\n"
    write(landing / "erp_products_2026-11-01.csv", content)
    write(landing / "erp_products_2026-11-02.csv", content)  # re-sent under another name

    first = ingest_entity(warehouse, landing, "erp_products", batch_id="first")
    second = ingest_entity(warehouse, landing, "erp_products", batch_id="second")

    assert [file.status for file in first.files] == ["loaded", "skipped_already_loaded"]
    assert [file.status for file in second.files] == ["skipped_already_loaded", "skipped_already_loaded"]
    assert query(warehouse, "select count(*) from raw.erp_products") == [(2,)]


def superseded(warehouse: Path) -> dict[str, bool]:
    return dict(query(warehouse, "select source_file, superseded from raw._ingested_files order by load_seq"))


def latest_products(warehouse: Path, *, skip_superseded: bool) -> set[tuple]:
    """Each product's row from its newest delivery, as staging keeps it."""
    where = "where _load_seq in (select load_seq from raw._ingested_files where not superseded)"
    return set(
        query(
            warehouse,
            f"""
            select product_id, product_name from (
                select *, row_number() over (partition by product_id order by _load_seq desc, _source_row desc) as rank
                from raw.erp_products {where if skip_superseded else ""}
            ) where rank = 1
            """,
        )
    )


def test_a_delivery_whose_every_key_came_again_is_superseded_until_the_later_one_is_withdrawn(tmp_path, warehouse):
    landing = tmp_path / "landing"
    write(landing / "erp_products_2026-11-01.csv", f"{PRODUCTS_HEADER}\nP1,first,b,true\nP2,first,b,true\n")
    ingest_entity(warehouse, landing, "erp_products", batch_id="night1")
    assert superseded(warehouse) == {"erp_products_2026-11-01.csv": False}

    # Delivered whole again, in another order, with a new product: the first delivery is spent.
    write(
        landing / "erp_products_2026-11-02.csv",
        f"{PRODUCTS_HEADER}\nP2,second,b,true\nP3,second,b,true\nP1,second,b,true\n",
    )
    ingest_entity(warehouse, landing, "erp_products", batch_id="night2")
    # In part: the second delivery still holds the latest P1 and P2.
    write(landing / "erp_products_2026-11-03.csv", f"{PRODUCTS_HEADER}\nP3,third,b,true\n")
    ingest_entity(warehouse, landing, "erp_products", batch_id="night3")
    assert superseded(warehouse) == {
        "erp_products_2026-11-01.csv": True,
        "erp_products_2026-11-02.csv": False,
        "erp_products_2026-11-03.csv": False,
    }
    latest = {("P1", "second"), ("P2", "second"), ("P3", "third")}
    assert (
        latest_products(warehouse, skip_superseded=True) == latest_products(warehouse, skip_superseded=False) == latest
    )

    with duckdb.connect(str(warehouse)) as connection:
        withdraw(connection, "erp_products_2026-11-02.csv", "supplier sent a wrong file")
    assert superseded(warehouse) == {"erp_products_2026-11-01.csv": False, "erp_products_2026-11-03.csv": False}
    latest = {("P1", "first"), ("P2", "first"), ("P3", "third")}
    assert (
        latest_products(warehouse, skip_superseded=True) == latest_products(warehouse, skip_superseded=False) == latest
    )


def test_a_rolled_back_delivery_gives_back_the_keys_it_superseded(tmp_path, warehouse):
    landing = tmp_path / "landing"
    write(landing / "erp_products_2026-11-01.csv", f"{PRODUCTS_HEADER}\nP1,first,b,true\n")
    ingest_entity(warehouse, landing, "erp_products", batch_id="night1")
    write(landing / "erp_products_2026-11-02.csv", f"{PRODUCTS_HEADER}\nP1,second,b,true\n")
    ingest_entity(warehouse, landing, "erp_products", batch_id="night2")
    assert superseded(warehouse) == {"erp_products_2026-11-01.csv": True, "erp_products_2026-11-02.csv": False}

    with duckdb.connect(str(warehouse)) as connection:
        rollback_batch(connection, "night2", "the run that loaded it did not finish")
    assert superseded(warehouse) == {"erp_products_2026-11-01.csv": False}
    assert latest_products(warehouse, skip_superseded=True) == {("P1", "first")}


def test_a_missing_column_is_a_contract_error_naming_file_and_column(tmp_path, warehouse):
    landing = tmp_path / "landing"
    write(landing / "erp_products_2026-11-01.csv", "product_id,product_name,is_active\nP1,a,true\n")
    with pytest.raises(
        ContractError, match=r"erp_products_2026-11-01\.csv, row 1 \(header\): missing column\(s\) product_category"
    ):
        ingest_entity(warehouse, landing, "erp_products", batch_id="test")
    assert query(warehouse, "select count(*) from raw.erp_products") == [(0,)]


def test_typed_values_keep_decimal_precision(tmp_path, warehouse):
    landing = tmp_path / "landing"
    header = ",".join(ENTITIES["erp_orders"].column_names)
    write(
        landing / "erp_orders_2026-11-01.csv",
        f"{header}\nSO1,1,E1,2026-10-01,confirmed,P1,1,1130.00,0.13,850.10,CNY\n"
        "SO1,2,E1,2026-13-45,confirmed,P1,1,N/A,0.13,1,CNY\n",
    )
    ingest_entity(warehouse, landing, "erp_orders", batch_id="test")
    assert query(warehouse, "select amount_incl_tax, typeof(amount_incl_tax) from raw.erp_orders") == [
        (__import__("decimal").Decimal("1130.00"), "DECIMAL(18,2)")
    ]
    reason = query(warehouse, "select reason from raw._quarantine")[0][0]
    assert "column order_date: '2026-13-45' is not a valid DATE" in reason
    assert "column amount_incl_tax: 'N/A' is not a valid DECIMAL(18,2)" in reason


def test_a_warehouse_whose_raw_rows_carry_their_deliverys_file_keeps_every_row_without_it(tmp_path, warehouse):
    # Until 2026-12 every raw row carried its delivery's file, checksum, batch and load time;
    # the ledger keeps them once per delivery now, and such a warehouse loses the columns alone.
    landing = tmp_path / "landing"
    write(landing / "erp_products_2026-11-01.csv", f"{PRODUCTS_HEADER}\nP1,a,b,true\nP2,a,b,false\n")
    ingest_entity(warehouse, landing, "erp_products", batch_id="first")
    with duckdb.connect(str(warehouse)) as connection:
        for column, sql_type in (
            ("_source_file", "varchar"),
            ("_file_checksum", "varchar"),
            ("_batch_id", "varchar"),
            ("_loaded_at", "timestamp"),
        ):
            connection.execute(f"alter table raw.erp_products add column {column} {sql_type}")
    write(landing / "erp_products_2026-11-02.csv", f"{PRODUCTS_HEADER}\nP3,c,d,true\n")

    ingest_entity(warehouse, landing, "erp_products", batch_id="second")

    columns = query(
        warehouse,
        "select column_name from information_schema.columns where table_schema = 'raw' "
        "and table_name = 'erp_products' and column_name like '\\_%' escape '\\' order by ordinal_position",
    )
    assert columns == [("_source_row",), ("_load_seq",)]
    assert query(
        warehouse,
        "select files.source_file, rows.product_id, rows._source_row from raw.erp_products as rows "
        "join raw._ingested_files as files on rows._load_seq = files.load_seq order by rows.product_id",
    ) == [
        ("erp_products_2026-11-01.csv", "P1", 1),
        ("erp_products_2026-11-01.csv", "P2", 2),
        ("erp_products_2026-11-02.csv", "P3", 1),
    ]
