"""Landing extracts: the canonical contract, what is in the landing folder, and loading files
into the raw schema with lineage, a checksum ledger and quarantine."""
