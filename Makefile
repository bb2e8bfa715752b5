# Dangol — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
export DANGOL_DATA_DIR ?= $(CURDIR)/var

.PHONY: demo test install install-test assets lint serve clean-demo

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed assets
install-test: $(VENV)/.installed-test assets

# htmx comes from the npm registry at install time, never from a CDN at run time. Pages work
# without it (plain forms and links); npm missing only loses the live search.
assets:
	@bash scripts/assets.sh

demo: install
	$(VENV)/bin/dangol demo

serve: install
	$(VENV)/bin/dangol serve

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: install-test
	bash scripts/test.sh

clean-demo:
	rm -rf $(DANGOL_DATA_DIR)
