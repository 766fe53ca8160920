# tipfusion — two commands: `make run` and `make test`.
# Needs Python 3.11+ with venv, make, and WeasyPrint's system libraries (see README "Requirements"); everything else
# comes from PyPI. The PDF fonts (Noto Sans, Noto Sans Devanagari, OFL) are committed in src/tipfusion/assets/fonts.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-demo
DEV_STAMP := $(VENV)/.installed-dev
DEMO   ?= demo
PORT   ?= 8000
CHROMIUM := /usr/bin/chromium
SUDO   := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test lint typecheck unit bench clean install browser spark ocr check-reliability

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

## make run: synthetic demo batch through every pipeline stage that exists (its own SQLite store in $(DEMO)/), then
## the web application on http://127.0.0.1:$(PORT)/ with one SYNTHETIC login per role (printed); Ctrl-C stops it
run: $(RUN_STAMP)
	env -u TIPFUSION_DATABASE_URL $(BIN)/tipfusion demo --out $(DEMO)
	env -u TIPFUSION_DATABASE_URL $(BIN)/tipfusion --database sqlite:///$(DEMO)/tipfusion.db serve --demo-accounts \
		--host 127.0.0.1 --port $(PORT)

## make test: lint, type-check and the whole suite (database tests on SQLite and PostgreSQL)
test: browser spark ocr lint typecheck unit

## make browser: Debian's Chromium for the browser tests (Playwright drives it; no downloaded browser builds)
browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium; }

## make spark: Java 17 and PostgreSQL's JDBC driver (Debian's) for the Spark linking engine and its tests
JDBC_JAR := /usr/share/java/postgresql.jar
spark:
	@command -v java >/dev/null && test -f $(JDBC_JAR) || { $(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y openjdk-17-jre-headless libpostgresql-jdbc-java; }

## make ocr: Debian's Tesseract with its Hindi data, with which the suite reads rendered PDF pages back (no test installs
## anything: a test without it fails and names this target)
TESSERACT := /usr/bin/tesseract
ocr:
	@{ test -x $(TESSERACT) && $(TESSERACT) --list-langs 2>/dev/null | grep -qx hin; } || { $(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y tesseract-ocr tesseract-ocr-hin; }

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

# the suite spreads over one pytest-xdist worker per core, a test file per worker (`--dist loadfile`: a file's
# module-scoped stores are built once), the longest files first (`--no-loadscope-reorder` keeps tests/conftest.py's
# order); every worker builds its own template stores (tests/conftest.py). WORKERS=3 tries one more worker than cores
WORKERS ?= auto
unit: $(DEV_STAMP) browser spark ocr
	$(BIN)/pytest -n $(WORKERS) --dist loadfile --no-loadscope-reorder

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
