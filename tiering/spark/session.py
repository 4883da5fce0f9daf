"""A local Spark session in the pipeline's own process, for the Great Expectations suites on
Spark. It reads Parquet files by path and registers nothing: its catalog is in memory, so it
never holds the Derby catalog that dbt's Spark session uses."""

from __future__ import annotations

import os
from functools import cache
from typing import Any


@cache
def local_session() -> Any:
    """One Spark session per process (the JVM starts once, in seconds)."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName("tiering-checks")
        .master(os.environ.get("TIERING_SPARK_MASTER", "local[2]"))
        .config("spark.driver.memory", os.environ.get("TIERING_SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("TIERING_SPARK_SHUFFLE_PARTITIONS", "4"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        # pandas 3: without Arrow, pyspark turns a missing string into 'nan'; never fall back.
        .config("spark.sql.execution.arrow.pyspark.fallback.enabled", "false")
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
