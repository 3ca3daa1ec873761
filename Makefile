# Two commands for people: `make demo` and `make test` (plus `make lint`: ruff and mypy, as CI runs them). All
# set up what they need first, and are fast when everything is already in place (scripts/setup.sh keeps a stamp
# of what it installed).
PYTHON ?= python3
VENV   ?= .venv

.PHONY: demo test lint setup setup-test clean
demo: setup
	$(VENV)/bin/reporting demo

# Two workers: the session fixtures are per worker and ports, LibreOffice profiles and tmp paths are private,
# so the suite runs in about half the time on CI's cores (`-p no:xdist` or `-n 0` for one process).
test: setup-test
	$(VENV)/bin/python -m pytest -q -n auto --maxprocesses=2

# mypy's configuration (strict on stats, charts and packs) and ruff's are in pyproject.toml.
lint: setup-test
	$(VENV)/bin/ruff check
	$(VENV)/bin/ruff format --check
	$(VENV)/bin/mypy

setup:
	@PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/setup.sh

setup-test:
	@PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/setup.sh test

clean:
	rm -rf $(VENV) snapshots .pytest_cache .hypothesis
