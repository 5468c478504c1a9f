# Two commands do all the set-up: `make run` and `make test` (see README.md).
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= small

.PHONY: install run test dev lint bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/warehouse run

test: install
	$(BIN)/pytest -q

dev: install
	$(BIN)/warehouse dev

lint: install
	$(BIN)/ruff check pipelines tests bench

bench: install
	$(BIN)/python bench/run.py --scale $(SCALE)

clean:
	rm -rf warehouse dbt_project/target dbt_project/logs
