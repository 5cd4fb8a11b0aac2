# The README's commands. `make run` starts the demo store; `make test` runs
# the whole suite, on two processes. Both set up .venv first. Without
# DATABASE_URL both use the embedded PostgreSQL (core/embedded_db.py, data
# in .data/postgres); without REDIS_URL the store caches in process memory
# and the tests start a Valkey server of their own (core/testing_servers.py).

VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format check clean wrk bench bench-memory bench-checkout fuzz soak audit

install: $(VENV)/.installed

# A Python of 3.12 or newer (Django 6.1 needs it): the one pyenv selects from
# .python-version, else python3.13, python3.12 or python3 on PATH.
FIND_PYTHON = for python in "$$(pyenv which python 2>/dev/null)" \
	  "$$(command -v python3.13)" "$$(command -v python3.12)" "$$(command -v python3)"; do \
	  [ -n "$$python" ] && "$$python" -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	    2>/dev/null && { echo "$$python"; exit 0; }; \
	done; \
	echo "ShopSwift needs Python 3.12 or newer (Django 6.1), and none was found:" \
	  "tried pyenv's version, python3.13, python3.12 and python3." \
	  "Install one (for example 'pyenv install 3.13') and run the command again." >&2; \
	exit 1

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	@test -x $(PY) || { python=$$($(FIND_PYTHON)) && "$$python" -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	@touch $@

# Starts the database when it is the embedded one, migrates, loads the demo
# store (seed_demo adds only what is missing), prints where to log in and
# serves; Ctrl-C stops the server, then the database (manage.py run_store).
run: install
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} STORE_URL=$${STORE_URL:-http://$(HOST):$(PORT)} \
		$(PY) manage.py run_store $(HOST):$(PORT)

# Two pytest-xdist workers (docs/testing.md); PYTEST_WORKERS=0 runs the
# suite in this one process.
PYTEST_WORKERS ?= 2
test: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

check: install
	DJANGO_DEBUG=true $(PY) manage.py makemigrations --check --dry-run
	DJANGO_DEBUG=true $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

# The speed benchmark (bench/run.py): gunicorn in production mode on
# PostgreSQL and Redis, every scenario measured with wrk beside the floor;
# results in bench/results/. BENCH_DATABASE_URL, BENCH_REDIS_URL,
# BENCH_BROKER_URL and BENCH_PORT say where; see bench/README.md.
wrk:
	@command -v wrk >/dev/null || { apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

bench: install wrk
	$(PY) bench/run.py $(BENCH_ARGS)

# Worker memory over 100,000 requests of a read scenario.
bench-memory: install wrk
	$(PY) bench/run.py --memory $(BENCH_ARGS)

# Concurrent checkouts against gunicorn on PostgreSQL and Redis; see
# bench/checkout.py (BENCH_DATABASE_URL names a database of its own).
bench-checkout: install
	$(PY) bench/checkout.py $(BENCH_ARGS)

# The API fuzzed from its own schema (SCHEMA_FUZZ_EXAMPLES cases per
# operation and role; 12 in make test).
fuzz: install
	SCHEMA_FUZZ_EXAMPLES=$${SCHEMA_FUZZ_EXAMPLES:-100} $(PY) -m pytest tests/security/test_schema_fuzz.py $(PYTEST_ARGS)

# The long soak: bench/soak.py --help (SOAK_ARGS="--duration 600" by default).
soak: install
	$(PY) bench/soak.py $${SOAK_ARGS:---duration 600}

# bandit over our code and the known vulnerabilities of the requirements.
audit: install
	$(PY) -m bandit -q -c pyproject.toml -r . --severity-level medium
	$(PY) .ci/audit-dependencies

clean:
	rm -rf $(VENV) .pytest_cache
