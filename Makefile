# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
WORKSPACE ?= workspace/sample.gpkg
PORT ?= 8501

.PHONY: run test lint install install-test sample bench load fuzz clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(WORKSPACE): $(VENV)/.installed
	$(BIN)/closuremap init $(WORKSPACE) --sample

sample: $(WORKSPACE)

run: $(VENV)/.installed $(WORKSPACE)
	CLOSUREMAP_WORKSPACE=$${CLOSUREMAP_WORKSPACE:-$(WORKSPACE)} \
	  $(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true

# The checks before the suite: lint, formatting, strict types on geo/, the layering contract.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Both cores: each test file runs on one worker, so a file's server or browser is started once.
test: lint
	$(BIN)/python -m pytest -n auto --dist loadfile

# One table and one JSON file of every operation against its raw baseline; the browser rows need
# Playwright (a test extra) and Debian's Chromium, as the suite does.
bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py
	$(BIN)/python bench/bench_import.py

load: $(VENV)/.installed-test
	$(BIN)/python bench/load_test.py

fuzz: $(VENV)/.installed-test
	$(BIN)/python bench/fuzz.py

clean:
	rm -rf $(VENV) workspace .pytest_cache
