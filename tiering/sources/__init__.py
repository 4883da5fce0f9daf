"""Source profiles: what each CRM and ERP system exports, mapped to the canonical contract.

A profile (``sources/<system>.yaml``) says which export file is which entity and how its
headers, codes, dates, numbers and units map to the contract's columns; ``normalise`` turns
a matched file into the contract's text relation inside DuckDB, so the contract checks,
quarantine and reconciliation of ``tiering.ingest.load`` apply unchanged. See docs/sources.md.
"""
