# The two commands of a fresh clone: `make plan` and `make test`; `make help` lists every target.
# Everything installs from uv.lock with uv, which is bootstrapped from PyPI into .tools/ when the
# machine has none. The only requirement is Python 3.11 or newer (PYTHON=... to choose another).
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
POLICY_VENV := policy/venv
BIN := $(VENV)/bin
UV := $(or $(shell command -v uv 2>/dev/null),.tools/uv/bin/uv)
# uv must not fetch a Python of its own: the project runs on the interpreter the user chose.
export UV_PYTHON_DOWNLOADS := never
# Bytecode compiled at install: where PYTHONDONTWRITEBYTECODE is set, every process (each test worker) would
# otherwise compile pulumi_aws again. BYTECODE= skips it (a throwaway environment).
BYTECODE ?= --compile-bytecode
PROWLER_VENV := .tools/prowler
PROWLER_COMPILE := $(UV) pip compile emulator/prowler-requirements.in --generate-hashes --python-version 3.11 --quiet
POLICY_EXPORT := $(UV) export --locked --only-group policy --no-emit-project --format requirements-txt --no-header --quiet

.PHONY: help install policy-pack plan test suite check fast lint typecheck inputs lock python-version security-scan sandbox docs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F '\t' '{ printf "  make %-10s %s\n", $$1, $$2 }'

python-version:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		echo "tenant-storage needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1 || echo 'not found')." >&2; \
		echo "Run make with PYTHON=python3.11 (or newer); nothing was installed." >&2; exit 1; }

.tools/uv/bin/uv: | python-version
	$(PYTHON) -m venv .tools/uv
	.tools/uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | python-version $(UV)
	$(UV) sync --locked $(BYTECODE) --python $(PYTHON)
	touch $@

install: $(VENV)/.synced ## create .venv from uv.lock (nothing to do when it is current)

# The Pulumi CLI loads a local policy pack, it does not install one: its Python language host runs the pack
# with the interpreter of the virtualenv that policy/PulumiPolicy.yaml names (policy/venv), which only this
# target (or `pulumi install` run inside policy/) creates. CI runs it before every preview and deploy.
$(POLICY_VENV)/.synced: policy/requirements.txt | python-version $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(POLICY_VENV)
	$(UV) pip sync --quiet $(BYTECODE) --python $(POLICY_VENV)/bin/python --require-hashes policy/requirements.txt
	touch $@

policy-pack: $(POLICY_VENV)/.synced ## create the policy pack's environment policy/venv from uv.lock, as `--policy-pack policy` needs

plan: $(VENV)/.synced ## what each stack would deploy, offline: no AWS credentials, no Pulumi CLI
	$(BIN)/tenant-storage plan

docs: $(VENV)/.synced ## regenerate docs/reference/ from the code (tests/test_docs.py fails when a page is stale)
	$(BIN)/python -m cli.reference

STACK ?= qa
sandbox: $(VENV)/.synced ## a local emulator holding a stack's declared state (STACK=qa), to try audit, restore... (Ctrl-C stops it)
	$(BIN)/tenant-storage sandbox --stack $(STACK)

lint: $(VENV)/.synced ## ruff, workflow and dependabot schemas, lock and policy-pack requirements up to date
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema custom.github-workflows-require-timeout .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	$(UV) lock --check --quiet
	$(POLICY_EXPORT) | diff -u policy/requirements.txt - || { \
		echo "policy/requirements.txt is stale: run make lock" >&2; exit 1; }

typecheck: $(VENV)/.synced ## mypy over the whole project (strict for components/ and tenant_storage/)
	$(BIN)/mypy

# The users' own tenants.yaml, accounts.yaml and stack files: validated and planned, never pinned by a test.
inputs: $(VENV)/.synced ## validate and plan your tenants.yaml, accounts.yaml and stack files
	$(BIN)/tenant-storage validate
	$(BIN)/tenant-storage plan --format json > /dev/null || $(BIN)/tenant-storage plan

# The suite runs on every core; tests that share one expensive setup (a mypy run) stay on one worker.
PYTEST := $(BIN)/python -m pytest -n auto --dist loadgroup

# The type check (one core) runs beside the suite: a cold mypy takes about 15 s on its own.
test: lint inputs ## lint, type-check, check your inputs, run the whole test suite (what CI runs)
	@$(MAKE) --no-print-directory -j2 typecheck suite

suite: $(VENV)/.synced ## the whole test suite alone
	$(PYTEST)

# The three at once: lint and a warm type check take a core for two seconds, beside the tests' two workers.
check: $(VENV)/.synced ## the inner loop: lint, type-check, and the fast tests (not the emulator's or the slow ones)
	@$(MAKE) --no-print-directory -j3 --output-sync=target lint typecheck fast

fast: $(VENV)/.synced ## the fast tests alone (what `make check` runs beside lint and the type check)
	$(PYTEST) -q -m "not slow"

lock: | python-version $(UV) ## re-resolve uv.lock after editing pyproject.toml, and export the policy pack's and Prowler's requirements
	$(UV) lock
	$(POLICY_EXPORT) --output-file policy/requirements.txt
	$(PROWLER_COMPILE) --output-file emulator/prowler-requirements.txt

# Prowler and its 245 dependencies, hash-checked, in an environment of their own: never in .venv, never in make test.
$(PROWLER_VENV)/.synced: emulator/prowler-requirements.txt | python-version $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(PROWLER_VENV)
	$(UV) pip sync --quiet --compile-bytecode --python $(PROWLER_VENV)/bin/python --require-hashes emulator/prowler-requirements.txt
	touch $@

SCAN_FORMAT ?= text
security-scan: $(VENV)/.synced $(PROWLER_VENV)/.synced ## Prowler's S3, IAM and CloudFront checks on each stack's declared state (a moto server), against emulator/security_scan_expected.yaml
	$(BIN)/python -m emulator.security_scan --prowler $(PROWLER_VENV)/bin/prowler --format $(SCAN_FORMAT)
