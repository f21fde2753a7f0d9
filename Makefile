# Audience — the verbs users run. `make` alone lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_ROWS ?= 20000
BENCH_ROWS ?= 200000
N ?= 1000000
TRIALS ?= 5
FLOWER_PORT ?= 5555

.PHONY: help install system_deps run run_api run_worker run_predicting_1 run_predicting_2 run_modeling flower graph demo init_db \
	register_keywords test_deps test test_api test_unit lint format bench bench_stages reliability clean

help: ## list the targets
	@grep -E '^[a-zA-Z0-9_]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt
	@pkg-config --exists mariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null || $(MAKE) --no-print-directory system_deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed ## create .venv and install the pinned requirements

# mysqlclient compiles against MariaDB's client headers; on Debian or Ubuntu they come from apt.
SYSTEM_PACKAGES := libmariadb-dev pkg-config
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT_GET := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get
# $(call apt_install,PACKAGES): from the package lists at hand, or from fresh ones if they are stale
apt_install = $(APT_GET) install -y -q --no-install-recommends $(1) || \
	{ $(APT_GET) update -q && $(APT_GET) install -y -q --no-install-recommends $(1); }
system_deps: ## the system packages the requirements build against (Debian/Ubuntu: apt-get)
	@command -v apt-get >/dev/null || { echo "install MariaDB's client headers (or MySQL's) and pkg-config, then run make again" >&2; exit 1; }
	$(call apt_install,$(SYSTEM_PACKAGES))

run: install ## API + worker on the embedded default (or on .env), with a demo table and model
	$(PY) -m workers.cli init-db
	$(PY) -m workers.cli demo --if-missing --rows $(DEMO_ROWS)
	@$(PY) -m workers.launch worker predicting,modeling & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	echo "Swagger UI: http://$(HOST):$(PORT)/docs"; \
	$(PY) -m uvicorn apis.app:create_app --factory --host $(HOST) --port $(PORT)

run_api: install ## the API alone (uvicorn)
	$(PY) -m uvicorn apis.app:create_app --factory --host $(HOST) --port $(PORT)

run_worker: install ## one worker for every queue
	$(PY) -m workers.launch worker predicting,modeling

run_predicting_1: install ## predicting worker number 1 (queue predicting)
	$(PY) -m workers.launch predicting_1 predicting

run_predicting_2: install ## predicting worker number 2 (queue predicting)
	$(PY) -m workers.launch predicting_2 predicting

run_modeling: install ## modeling worker (queue modeling)
	$(PY) -m workers.launch modeling modeling

flower: install ## Flower, Celery's own view of the workers and their tasks, at http://$(HOST):$(FLOWER_PORT)
	$(PY) -m celery -A workers.app:celery_app flower --address=$(HOST) --port=$(FLOWER_PORT)

graph: install ## redraw the workflow diagrams of graph/ and the README from workers/canvas.py
	$(PY) -m workers.graph

demo: install ## (re)create the demo source table and the demo keyword model
	$(PY) -m workers.cli demo --rows $(DEMO_ROWS)

init_db: install ## create the output schema, or upgrade it to this release's revision (Alembic)
	$(PY) -m workers.cli init-db

register_keywords: install ## store a keyword model: make register_keywords NAME=x RULES=rules.csv
	$(PY) -m workers.cli register-keywords "$(NAME)" "$(RULES)"

# The dashboard's tests drive Debian's chromium (Playwright, without its own browser downloads); the font
# draws Chinese in the screenshots.
BROWSER_PACKAGES := chromium fonts-wqy-microhei
test_deps: ## the browser the dashboard tests drive (Debian/Ubuntu: apt-get chromium and a CJK font)
	@command -v chromium >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q . || { \
	command -v apt-get >/dev/null || { echo "install chromium and a Chinese font, then run make again" >&2; exit 1; }; \
	$(call apt_install,$(BROWSER_PACKAGES)); }

test: install test_deps ## the whole suite (needs MariaDB and Redis on 127.0.0.1; screenshots in test-artifacts/)
	$(PY) -m pytest -q

test_api: install ## the API tests only
	$(PY) -m pytest -q tests/api

test_unit: install ## the tests that need no server
	$(PY) -m pytest -q -m "not services"

lint: install ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy apis workers models utils settings.py

format: install ## apply ruff's formatting and fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

$(VENV)/.bench-installed: requirements-bench.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@

bench: $(VENV)/.bench-installed ## N posts (default 1,000,000): Audience vs the database's ceiling and the naive way
	$(PY) -m tests.benchmarks.scale --rows $(N)

bench_stages: install ## each stage alone (match, read, write, upload) on BENCH_ROWS posts
	$(PY) -m tests.benchmarks.stages --rows $(BENCH_ROWS)

reliability: install ## the fault matrix TRIALS times (default 5), the schema fuzzer FUZZ_CASES (10,000); figures into the README
	$(PY) -m tests.reliability --trials $(TRIALS) --fuzz-cases $(or $(FUZZ_CASES),10000)

clean: ## remove the embedded default's files under var/
	rm -rf var
