# psfl — quick start: `make demo`, then `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?=

.PHONY: setup demo test test-fast bench lint clean libiio

setup: $(STAMP) libiio

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

# pyadi-iio needs the libiio C library (Debian: libiio0). Only this step may need root.
libiio:
	@if ldconfig -p 2>/dev/null | grep -q 'libiio.so.0'; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing libiio0 (C library used by pyadi-iio)"; \
		(apt-get install -y -qq libiio0 >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq libiio0 >/dev/null)); \
	else \
		echo "NOTE: libiio C library missing; the SDR (hil) path needs it. Run:  sudo apt-get install libiio0"; \
	fi

demo: setup
	$(VENV)/bin/psfl demo $(if $(OUT),--out $(OUT),)

test: setup
	$(PY) -m pytest -q tests --nbmake --nbmake-timeout=1200 notebooks

# The developer's loop (< 2 min): pure functions, configuration and small models only.
test-fast: setup
	$(PY) -m pytest -q tests/unit

bench: setup
	$(PY) -m benchmarks.run_all

lint: setup
	$(VENV)/bin/ruff check psfl tests benchmarks

clean:
	rm -rf $(VENV) runs .pytest_cache
