# autoxero — two commands set a fresh machine up: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13: on PATH, or through pyenv where that is how this machine provides it.
PY313 := $(shell for c in "$$(command -v python3.13 2>/dev/null)" $$(ls -d "$$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python3.13 2>/dev/null); do \
	[ -n "$$c" ] && "$$c" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$c"; break; }; done)
PY313_DIR := $(dir $(PY313))
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV := .venv-checkov
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE :=

.PHONY: help install demo test lint typecheck unit template build bench chaos chaos-quick security clean browser

help:
	@echo "make demo   - set up and run every flow on the embedded sandbox"
	@echo "make test   - set up and run every check (ruff, mypy, pytest, cfn-lint, sam validate --lint, sam build)"
	@echo "make bench  - print the benchmark tables"
	@echo "make chaos  - the chaos check on 20 seeds and every mutant (make chaos-quick: 2 seeds + every mutant)"
	@echo "make build  - sam build (the deployable stack)"

$(PY313):
	@echo "Python 3.13 is required: install it (e.g. pyenv install 3.13.0) and retry." >&2; exit 1

check-python:
	@test -n "$(PY313)" || { echo "Python 3.13 not found on PATH or in pyenv; install it (pyenv install 3.13.0)." >&2; exit 1; }

$(VENV)/.installed: pyproject.toml | check-python
	$(PY313) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# The SAM CLI pins boto3 and pydantic, so it lives in its own venv (docs/toolchain.md §1).
$(SAM_VENV)/.installed: | check-python
	$(PY313) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check 'aws-sam-cli==1.170.0'
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) -m autoxero_cli demo

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

# Debian's chromium drives the console's browser tests (tests/browser). Installed only when missing; CI runs as
# root on a fresh machine, a developer's machine uses sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends chromium; }

# One pytest process per core (pytest-xdist); a file's tests stay in one process, which shares their fixtures.
unit: $(VENV)/.installed browser
	$(VENV)/bin/pytest -n $(shell nproc 2>/dev/null || echo 2) --dist loadfile

template: $(VENV)/.installed $(SAM_VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml

# sam build needs python3.13 on PATH for the python3.13 runtime; the layer's Makefile uses it too.
build: $(SAM_VENV)/.installed | check-python
	PATH="$(PY313_DIR):$$PATH" PYENV_VERSION=3.13.0 AUTOXERO_PYTHON="$(PY313)" \
		$(SAM) build --template template.yaml
	@du -sh .aws-sam/build/SharedLayer | awk '{print "built layer (arm64) size: " $$1}'
	rm -rf .aws-sam/host-layer
	$(MAKE) --no-print-directory -C layers/shared build-SharedLayer ARTIFACTS_DIR="$(CURDIR)/.aws-sam/host-layer" \
		AUTOXERO_PYTHON="$(PY313)" PLATFORM=manylinux2014_$(shell uname -m) >/dev/null

# The installs wait on the network and the disk, and the static checks and the build are light beside pytest, so
# each of those groups runs side by side; pytest and the chaos check each keep both cores busy, so they run alone.
test:
	@echo "make test: installs ($$(date +%T))"
	$(MAKE) --no-print-directory -j4 --output-sync=target install $(SAM_VENV)/.installed browser \
		$(CHECKOV_VENV)/.installed
	@echo "make test: static checks and the build ($$(date +%T))"
	$(MAKE) --no-print-directory -j5 --output-sync=target lint typecheck template build security
	@echo "make test: pytest ($$(date +%T))"
	$(MAKE) --no-print-directory unit
	@echo "make test: chaos-quick ($$(date +%T))"
	$(MAKE) --no-print-directory chaos-quick
	@echo "make test: the built XeroWebhook function against the sandbox ($$(date +%T))"
	$(PY) -m autoxero_cli invoke XeroWebhookFunction --event events/xero_webhook.json --built --with-sandbox
	@echo "make test: every check passed ($$(date +%T))"

bench: $(VENV)/.installed build
	$(PY) -m bench

# The chaos check (bench/chaos.py): 20 seeds x 200 invoices, then every mutant of bench/chaos_mutants.py, which
# the truth checks (bench/chaos_truth.py, read from the simulators' own state) must each catch.
chaos: $(VENV)/.installed
	$(PY) -m bench.chaos_report

# 2 small seeds and every mutant: part of `make test`.
chaos-quick: $(VENV)/.installed
	$(PY) -m bench.chaos_report --quick

# checkov pins its own dependency tree, so it lives in its own venv like the SAM CLI. Every check it fails is
# fixed in template.yaml or skipped there, in the resource's Metadata.checkov.skip, with the reason.
$(CHECKOV_VENV)/.installed: | check-python
	$(PY313) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check 'checkov==3.3.30'
	touch $@

security: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --quiet --compact

clean:
	rm -rf .aws-sam out .mypy_cache .ruff_cache
