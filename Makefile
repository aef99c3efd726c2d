# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
DEMO_PLANS ?= 300
POSTGRES_URL ?= $(RESPONDER_TEST_POSTGRES_URL)

export RESPONDER_ENVIRONMENT ?= development

.PHONY: run test test-sqlite test-postgres lint bench clean revision

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/responder db upgrade
	$(BIN)/responder demo --plans $(DEMO_PLANS)
	$(BIN)/responder users demo
	$(BIN)/responder serve --host 127.0.0.1 --port $(PORT)

# The whole suite on SQLite, then again on PostgreSQL when a URL is given.
test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider
	@if [ -n "$(POSTGRES_URL)" ]; then \
		echo "== again on PostgreSQL"; \
		RESPONDER_TEST_BACKEND=postgresql RESPONDER_TEST_POSTGRES_URL="$(POSTGRES_URL)" \
		$(BIN)/python -m pytest -q -p no:cacheprovider; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check responder plans bots tests bench
	$(BIN)/ruff format --check responder plans bots tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache
