"""The documented extract contract says what the code enforces."""

from pathlib import Path

from tiering.ingest.contract import ENTITIES, entity_for_file

DOC = Path(__file__).resolve().parents[1] / "docs" / "extract-contract.md"


def test_the_contract_page_lists_every_entity_and_column_with_its_type():
    text = DOC.read_text(encoding="utf-8")
    for entity in ENTITIES.values():
        assert f"## `{entity.name}`" in text
        for column in entity.columns:
            row = f"| {column.name} | {column.sql_type} | {'yes' if column.required else ''} | {column.rule} |"
            assert row in text, f"{entity.name}.{column.name} is not documented as the code has it: {row}"
        for rule in entity.row_rules:
            assert rule.description in text


def test_files_are_recognised_by_the_prefix_of_their_name():
    assert entity_for_file("erp_orders_2026-11-21.csv").name == "erp_orders"
    assert entity_for_file("ERP_Orders_2026-11-21.CSV").name == "erp_orders"
    assert entity_for_file("crm_customers.csv").name == "crm_customers"
    assert entity_for_file("erp_orders_2026-11-21.csv.gz").name == "erp_orders"
    assert entity_for_file("erp_orders_2026-11-21.xlsx") is None
    assert entity_for_file("erp_orders_2026-11-21.txt") is None
    assert entity_for_file("orders.csv") is None
