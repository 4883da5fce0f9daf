"""Apache Spark as the engine (TIERING_ENGINE=spark): the landed tables handed to Spark as
Parquet, a local Spark session for the checks, and the Spark warehouse read back for publishing.
pyspark is an optional dependency (requirements-spark.lock); nothing here imports it at import
time."""
