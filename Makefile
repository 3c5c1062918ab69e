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

test: install-test
	$(BIN)/ruff check .
	rm -rf "$(TEST_DATA_DIR)" && mkdir -p "$(TEST_DATA_DIR)"
	OPSPORTAL_DATA_DIR="$(TEST_DATA_DIR)" $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: install-test
	OPSPORTAL_DATA_DIR="$(CURDIR)/data/bench" $(BIN)/python bench/alertmanager_ingest.py
	OPSPORTAL_DATA_DIR="$(CURDIR)/data/bench" $(BIN)/python bench/page_load.py

clean:
	rm -rf $(VENV) data staticfiles
