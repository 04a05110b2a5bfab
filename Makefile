# Feedline: the two set-up commands are `make run` (local stack on the embedded SQLite default)
# and `make test` (the whole suite). Both create the venv and install the package (which compiles
# the Cython twins) on a fresh machine.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

# Local credentials for the embedded stack (override in the environment for anything shared).
export FEEDLINE_API_KEY    ?= local-key
export FEEDLINE_API_SECRET ?= local-secret-change-me-for-anything-shared
export FEEDLINE_SQLITE_PATH ?= .feedline/feedline.db

.PHONY: venv install run test test-fast test-pure bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel

$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py $(shell find core -name '*.pyx' -o -name '*.pxd')
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/python
install: $(VENV)/.installed

run: install
	$(BIN)/feedline dev --port $(PORT)

# Everything: compiled twins required (a silent fallback fails), then the pure-Python leg.
test: install
	FEEDLINE_REQUIRE_EXTENSIONS=1 $(BIN)/python -m pytest -q
	FEEDLINE_NO_EXTENSIONS=1 $(BIN)/python -m pytest -q -m "not cassandra" tests/unit tests/e2e

test-fast: install
	FEEDLINE_REQUIRE_EXTENSIONS=1 $(BIN)/python -m pytest -q -x -m "not cassandra and not slow"

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf build dist *.egg-info core/*.egg-info .pytest_cache .hypothesis
	find core -name '*.so' -delete -o -name '_*_c.c' -delete
