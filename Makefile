# tipfusion — two commands: `make run` and `make test`.
# Needs Python 3.11+ with venv, make, and WeasyPrint's system libraries (see README "Requirements"); everything else
# comes from PyPI. The PDF fonts (Noto Sans, Noto Sans Devanagari, OFL) are committed in src/tipfusion/assets/fonts.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-demo
DEV_STAMP := $(VENV)/.installed-dev
DEMO   ?= demo

.PHONY: run test lint typecheck unit bench clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the runtime plus the `demo` extra (Faker, mmdb-writer: synthetic data and demo reference files)
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $@

# ... plus the `dev` extra (pytest, hypothesis, ruff, mypy, …)
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[demo,dev]'
	touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)

## make run: synthetic demo batch through every pipeline stage that exists, on the embedded SQLite default
run: $(RUN_STAMP)
	$(BIN)/tipfusion demo --out $(DEMO)

## make test: lint, type-check and the whole suite (database tests on SQLite and PostgreSQL)
test: lint typecheck unit

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

unit: $(DEV_STAMP)
	$(BIN)/pytest

## make bench: performance figures (see benchmarks/)
bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
