# make demo | make test | make test-fast | make bench: each creates or refreshes .venv from
# pyproject.toml (and simulator/pyproject.toml) first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-pyproject

.PHONY: demo test test-fast lint bench venv clean

# The simulator (simulator/, a distribution of its own: the bot's package does not carry it) is
# installed beside the bot for the demo, the tests and the benchmarks.
$(STAMP): pyproject.toml simulator/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet -e ./simulator
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m bot demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q

# Unit tests and the CLI's in-process tests: no bot against the simulator (e2e), no child
# process (subprocess); the markers are set by tests/conftest.py. `make test` runs everything.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not e2e and not subprocess" tests/unit tests/cli

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
