"""Customer tiering (客户分级分类): plain Python that knows nothing of Dagster.

Readers, the demo data generator, settings, publishing and the command line live here;
the Dagster code location in ``orchestration`` only wires them together.
"""

__version__ = "0.1.0"
