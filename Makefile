# accountwatch: `make demo` or `make test` on a fresh machine installs everything it needs.
# Versions are pinned only in constraints.txt; the Delta jars follow its pyspark/delta-spark pins.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMPS := .stamps
JARS   := .jars
MAVEN  := https://repo1.maven.org/maven2/io/delta

DELTA_VERSION := $(shell sed -n 's/^delta-spark==\([^ ]*\).*/\1/p' constraints.txt)
SPARK_MINOR   := $(shell sed -n 's/^pyspark==\([0-9]*\.[0-9]*\).*/\1/p' constraints.txt)
DELTA_JARS    := delta-spark_$(SPARK_MINOR)_2.13/$(DELTA_VERSION)/delta-spark_$(SPARK_MINOR)_2.13-$(DELTA_VERSION).jar \
                 delta-storage/$(DELTA_VERSION)/delta-storage-$(DELTA_VERSION).jar

# No outbound telemetry; its heartbeat also races the ephemeral server's SQLite ("database is locked").
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: setup jars browser demo test test-fast bench bench-floor growth faults cluster-test lint clean

setup: $(STAMPS)/installed $(STAMPS)/prefect-db jars

$(VENV)/pyvenv.cfg:
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when pyproject.toml or constraints.txt changed (or the venv was made anew).
$(STAMPS)/installed: pyproject.toml constraints.txt $(VENV)/pyvenv.cfg
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@mkdir -p $(STAMPS) && touch $@

# Creates (or migrates) Prefect's database now, so a run's temporary Prefect server does not do it within its
# start-up wait; again whenever the install changed (a new Prefect may bring migrations).
$(STAMPS)/prefect-db: $(STAMPS)/installed
	$(BIN)/prefect server database upgrade -y
	@touch $@

# Fetched once from Maven Central, checked against the .sha1 published beside each jar;
# Delta jars of other versions are removed (Spark loads every jar in .jars/).
jars:
	@mkdir -p $(JARS)
	@for path in $(DELTA_JARS); do \
	  jar=$(JARS)/$$(basename $$path); \
	  [ -f $$jar ] && continue; \
	  echo "fetching $(MAVEN)/$$path"; \
	  curl --fail --silent --show-error --location --retry 3 -o $$jar.part $(MAVEN)/$$path \
	  && sha1=$$(curl --fail --silent --show-error --location --retry 3 $(MAVEN)/$$path.sha1 | cut -c1-40) \
	  && echo "$$sha1  $$jar.part" | sha1sum --check --quiet - \
	  && mv $$jar.part $$jar \
	  || { rm -f $$jar.part; echo "could not fetch or verify $$path" >&2; exit 1; }; \
	done
	@ls $(JARS)/delta-*.jar | grep -vxF $(foreach p,$(DELTA_JARS),-e $(JARS)/$(notdir $(p))) | xargs -r rm -v

# The report test renders the daily review in Debian's headless Chromium, the console test drives it through
# chromium-driver with Selenium; both installed once, from Debian's packages.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@{ command -v chromium && command -v chromedriver; } >/dev/null || { \
	  echo "installing Debian's chromium and chromium-driver (the report and console tests drive them)"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver; }

demo: setup
	$(BIN)/accountwatch demo

# Two workers, one per core; tests/conftest.py keeps each file in one worker, hands out the slowest files first and
# builds the shared platform once for every worker. Four workers (each a session JVM of up to 6g) filled this
# machine's 24 GB and stalled it on 2026-12-04.
PYTEST_WORKERS ?= 2
test: setup browser
	$(BIN)/python -m pytest -q --durations=40 -n $(PYTEST_WORKERS) tests

# The inner loop: unit tests on literal frames, no flows, no landing folders.
test-fast: setup
	$(BIN)/python -m pytest -q --durations=10 -n $(PYTEST_WORKERS) -m "not integration" tests

bench: setup
	$(BIN)/python -m accountwatch.benchmarks.nightly
	$(BIN)/python -m accountwatch.benchmarks.floor

# The floor alone: a nightly run's skeleton with one row where the real run has a day's rows (about 7 minutes).
bench-floor: setup
	$(BIN)/python -m accountwatch.benchmarks.floor

# Backfill time and peak memory at 1, 3 and 10 times the bench platform, beside the DuckDB peer (hours at 10x).
growth: setup
	$(BIN)/python -m accountwatch.benchmarks.growth

# Kills a nightly run at Delta commits of each stage, reruns the day, compares every table (not part of test).
faults: setup
	$(BIN)/python -m accountwatch.benchmarks.faults

# A master and two workers on 127.0.0.1 run a backfill and two nightly runs; every table must equal local mode's.
cluster-test: setup
	$(BIN)/python -m accountwatch.benchmarks.cluster

# Run by .ci/run before the tests; the same checks as .pre-commit-config.yaml.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Keeps .jars/ so no later run needs the network; `rm -rf .jars` to fetch them again.
clean:
	rm -rf $(VENV) $(STAMPS) .pytest_cache .ruff_cache .mypy_cache spark-warehouse metastore_db derby.log *.egg-info
