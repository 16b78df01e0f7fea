# Pitboss — developer entry points. `make demo` runs the product; `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
SHELL := /bin/bash
PYTHON ?= python3
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/pitboss
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo run test test-sqlite lint format bench bench-smoke lock lock-check

# Installs are reproducible: exact versions with their PyPI hashes from the lock files
# (requirements/*.lock, ADR 0019), then the project itself without resolving anything.
$(VENV)/.installed: pyproject.toml requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements/dev.lock
	$(VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

# The lock files, resolved from PyPI alone (not this machine's pip configuration: its local
# wheel indexes are not what production installs from). Run after changing pyproject.toml's
# dependencies, and weekly (docs/operations.md "Dependencies") to take upgrades.
UV ?= $(VENV)/bin/uv
LOCK_ARGS = --generate-hashes --universal --python-version 3.11 --no-config \
	--index-url https://pypi.org/simple --quiet
lock:
	$(UV) pip compile pyproject.toml $(LOCK_ARGS) $(UPGRADE) -o requirements/runtime.lock
	$(UV) pip compile pyproject.toml --extra dev $(LOCK_ARGS) $(UPGRADE) -o requirements/dev.lock

# Fails when the lock files are not what `make lock` would write today (the weekly job).
lock-check:
	$(UV) pip compile pyproject.toml $(LOCK_ARGS) -o /tmp/pitboss-runtime.lock
	$(UV) pip compile pyproject.toml --extra dev $(LOCK_ARGS) -o /tmp/pitboss-dev.lock
	diff -u <(grep -v '^#' requirements/runtime.lock) <(grep -v '^#' /tmp/pitboss-runtime.lock)
	diff -u <(grep -v '^#' requirements/dev.lock) <(grep -v '^#' /tmp/pitboss-dev.lock)

# Development: the development flag (config/entrypoints.py); production is every entry point's
# default otherwise.
export PITBOSS_DEV ?= 1

# Embedded default: SQLite + eager Celery, demo data, admin login printed, dev server.
demo: install
	env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL $(PY) manage.py migrate --verbosity 0
	env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL $(PY) manage.py pitboss_demo $(DEMO_ARGS)
	@echo "Pitboss admin: http://$(HOST):$(PORT)/admin/   API docs: http://$(HOST):$(PORT)/api/v1/docs/"
	env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

run: install
	$(PY) manage.py migrate --verbosity 0
	$(PY) manage.py runserver $(HOST):$(PORT)

# The test suite against PostgreSQL and Redis (override TEST_DATABASE_URL / TEST_REDIS_URL).
test: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(VENV)/bin/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# The same suite on the embedded SQLite default (PostgreSQL-only tests skip).
test-sqlite: install
	env -u DATABASE_URL $(VENV)/bin/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) -m bench $(BENCH_ARGS)

bench-smoke: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) -m bench --scale 0.01
