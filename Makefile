# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
DEMO_PLANS ?= 300
POSTGRES_URL ?= $(RESPONDER_TEST_POSTGRES_URL)
LOCK := requirements/dev.lock

PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS)

.PHONY: run test test-clock-ahead lint lock bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Exact pins with hashes from the lock file, then the project itself without deps.
$(STAMP): $(BIN)/python pyproject.toml $(LOCK)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# make run is a developer's instance: it writes instance/config.py once, so the
# `responder` command in any new shell in this folder is a development one too.
run: $(STAMP)
	@mkdir -p instance
	@[ -f instance/config.py ] || printf '%s\n' \
		'# Written by `make run`: a developer'"'"'s instance (relaxed start-up checks).' \
		'ENVIRONMENT = "development"' > instance/config.py
	$(BIN)/responder db upgrade
	$(BIN)/responder demo --plans $(DEMO_PLANS)
	$(BIN)/responder users demo
	@echo "Open http://localhost:$(PORT) and sign in with a login above (Ctrl-C stops)."
	$(BIN)/responder serve --host 127.0.0.1 --port $(PORT)

# The whole suite on SQLite, then again on PostgreSQL when a URL is given.
test: $(STAMP)
	$(PYTEST)
	@if [ -n "$(POSTGRES_URL)" ]; then \
		echo "== again on PostgreSQL"; \
		RESPONDER_TEST_BACKEND=postgresql RESPONDER_TEST_POSTGRES_URL="$(POSTGRES_URL)" \
		$(PYTEST); \
	fi

# The suite (browser tests aside) with the process clock 400 days ahead: no test
# may depend on today's date. Uses the libfaketime that the test extra builds (Debian's
# 0.9.10 hangs timed waits when it fakes the monotonic clock, and fails sleeps when not).
test-clock-ahead: $(STAMP)
	@FAKETIME_LIB="$$($(BIN)/python -c 'import libfaketime, pathlib; print(pathlib.Path(libfaketime.__file__).parent / "vendor/libfaketime/src/libfaketime.so.1")')"; \
	export LD_PRELOAD="$$FAKETIME_LIB" FAKETIME="+400d" FAKETIME_DONT_FAKE_MONOTONIC=1; \
	$(BIN)/python -c 'import datetime; print("clock-ahead run: the process clock reads", datetime.datetime.now().isoformat(timespec="minutes"))'; \
	$(PYTEST) -m "not e2e"

lint: $(STAMP)
	$(BIN)/ruff check responder plans bots tests bench
	$(BIN)/ruff format --check responder plans bots tests bench
	$(BIN)/mypy

# Re-resolve the pins (after a change to the ranges in pyproject.toml).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes \
		--python-version 3.11 --no-header --quiet -o $(LOCK)
	$(BIN)/uv pip compile pyproject.toml --extra postgres --extra redis \
		--generate-hashes --python-version 3.11 --no-header --quiet \
		-o requirements/app.lock

# Search quality and speed, the page budget and Lighthouse (see BENCHMARKS.md).
bench: $(STAMP)
	$(BIN)/python bench/search_quality.py
	$(BIN)/python bench/search_speed.py
	$(BIN)/python bench/page_budget.py
	$(BIN)/python bench/lighthouse.py --runs 3

clean:
	rm -rf $(VENV) instance .pytest_cache
