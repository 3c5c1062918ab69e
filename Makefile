# Two commands do everything: `make run` and `make test` (README, "Quick start").
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
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
	PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) PROMETHEUS_MULTIPROC_DIR="$(OPSPORTAL_DATA_DIR)/prometheus" \
		$(BIN)/honcho start -f Procfile

# Ends with one line giving pytest's counts and the wall time of the whole target, e.g.
# "suite: 412 passed, 8 skipped; make test took 23.4 s".
test: install-test
	@start=$$(date +%s.%N); \
	rm -rf "$(TEST_DATA_DIR)" && mkdir -p "$(TEST_DATA_DIR)"; \
	$(BIN)/ruff check . && \
	OPSPORTAL_DATA_DIR="$(TEST_DATA_DIR)" $(BIN)/pytest -n $(PYTEST_WORKERS) $$([ -t 1 ] && echo --color=yes) \
		$(PYTEST_ARGS) | tee "$(TEST_DATA_DIR)/pytest.log"; \
	status=$$(( $${PIPESTATUS[0]} ? $${PIPESTATUS[0]} : $${PIPESTATUS[1]:-0} )); \
	counts=$$(tail -n 1 "$(TEST_DATA_DIR)/pytest.log" 2>/dev/null \
		| sed -E 's/\x1b\[[0-9;]*m//g; s/^=+ //; s/ in [0-9.]+s.*//'); \
	echo "suite: $${counts:-no tests run}; make test took $$(awk "BEGIN {printf \"%.1f\", $$(date +%s.%N) - $$start}") s"; \
	exit $$status

bench: install-test
	OPSPORTAL_DATA_DIR="$(CURDIR)/data/bench" $(BIN)/python bench/alertmanager_ingest.py

clean:
	rm -rf $(VENV) data staticfiles
