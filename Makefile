# Pitboss — developer entry points. `make demo` runs the product; `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/pitboss
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo run test test-sqlite lint format bench bench-smoke

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

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
