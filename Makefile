# Two commands do everything: `make run` and `make test` (README, "Quick start").
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# seed_demo's banner and the default PUBLIC_URL follow PORT too.
export PORT ?= 8000
export OPSPORTAL_DATA_DIR ?= $(CURDIR)/data
# Tests never touch the data of `make run`.
TEST_DATA_DIR := $(CURDIR)/data/test
PYTEST_WORKERS ?= 2

.PHONY: run test bench install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py seed_demo
	rm -rf "$(OPSPORTAL_DATA_DIR)/prometheus" && mkdir -p "$(OPSPORTAL_DATA_DIR)/prometheus"
	PATH="$(CURDIR)/$(BIN):$$PATH" PROMETHEUS_MULTIPROC_DIR="$(OPSPORTAL_DATA_DIR)/prometheus" bin/serve all

# Lint, import contracts and types first (seconds), then the suite in parallel; the last line says
# how it went and how long it took.
test: install-test
	@start=$$(date +%s.%N); \
	rm -rf "$(TEST_DATA_DIR)" && mkdir -p "$(TEST_DATA_DIR)"; \
	$(BIN)/ruff check . && $(BIN)/lint-imports && $(BIN)/mypy || exit $$?; \
	checked=$$(date +%s.%N); \
	OPSPORTAL_DATA_DIR="$(TEST_DATA_DIR)" $(BIN)/pytest -n $(PYTEST_WORKERS) $$([ -t 1 ] && echo --color=yes) \
		$(PYTEST_ARGS) | tee "$(TEST_DATA_DIR)/pytest.log"; \
	status=$${PIPESTATUS[0]}; \
	counts=$$(tail -n 1 "$(TEST_DATA_DIR)/pytest.log" 2>/dev/null \
		| sed -E 's/\x1b\[[0-9;]*m//g; s/^=+ //; s/ in [0-9.]+s.*//'); \
	now=$$(date +%s.%N); \
	echo "suite: $${counts:-no tests run}; checks $$(awk "BEGIN {printf \"%.1f\", $$checked - $$start}") s," \
		"tests $$(awk "BEGIN {printf \"%.1f\", $$now - $$checked}") s, make test $$(awk "BEGIN {printf \"%.1f\", $$now - $$start}") s"; \
	exit $$status

bench: install-test
	OPSPORTAL_DATA_DIR="$(CURDIR)/data/bench" $(BIN)/python -m bench.alertmanager_ingest
	OPSPORTAL_DATA_DIR="$(CURDIR)/data/bench" $(BIN)/python -m bench.page_render
	OPSPORTAL_DATA_DIR="$(CURDIR)/data/bench" $(BIN)/python -m bench.page_load
	OPSPORTAL_DATA_DIR="$(CURDIR)/data/bench" $(BIN)/python -m bench.runbooks
	OPSPORTAL_DATA_DIR="$(CURDIR)/data/bench" $(BIN)/python -m bench.runbook_editor
	OPSPORTAL_DATA_DIR="$(CURDIR)/data/bench" $(BIN)/python -m bench.notifications
	OPSPORTAL_DATA_DIR="$(CURDIR)/data/bench" $(BIN)/python -m bench.escalation

clean:
	rm -rf $(VENV) data staticfiles
