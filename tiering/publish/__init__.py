"""What users read: the serving file and Parquet, the auditor report, evaluation sheets,
downgrade alerts and tier migration."""
