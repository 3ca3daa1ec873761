# Two commands for people: `make demo` and `make test`. Both set up what they need first, and are fast when
# everything is already in place (scripts/setup.sh keeps a stamp of what it installed).
PYTHON ?= python3
VENV   ?= .venv

.PHONY: demo test setup setup-test clean
demo: setup
	$(VENV)/bin/reporting demo

test: setup-test
	$(VENV)/bin/python -m pytest -q

setup:
	@PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/setup.sh

setup-test:
	@PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/setup.sh test

clean:
	rm -rf $(VENV) snapshots .pytest_cache .hypothesis
