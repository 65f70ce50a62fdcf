# The two commands of the README: `make run` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml sandboxes/pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck unit worker migrate benchmark clean

$(STAMP): pyproject.toml sandboxes/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./sandboxes
	@rm -f $(VENV)/.installed-*
	@touch $@

run: $(STAMP)
	$(BIN)/sandboxes serve

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check addon sandboxes tests benchmarks
	$(BIN)/ruff format --check addon sandboxes tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy addon sandboxes/src/sandboxes

# pytest-xdist: one worker per CPU (PYTEST_WORKERS=0 runs in this process); the browser tests
# stay together on one worker (--dist loadgroup, see tests/conftest.py). Bytecode is cached even where
# PYTHONDONTWRITEBYTECODE is set: each worker would otherwise compile, and assertion-rewrite,
# every test module and pytest plugin again on every run.
PYTEST_WORKERS ?= auto
unit: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

worker: $(STAMP)
	$(BIN)/sandboxes run $(BIN)/addon worker

migrate: $(STAMP)
	$(BIN)/addon migrate

# Each exits non-zero when it misses a target: all run, and the target fails if any missed one.
# Ingest (its second half) and burst need a PostgreSQL server they may create databases on
# (BENCH_DATABASE_URL's NAME_ingest, NAME_w1, NAME_w2, made afresh).
BENCH_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/bench
benchmark: $(STAMP)
	@missed=0; \
	for bench in live_sync latency initial_sync "ingest --database-url $(BENCH_DATABASE_URL)" \
	    "burst --database-url $(BENCH_DATABASE_URL)" engagement; do \
	  $(BIN)/python -m benchmarks.$$bench || missed=1; \
	done; exit $$missed

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
