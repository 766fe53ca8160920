# tipfusion — two commands: `make run` and `make test`.
# Needs Python 3.11+ with venv, make, and WeasyPrint's system libraries (see README "Requirements"); everything else
# comes from PyPI. The PDF fonts (Noto Sans, Noto Sans Devanagari, OFL) are committed in src/tipfusion/assets/fonts.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-demo
DEV_STAMP := $(VENV)/.installed-dev
DEMO   ?= demo

.PHONY: run test lint typecheck unit bench clean install check-reliability

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

## make check-reliability: the full reliability suite (issue 14), printing its figures at the end — hostile input
## (10,000 fuzz cases on SQLite, 1,000 on PostgreSQL) and kill -9 runs (30 on SQLite, 20 on PostgreSQL). CPU heavy.
FUZZ_SQLITE   ?= 10000
FUZZ_POSTGRES ?= 1000
check-reliability: $(DEV_STAMP)
	@status=0; \
	TIPFUSION_RELIABILITY_STRICT=1 TIPFUSION_FUZZ_EXAMPLES=$(FUZZ_SQLITE) $(BIN)/pytest tests/reliability \
		-m '' -k 'fuzz and sqlite' -W ignore::UserWarning || status=1; \
	TIPFUSION_RELIABILITY_STRICT=1 TIPFUSION_FUZZ_EXAMPLES=$(FUZZ_POSTGRES) $(BIN)/pytest tests/reliability \
		-m '' -k 'fuzz and postgresql' -W ignore::UserWarning || status=1; \
	TIPFUSION_RELIABILITY_STRICT=1 $(BIN)/pytest tests/reliability/test_faults.py -m reliability_full || status=1; \
	exit $$status

## make bench: performance figures (see benchmarks/)
bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
