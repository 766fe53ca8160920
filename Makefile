# tipfusion — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FONTS  := src/tipfusion/assets/fonts
# OFL fonts for the PDFs (Latin + Devanagari), vendored from npm at build time: documents render the same offline.
FONT_PACKAGES := @expo-google-fonts/noto-sans@0.4.2 @expo-google-fonts/noto-sans-devanagari@0.4.1
DEMO   ?= demo

.PHONY: run test lint typecheck unit bench clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml $(FONTS)/.vendored | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(FONTS)/.vendored: Makefile
	rm -rf $(FONTS) .fonts-tmp && mkdir -p $(FONTS) .fonts-tmp
	cd .fonts-tmp && npm pack --silent $(FONT_PACKAGES) >/dev/null
	for t in .fonts-tmp/*.tgz; do tar -xzf $$t -C .fonts-tmp --wildcards 'package/400Regular/*.ttf' 'package/700Bold/*.ttf' 'package/LICENSE_FONT' && mv .fonts-tmp/package/400Regular/*.ttf .fonts-tmp/package/700Bold/*.ttf $(FONTS)/ && mv .fonts-tmp/package/LICENSE_FONT $(FONTS)/LICENSE-$$(basename $$t .tgz).txt && rm -rf .fonts-tmp/package; done
	rm -rf .fonts-tmp
	touch $@

install: $(STAMP)

## make run: synthetic demo batch through every pipeline stage that exists, on the embedded SQLite default
run: $(STAMP)
	$(BIN)/tipfusion demo --out $(DEMO)

## make test: lint, type-check and the whole suite (database tests on SQLite and PostgreSQL)
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

## make bench: performance figures (see benchmarks/)
bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) $(DEMO) $(FONTS) .pytest_cache .mypy_cache .ruff_cache
