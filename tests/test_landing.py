"""Every entry of the landing folder is accounted for: loaded, skipped, or not loaded with a reason."""

from __future__ import annotations

import os

from tiering.ingest.landing import NOT_LOADED, READY, inventory

PRODUCTS = "product_id,product_name,product_category,is_active\nP1,螺丝,五金,true\n"


def by_name(landing):
    return {entry.name: (entry.status, entry.entity, entry.reason) for entry in inventory(landing)}


def test_each_kind_of_entry_gets_its_status_and_reason(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "erp_products_2026-03-31.csv").write_text(PRODUCTS, encoding="utf-8")
    (landing / "erp_products_2026-04-01.csv.gz").write_bytes(b"\x1f\x8b")
    (landing / "erp_invoices_2026-03-31.csv").write_text("invoice_id\n", encoding="utf-8")
    (landing / "crm_customer_2026-03-31.csv").write_text("crm_customer_id\n", encoding="utf-8")
    (landing / "erp_orders_2026-03-31.txt").write_text("order_id\n", encoding="utf-8")
    (landing / "erp_orders_2026-03-31.xlsx").write_bytes(b"PK")
    (landing / "erp_orders_2026-04-01.csv").mkdir()
    os.symlink(tmp_path / "gone.csv", landing / "erp_receivables_2026-03-31.csv")
    os.mkfifo(landing / "crm_complaints_2026-03-31.csv")
    (landing / ".hidden_upload.csv").write_text("x", encoding="utf-8")

    entries = by_name(landing)

    assert entries == {
        "crm_complaints_2026-03-31.csv": (NOT_LOADED, "crm_complaints", "a FIFO, not a regular file"),
        "crm_customer_2026-03-31.csv": (
            NOT_LOADED,
            None,
            "unknown entity: the name starts with none of crm_customers, erp_customers, erp_products, "
            "erp_orders, erp_receivables, crm_complaints; did you mean crm_customers?",
        ),
        "erp_invoices_2026-03-31.csv": (
            NOT_LOADED,
            None,
            "unknown entity: the name starts with none of crm_customers, erp_customers, erp_products, "
            "erp_orders, erp_receivables, crm_complaints",
        ),
        "erp_orders_2026-03-31.txt": (NOT_LOADED, "erp_orders", "unsupported format: expected .csv, .csv.gz"),
        "erp_orders_2026-03-31.xlsx": (NOT_LOADED, "erp_orders", "unsupported format: expected .csv, .csv.gz"),
        "erp_orders_2026-04-01.csv": (NOT_LOADED, "erp_orders", "a directory, not a file"),
        "erp_products_2026-03-31.csv": (READY, "erp_products", None),
        "erp_products_2026-04-01.csv.gz": (READY, "erp_products", None),
        "erp_receivables_2026-03-31.csv": (NOT_LOADED, None, "a link whose target is missing"),
    }


def test_a_missing_landing_folder_lists_nothing(tmp_path):
    assert inventory(tmp_path / "nowhere") == []
