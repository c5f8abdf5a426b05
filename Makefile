# flock-nbext: every target does its own set-up into .venv (created when missing) and is idempotent.
#   make lab    JupyterLab with the extension, MLflow on ./mlflow.db, the demo notebook open
#   make test   install what the tests need (system packages too, as root) and run the whole suite
#   make demo   execute binder/demo.ipynb headless and print where the results are
#   make bench  run every benchmark in benchmarks/ (JSON into benchmarks/results/)
#   make lint   ruff + TypeScript type check
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

VENV   ?= .venv
PY     := $(CURDIR)/$(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 8888
MLFLOW_PORT ?= 5000
BENCH_ARGS ?= --quick
PYTEST_ARGS ?=

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export NODE_EXTRA_CA_CERTS ?= /etc/ssl/certs/ca-certificates.crt
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt

APT_PACKAGES := chromium postgresql unixodbc unixodbc-dev odbc-postgresql libsqliteodbc tdsodbc

.PHONY: lab test demo bench lint install system-deps clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Reinstall when the Python or TypeScript dependencies change.
$(VENV)/.installed: pyproject.toml constraints.txt labextension/package.json labextension/yarn.lock | $(VENV)/bin/python
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[dev,db,torch]"
	jupyter labextension develop --overwrite . >/dev/null
	touch $@

install: $(VENV)/.installed

# System packages: PostgreSQL server, Debian's Chromium, ODBC drivers.
system-deps:
	missing=""
	command -v chromium >/dev/null || missing="$$missing chromium"
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"
	odbcinst -q -d 2>/dev/null | grep -q "PostgreSQL Unicode" || missing="$$missing odbc-drivers"
	if [ -z "$$missing" ]; then exit 0; fi
	if [ "$$(id -u)" = 0 ]; then
	  echo "installing system packages:$$missing"
	  apt-get update -qq
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null
	else
	  echo "missing system packages:$$missing; run as root:"
	  echo "  sudo apt-get update && sudo apt-get install -y $(APT_PACKAGES)"
	  exit 1
	fi

test: system-deps install
	$(PY) -m pytest --cov=flock_nbext --cov-report=term --cov-report=xml:.coverage.xml $(PYTEST_ARGS)

lab: install
	$(PY) binder/make_data.py --out binder/data
	exec scripts/lab.sh "$(HOST)" "$(PORT)" "$(MLFLOW_PORT)"

demo: install
	$(PY) binder/make_data.py --out binder/data
	$(PY) scripts/run_demo.py binder/demo.ipynb

bench: install
	mkdir -p benchmarks/results
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b $(BENCH_ARGS); done

lint: install
	$(PY) -m ruff check flock_nbext flock tests benchmarks scripts
	cd labextension && jlpm run lint

clean:
	rm -rf $(VENV) flock_nbext/labextension labextension/lib labextension/node_modules .pytest_cache
