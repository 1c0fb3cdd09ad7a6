# The two commands a newcomer needs: `make run` and `make test`. Everything else supports them.
PYTHON_BOOTSTRAP ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9

.PHONY: run test install widget lint format services stop-services lock

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@# --compile-bytecode: some machines set PYTHONDONTWRITEBYTECODE, and then every start recompiles Django.
	@$(UV) pip sync --quiet --compile-bytecode --python $(PY) requirements.txt requirements-dev.txt
	@touch $@

WIDGET_SOURCES := $(wildcard widget_js/src/*) widget_js/build.mjs widget_js/package-lock.json

widget_js/node_modules/.installed: widget_js/package-lock.json
	@cd widget_js && npm ci --silent --no-audit --no-fund
	@touch $@

widget_js/dist/widget.js: widget_js/node_modules/.installed $(WIDGET_SOURCES)
	@cd widget_js && node build.mjs

widget: widget_js/dist/widget.js

install: $(VENV)/.installed widget

run: install
	$(PY) -m config.devserver

test: install lint
	$(PY) -m config.embedded_services start
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

services: install
	$(PY) -m config.embedded_services start

stop-services: install
	$(PY) -m config.embedded_services stop

# Re-pin requirements*.txt from requirements*.in.
lock: install
	$(UV) pip compile --quiet --python-version 3.11 requirements.in -o requirements.txt
	$(UV) pip compile --quiet --python-version 3.11 requirements-dev.in -o requirements-dev.txt
