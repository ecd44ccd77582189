# Everyday commands. `make run` sets up and runs the product on a fresh machine;
# `make test` installs what the tests need and runs them all.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests run on the real parts: PostgreSQL and Redis on this machine unless told otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
# The suite runs in two processes (pytest-xdist), each with a database and a Redis database of
# its own (tests/conftest.py): independent tests side by side on a two-core machine.
TEST_WORKERS ?= 2
# `make test-dates` runs the suite with the clock at each: days a test that reads today could
# break on (a 25th, 31 December, 1 January, a Spring Festival day).
TEST_DATES ?= 2026-12-25 2026-12-31 2027-01-01 2027-02-07

.PHONY: install install-test run web worker beat migrate seed provision test test-fuzz test-fast test-dates lint format check audit backup restore bench bench-smoke clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

# Web + worker + beat on the embedded defaults (SQLite, filesystem broker): no servers needed.
# Ctrl-C stops them all within a few seconds (scripts/run-local).
run: seed
	@echo ""
	@echo "  客户关系管理系统: http://$(HOST):$(PORT)/"
	@echo "  logins (demo only): admin, marketing, leader, auditor, east_manager, east_staff,"
	@echo "  south_manager, south_staff, design_manager, design_staff, install_manager, install_staff"
	@echo "  password: $${DEMO_PASSWORD:-demo-pass-2026}"
	@echo ""
	@exec $(BIN)/python scripts/run-local --host $(HOST) --port $(PORT)

# PostgreSQL, Redis, chromium and its fonts, wrk: as root, started or installed when missing;
# otherwise a message says what to do (scripts/provision-test).
provision:
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		scripts/provision-test

test: provision install-test
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory audit
	$(BIN)/python manage.py makemigrations --check --dry-run
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(BIN)/pytest -p no:cacheprovider -n $(TEST_WORKERS)
	$(MAKE) --no-print-directory test-fuzz

# Schemathesis over every API operation against the demo (tests/api_fuzz): a session of its
# own, because it seeds the demo into its test database once.
test-fuzz: provision install-test
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(BIN)/pytest -p no:cacheprovider -n $(TEST_WORKERS) tests/api_fuzz

test-fast: provision install-test
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(BIN)/pytest -p no:cacheprovider -m "not e2e" -x -q

# The suite without the browser once per date in TEST_DATES (CRM_TEST_CLOCK moves the clock);
# every date runs, and the target fails if any of them failed.
test-dates: provision install-test
	@failed=""; for d in $(TEST_DATES); do \
		echo "== CRM_TEST_CLOCK=$$d"; \
		CRM_TEST_CLOCK=$$d DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
		REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
			$(BIN)/pytest -p no:cacheprovider -q -n 2 -m "not e2e" || failed="$$failed $$d"; \
	done; \
	if [ -n "$$failed" ]; then echo "failed at:$$failed"; exit 1; fi

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

# bandit (no high-severity finding) and pip-audit (no known vulnerability; an unreachable advisory
# database is reported and tolerated, a finding is not): scripts/audit.
audit: install-test
	BIN=$(BIN) scripts/audit

# PostgreSQL: pg_dump custom format of DATABASE_URL into backups/crm-YYYYmmdd-HHMM.dump; the embedded
# SQLite: an online copy (backups/crm-YYYYmmdd-HHMM.sqlite3). `make restore FILE=backups/...` puts
# one back (pg_restore --clean --if-exists --no-owner), asking nothing (crm/dbtools.py).
backup: install
	$(BIN)/python manage.py backup

restore: install
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/crm-YYYYmmdd-HHMM.dump" >&2; exit 2; }
	$(BIN)/python manage.py restore "$(FILE)"

bench: install-test
	$(BIN)/python bench/run.py

bench-smoke: install-test
	$(BIN)/python bench/run.py --smoke

clean:
	rm -rf $(VENV) db.sqlite3* var staticfiles
