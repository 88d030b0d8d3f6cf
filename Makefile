# The two commands of a fresh clone: `make plan` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: plan test lint inputs

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

plan: $(VENV)/.installed
	$(BIN)/python -m offline plan

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema custom.github-workflows-require-timeout .github/workflows/*.yml

# The users' own tenants.yaml, accounts.yaml and stack files: validated and planned, never pinned by a test.
inputs: $(VENV)/.installed
	$(BIN)/python -m offline validate
	$(BIN)/python -m offline plan --format json > /dev/null || $(BIN)/python -m offline plan

test: lint inputs
	$(BIN)/python -m pytest
