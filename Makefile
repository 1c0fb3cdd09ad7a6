# The two commands a newcomer needs: `make run` and `make test`. Everything else supports them.
PYTHON_BOOTSTRAP ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9

.PHONY: run test install widget lint format services stop-services lock chromium

# The browser tests drive this Chromium (tests/e2e/conftest.py); the command is the one .ci/run uses.
CHROMIUM := /usr/bin/chromium
CHROMIUM_INSTALL := apt-get update -qq && apt-get install -y -qq chromium fonts-noto-color-emoji

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

# Checked first: without it the suite would end in a wall of browser-test failures.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "==> installing Chromium for the browser tests: $(CHROMIUM_INSTALL)"; \
	    export DEBIAN_FRONTEND=noninteractive; ($(CHROMIUM_INSTALL)) >/dev/null || exit 1; \
	  else \
	    echo "The browser tests need Chromium at $(CHROMIUM). Install it, then run make test again:" >&2; \
	    echo "  sudo sh -c '$(CHROMIUM_INSTALL)'" >&2; \
	    exit 1; \
	  fi; \
	fi

test: chromium install lint
	$(PY) -m config.embedded_services start
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The layers and transports contracts in pyproject.toml ([tool.importlinter]).
	$(VENV)/bin/lint-imports

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
