"""Data-quality checks on the raw tables with Great Expectations, and masking of the samples
they report."""
