# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
DEMO_PLANS ?= 300
POSTGRES_URL ?= $(RESPONDER_TEST_POSTGRES_URL)

PYTEST_WORKERS ?= 2

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# make run is a developer's instance: relaxed start-up checks, a generated card key.
run: export RESPONDER_ENVIRONMENT ?= development
run: $(STAMP)
	$(BIN)/responder db upgrade
	$(BIN)/responder demo --plans $(DEMO_PLANS)
	$(BIN)/responder users demo
	@echo "Open http://127.0.0.1:$(PORT) and sign in with a login above (Ctrl-C stops)."
	$(BIN)/responder serve --host 127.0.0.1 --port $(PORT)

# The whole suite on SQLite, then again on PostgreSQL when a URL is given.
test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS)
	@if [ -n "$(POSTGRES_URL)" ]; then \
		echo "== again on PostgreSQL"; \
		RESPONDER_TEST_BACKEND=postgresql RESPONDER_TEST_POSTGRES_URL="$(POSTGRES_URL)" \
		$(BIN)/python -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS); \
	fi

lint: $(STAMP)
	$(BIN)/ruff check responder plans bots tests bench
	$(BIN)/ruff format --check responder plans bots tests bench

# Search quality and speed, the page budget and Lighthouse (see BENCHMARKS.md).
bench: $(STAMP)
	$(BIN)/python bench/search_quality.py
	$(BIN)/python bench/search_speed.py
	$(BIN)/python bench/page_budget.py
	$(BIN)/python bench/lighthouse.py --runs 3

clean:
	rm -rf $(VENV) instance .pytest_cache
