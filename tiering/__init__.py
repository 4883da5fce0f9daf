"""Customer tiering (客户分级分类): plain Python that knows nothing of Dagster.

Subpackages follow the flow of a run:

- ``ingest``: the extract contract, the landing folder, loading files into the raw schema;
- ``quality``: Great Expectations suites over the raw tables;
- ``rubric``: checks of the rubric seeds, AHP weights;
- ``publish``: the serving file and Parquet, the auditor report, sheets, alerts, migration;
- ``demo``: the demo data generator; ``bench``: the benchmark.

``settings`` is the one place that reads the environment; ``cli`` is the ``tiering`` command.
The Dagster code location in ``orchestration`` only wires these together.
"""

__version__ = "0.1.0"
