# Two commands do all the set-up: `make run` and `make test` (see README.md).
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= small
# Two workers: the machine has two cores; a module's tests stay on one worker (they share a
# warehouse fixture).
TEST_WORKERS ?= 2

.PHONY: install run test test-fast test-slow dev lint format bench clean

# DuckDB 1.x beside the venv (not in it): the tests open the BI catalog with it, as Superset
# (duckdb < 2) would.
DUCKDB1_VERSION := 1.5.6

$(STAMP): pyproject.toml constraints.txt Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
		--target $(VENV)/duckdb1 --upgrade duckdb==$(DUCKDB1_VERSION)
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/warehouse run

# `make test` is what CI runs: everything but the tests marked slow (the full-disk fault test
# on a tmpfs, several runs each); `make test-slow` runs those.
test: install
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not slow"

# `make test-fast`: the tests marked `unit` (landing, generator, publisher, suites, bulletin
# figures, configuration, sensor) but those marked `dbt_cli`: no Dagster job or asset run, no
# dbt build, no `warehouse` process; the loop to run while editing. Under a minute on an idle
# two-core machine. (The suites' tests compile the check models once per dbt project content:
# a ~10 s `dbt compile`, cached in the temp dir.)
test-fast: install
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile -m "unit and not slow and not dbt_cli"

test-slow: install
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile -m slow

dev: install
	$(BIN)/warehouse dev

# `make lint` (CI runs it before the tests): ruff's checks and format check of the Python,
# sqlfluff on the dbt project's SQL (dbt_project/.sqlfluff: duckdb dialect, jinja templater;
# dbt_project/.sqlfluffignore). `make format` rewrites both in place; review the SQL diff.
PY_DIRS := pipelines tests bench
lint: install
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	$(BIN)/sqlfluff lint dbt_project --processes $(TEST_WORKERS)

format: install
	$(BIN)/ruff format $(PY_DIRS)
	$(BIN)/sqlfluff fix dbt_project --processes $(TEST_WORKERS)

# SCALE=sweep: one night on 1x, 3x and 10x a city year of history (bench/sweep.py)
bench: install
ifeq ($(SCALE),sweep)
	$(BIN)/python bench/sweep.py
else
	$(BIN)/python bench/run.py --scale $(SCALE)
endif

clean:
	rm -rf warehouse dbt_project/target dbt_project/logs test-artifacts
