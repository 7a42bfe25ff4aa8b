# leftbehind — the two commands a new user needs are `make reports` and `make test`.
# Everything else is set up on demand: the first target that needs the environment creates `.venv/`
# from the pinned lock file; later runs reuse it unless requirements/lock.txt or pyproject.toml changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements/lock.txt
# Jupyter writes runtime files (kernel connection files) here; keep them inside the project.
export JUPYTER_PLATFORM_DIRS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.DEFAULT_GOAL := help
LINT_PATHS := src tests benchmarks

.PHONY: help setup lint format test test-unit test-notebooks reports briefs screenshots lab explore refresh-notebooks build-data check docs bench lock clean
# Public modules documented in the API reference (make docs)
API_MODULES := leftbehind leftbehind.data leftbehind.literature leftbehind.meta leftbehind.plots leftbehind.reports \
	leftbehind.country leftbehind.world leftbehind.explore leftbehind.refresh leftbehind.narrative leftbehind.provenance leftbehind.wdi leftbehind.notebooks \
	leftbehind.errors leftbehind.cli

help: ## List the targets
	@echo "leftbehind — make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: $(STAMP) ## Create .venv/ from the lock file (only when the lock or pyproject changed)

$(STAMP): $(LOCK) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "leftbehind needs Python 3.11 or newer; found " + sys.version.split()[0] + ". Set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (leftbehind)" > /dev/null
	@# JupyterLab settings for this environment only (not the user's home): no news pop-up, no update check
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp requirements/jupyterlab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@touch $(STAMP)

lint: $(STAMP) ## Lint, format check, type check and the architecture contract (make test runs this first)
	$(BIN)/ruff check $(LINT_PATHS)
	@# the notebooks' code too (an unused import, an undefined name); their layout is not reformatted
	$(BIN)/ruff check notebooks
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(STAMP) ## Format the code and apply ruff's safe fixes (then review the diff)
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

test: lint test-unit test-notebooks ## Run every test: lint first, then unit tests, data-package validation, notebooks (nbval)

test-unit: $(STAMP) ## The data package's validation, unit tests and doctests (part of make test)
	$(BIN)/frictionless validate data/datapackage.json
	$(BIN)/python -m pytest tests --doctest-modules src/leftbehind
	@# kernel lifecycle (interpreter, orphans, signals, deaths) once more with every kernel forked warm
	LEFTBEHIND_KERNEL_START=warm $(BIN)/python -m pytest -p no:cacheprovider tests/test_report_kernels.py

test-notebooks: $(STAMP) ## Every notebook run under nbval (part of make test)
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider notebooks

reports: docs ## Regenerate every report in notebooks/reports.yaml into reports/ (ARGS="--force --only NAME" to pass options)
	$(BIN)/python -m leftbehind reports $(ARGS)

SNAPSHOT_MIRROR ?=
build-data: $(STAMP) ## Fetch the publishers' files (SNAPSHOT_MIRROR=DIR: from a mirror), verify them, rebuild data/derived/
	$(BIN)/python -m leftbehind data fetch $(if $(SNAPSHOT_MIRROR),--from "$(SNAPSHOT_MIRROR)",)
	$(BIN)/python -m leftbehind data build

briefs: $(STAMP) ## Print each country report to an A4 PDF brief, reports/briefs/<ISO3>.pdf (needs Chromium; after make reports)
	$(BIN)/python -m leftbehind briefs $(ARGS)

screenshots: $(STAMP) ## README's screenshots (index, a profile, a brief's first page) into reports/screenshots/ (after make reports briefs)
	$(BIN)/python -m leftbehind screenshots $(ARGS)

check: $(STAMP) ## Validate the report plan and its parameters without running anything
	$(BIN)/python -m leftbehind reports --check

# PDOC_ALLOW_EXEC: on a fresh machine, importing matplotlib builds its font cache by running fc-list, which pdoc
# otherwise suppresses with a warning that -W error turns into a failure.
docs: $(STAMP) ## Build the API reference from the docstrings into reports/api/ (fails on any warning)
	PDOC_ALLOW_EXEC=1 $(BIN)/python -W error -m pdoc $(API_MODULES) --docformat numpy -o reports/api

bench: $(STAMP) ## Time the runner against plain papermill + nbconvert (BENCH_ARGS="--limit N --jobs J")
	$(BIN)/python benchmarks/bench_reports.py $(BENCH_ARGS)

LAB_ARGS ?=
lab: $(STAMP) ## Open JupyterLab at the front door, notebooks/00_start_here.ipynb, with the project as its root (LAB_ARGS=--port=8890 …)
	$(BIN)/jupyter lab --ServerApp.root_dir=. notebooks/00_start_here.ipynb $(LAB_ARGS) $(if $(filter 0,$(shell id -u)),--allow-root,)

EXPLORE_PORT ?= 8866
explore: $(STAMP) ## Serve the explorers as a web app on 127.0.0.1, for you only: open the address it prints, with its token (EXPLORE_PORT=8866)
	$(BIN)/python -m leftbehind explore --port=$(EXPLORE_PORT)

refresh-notebooks: $(STAMP) ## Re-execute notebooks and store their key-result outputs (after a deliberate change)
	$(BIN)/python -m leftbehind notebooks refresh

lock: ## Re-pin every dependency after editing pyproject.toml (needs network access to PyPI)
	@test -x .tools/bin/uv || ($(PYTHON) -m venv .tools && .tools/bin/pip install --quiet uv)
	.tools/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes --no-header -o $(LOCK)

clean: ## Remove the environment and caches (reports/ is kept)
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache .import_linter_cache build src/*.egg-info
