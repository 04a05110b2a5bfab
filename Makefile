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

SAMVENV := .venv-sam

.PHONY: venv install run demo browser test test-fast check lint bench bench-smoke sam-check clean

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

# The demo web app (examples/web, README "Demo"): Stream's React UI kit against the local stack.
# npm ci from the lock file (again only when it changes), the esbuild bundle, then examples/web/run.py:
# `feedline dev` on a fresh SQLite file, the seeded world, the page; prints the URL, Ctrl-C stops all.
# Free ports unless given: make demo DEMO_ARGS="--web-port 8080 --api-port 8000 --faye-port 9999"
WEB := examples/web
DEMO_ARGS ?=
$(WEB)/node_modules/.feedline-lock: $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	cp $(WEB)/package-lock.json $@

$(WEB)/dist/bundle.js: $(WEB)/node_modules/.feedline-lock $(WEB)/build.mjs $(WEB)/index.html $(wildcard $(WEB)/src/*)
	cd $(WEB) && node build.mjs

demo: install $(WEB)/dist/bundle.js
	$(BIN)/python $(WEB)/run.py $(DEMO_ARGS)

# Headless Chromium from Debian's packages for the browser test (tests/browser); `make test` runs it
browser:
	bash infra/browser/install.sh

# Everything: compiled twins required (a silent fallback fails), then the pure-Python leg. Chromium
# for the browser test comes first (Debian's package; without root or apt the test says it skipped).
test: install
	@bash infra/browser/install.sh >/dev/null || echo "make test: no Chromium installed: the browser test will skip"
	FEEDLINE_REQUIRE_EXTENSIONS=1 $(BIN)/python -m pytest -q
	FEEDLINE_NO_EXTENSIONS=1 $(BIN)/python -m pytest -q -m "not cassandra" tests/unit tests/e2e

# The gates: ruff (style, imports, pyupgrade, security, complexity), mypy over the core, and the
# layering of ARCHITECTURE.md as import contracts (pyproject.toml's [tool.importlinter]).
lint: install
	$(BIN)/ruff check core functions tests bench infra examples
	$(BIN)/mypy
	cd core && ../$(BIN)/lint-imports --no-cache ../pyproject.toml

# The inner loop, no JDK needed: the gates plus the unit, contract and end-to-end tests on SQLite.
check: lint
	FEEDLINE_REQUIRE_EXTENSIONS=1 FEEDLINE_TEST_BACKENDS=sqlite $(BIN)/python -m pytest -q -x \
		-m "not cassandra and not slow" tests/unit tests/contract tests/functional tests/e2e

test-fast: install
	FEEDLINE_REQUIRE_EXTENSIONS=1 $(BIN)/python -m pytest -q -x -m "not cassandra and not slow"

# Needs the local Cassandra: bash infra/cassandra/local.sh start (BENCHMARKS.md has the figures)
bench: install
	$(BIN)/python bench/run.py --backends sqlite,cassandra

# CI's smoke run of every benchmark (few rounds: it keeps them from rotting, it proves no figure)
BENCH_BACKENDS ?= sqlite
bench-smoke: install
	$(BIN)/python bench/run.py --quick --backends $(BENCH_BACKENDS)

# The deployment path without Docker: template validation, our cfn-lint rules, `sam build` of the
# layer (Cython core cross-compiled for Lambda's glibc with zig), and the glibc/import checks.
$(SAMVENV)/bin/sam:
	$(PYTHON) -m venv $(SAMVENV)
	$(SAMVENV)/bin/pip install -q --upgrade pip
	$(SAMVENV)/bin/pip install -q aws-sam-cli

sam-check: install $(SAMVENV)/bin/sam
	SAM_CLI_TELEMETRY=0 $(SAMVENV)/bin/sam validate --lint
	$(BIN)/cfn-lint --append-rules infra/cfn-lint-rules -- template.yaml
	SAM_CLI_TELEMETRY=0 $(SAMVENV)/bin/sam build --build-in-source
	FEEDLINE_LAYER_DIR=.aws-sam/build/CoreLayer $(BIN)/python -m pytest -q tests/functional/test_template.py

clean:
	rm -rf build dist *.egg-info core/*.egg-info .pytest_cache .hypothesis
	find core -name '*.so' -delete -o -name '_*_c.c' -delete
