"""Deterministic demo CRM and ERP extracts with planted defects."""
