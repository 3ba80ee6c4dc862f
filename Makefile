# gluelab: `make run` executes the curriculum, `make test` checks it. Both build .venv themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export SPARK_LOCAL_IP ?= 127.0.0.1
export PYSPARK_PYTHON := $(abspath $(PY))
export PYTHONHASHSEED := 0

.DEFAULT_GOAL := help
.PHONY: help run test lab bench exercises notebooks clean python java venv
# JAVA_HOME, when set, names the Java every step uses (its bin/ goes first on PATH), as Spark itself does.
ifdef JAVA_HOME
export PATH := $(JAVA_HOME)/bin:$(PATH)
endif

help: ## show this help
	@grep -hE '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

python:
	@$(PYTHON) tools/check_python.py; rc=$$?; [ $$rc -le 1 ] || echo "could not run $(PYTHON): gluelab needs \
	Python 3.11; install it, then choose it for make, e.g.: make PYTHON=python3.11 venv" >&2; exit $$rc

java: python
	@$(PYTHON) tools/check_java.py

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) tools/check_python.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt 2>&1 | grep -v '^WARNING: Location' || true
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e . 2>&1 | grep -v '^WARNING: Location' || true
	$(PY) -c 'import gluelab, pyspark, moto' 
	@touch $(STAMP)

venv: java $(STAMP) ## create or refresh .venv (done by run and test too)
	@$(PY) -m gluelab.s3fs --build
	@$(PY) -m gluelab.warmup --build-cds

run: venv ## execute every lesson with papermill into build/ (ARGS="-p backend aws ..."), write build/summary.md
	$(PY) tools/run_lessons.py $(ARGS)

test: venv ## unit + contract tests, nbval on notebooks/ and solutions/, exercises up to date
	$(PY) tools/make_exercises.py --check
	$(PY) -m pytest tests -q
	$(PY) -m pytest -q --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider notebooks solutions

lab: venv ## start JupyterLab on the lessons
	$(VENV)/bin/jupyter lab --no-browser --allow-root --notebook-dir=. notebooks/00_welcome.ipynb

bench: venv ## measure start-up, the S3 data plane, the crawler and Glue jobs; writes bench/results.md
	$(PY) bench/run.py

notebooks: venv ## re-execute lessons and solutions in place (after a lib change), regenerate exercises
	$(PY) tools/refresh_notebooks.py $(NB)
	$(PY) tools/make_exercises.py

exercises: venv ## regenerate exercises/ from solutions/
	$(PY) tools/make_exercises.py

clean: ## remove build output (keeps .venv)
	rm -rf build bench/_work lib/gluelab/_build
