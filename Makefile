# Two commands matter: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8

TIERING_DATA_DIR ?= data
DAGSTER_HOME ?= $(abspath $(TIERING_DATA_DIR))/dagster
BENCH_CUSTOMERS ?= 10000
# pytest-xdist workers for `make test`: one a core.
TEST_WORKERS ?= auto
export TIERING_DATA_DIR DAGSTER_HOME
# The venv's tools (dbt among them) first on PATH for everything make starts.
export PATH := $(abspath $(BIN)):$(PATH)
# Installed tools, not PYTHONDONTWRITEBYTECODE, decide byte-compiling: see setup.
export GX_ANALYTICS_ENABLED := False
export DAGSTER_DISABLE_TELEMETRY := true

.PHONY: help setup spark java run test dev bench backfill lint lock lock-spark manifest clean browser instance docs

help:
	@echo "make run    set up, generate demo extracts if the landing folder is empty, run the nightly job"
	@echo "make test   set up and run the whole test suite"
	@echo "make dev    open the Dagster UI on the project"
	@echo "make bench  benchmark at BENCH_CUSTOMERS customers (default $(BENCH_CUSTOMERS))"
	@echo "make backfill START=YYYY-MM-DD END=YYYY-MM-DD   run the job for every as-of date in the range"
	@echo "make docs   the dbt documentation site, into the serving folder (serving/docs/index.html)"
	@echo "make lint   ruff and sqlfluff"
	@echo "make spark  add Apache Spark (pyspark, dbt-spark; Java where it may) for TIERING_ENGINE=spark"

# The virtual environment, rebuilt when the pins change. uv installs in seconds;
# --compile-bytecode because a machine may set PYTHONDONTWRITEBYTECODE.
$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode --no-deps -e .
	touch $@

setup: $(BIN)/.installed

# Apache Spark as the engine (TIERING_ENGINE=spark) and its tests: pyspark and dbt-spark from
# requirements-spark.lock (about 500 MB, so not in the default install), and a Java runtime:
# Debian's openjdk-17-jre-headless when it is missing and we may (root); otherwise say so, and
# the Spark tests are skipped with that reason. pyspark comes only as source, and uv builds it
# again at each install whenever the index's answer has gone stale, keeping every build (about
# 1 GB each) in its cache: --no-cache builds it in a cache that goes when the install is done.
$(BIN)/.installed-spark: $(BIN)/.installed requirements-spark.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode --no-cache -r requirements.lock -r requirements-spark.lock
	touch $@

java:
	@command -v java >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& (apt-get install -y -qq openjdk-17-jre-headless >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null)) \
		|| echo "Java is not installed and cannot be installed here (install Java 17 or later): Spark will not run and its tests will be skipped"; }

spark: $(BIN)/.installed-spark java

# Dagster reads the dbt manifest to build its asset graph: parse before every use so an
# edited model or seed is always seen. It parses with the --vars a run of this configuration
# passes, so that run can reuse dbt's parse instead of parsing the project again.
manifest: setup
	@cd dbt_project && [ -e dbt_packages/dbt_utils ] || ../$(BIN)/dbt deps --quiet --profiles-dir .
	$(BIN)/python -m orchestration.dbt_invocation

# The Dagster instance's configuration (one run at a time, no telemetry).
instance: setup
	@$(BIN)/python -m orchestration.instance

run: manifest instance
	@$(BIN)/tiering generate --if-empty
	@$(BIN)/python -m orchestration.run

# The dbt documentation site (models, columns, tests, lineage) as one self-contained HTML file
# beside the published tables. The catalog (column types) comes from the warehouse when a run
# has built one.
docs: manifest
	@mkdir -p $(TIERING_DATA_DIR)/serving/docs
	cd dbt_project && ../$(BIN)/dbt docs generate --static --quiet --profiles-dir . \
		--vars '{"warehouse_path": "$(abspath $(TIERING_DATA_DIR))/warehouse.duckdb"}' \
		$$([ -f "$(abspath $(TIERING_DATA_DIR))/warehouse.duckdb" ] || echo --empty-catalog)
	cp dbt_project/target/static_index.html $(TIERING_DATA_DIR)/serving/docs/index.html
	@echo "dbt docs: $(TIERING_DATA_DIR)/serving/docs/index.html"

# The auditor report is rendered in headless Chromium by a test. Install Debian's chromium when it
# is missing and we may (root); otherwise that one test is skipped and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)) \
		|| echo "chromium is not installed and cannot be installed here: the report render test will be skipped"; }

test: manifest browser spark
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

dev: manifest instance
	$(BIN)/dagster dev -m orchestration.definitions

bench: manifest
	$(BIN)/tiering bench --customers $(BENCH_CUSTOMERS)

backfill: manifest instance
	@test -n "$(START)" -a -n "$(END)" || { echo "usage: make backfill START=2026-10-01 END=2026-10-31"; exit 2; }
	$(BIN)/python -m orchestration.backfill --start $(START) --end $(END)

lint: setup
	$(BIN)/ruff check tiering orchestration tests
	$(BIN)/ruff format --check tiering orchestration tests
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/tests

lock: setup
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements.lock
	sed -i '1i # Every package, pinned. Regenerate with `make lock` after changing pyproject.toml.' requirements.lock

# The Spark additions, pinned against the main lock (nothing of it may move).
lock-spark: setup
	$(BIN)/uv pip compile requirements-spark.in -c requirements.lock --python-version 3.11 --no-header -o requirements-spark.lock
	sed -i '1i # pyspark and dbt-spark for TIERING_ENGINE=spark, pinned against requirements.lock. Regenerate with `make lock-spark`.' requirements-spark.lock

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs .pytest_cache
