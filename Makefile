# Two commands do everything on a fresh machine with Python 3.11, Node 20 and npm:
#   make run    install what is missing, start the emulators, serve the app on 127.0.0.1:7071
#   make test   install what is missing, lint, type-check, the chat panel's tests, and the app's tests
#               against real emulators
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# checkov pins `packaging<24`, which pytest 9 cannot live with: it gets a virtualenv of its own.
CHECKOV_STAMP := $(VENV)/checkov/.installed

.PHONY: install run test lint format bench customer-says smoke openapi clean

$(PY_STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json patches/*.patch
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHECKOV_STAMP): infra/requirements-checkov.txt | $(PY_STAMP)
	test -x $(VENV)/checkov/bin/python || $(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/python -m pip install --disable-pip-version-check -q -r infra/requirements-checkov.txt
	touch $@

install: $(PY_STAMP) $(NODE_STAMP) $(CHECKOV_STAMP)

run: install
	$(BIN)/python -m devhost run

# The chat panel first (its unit tests, build and browser journey), then the app's own suite.
test: install lint
	pcf/scripts/test.sh
	$(BIN)/python -m pytest

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(PY_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m benchmarks.webhook_ingest
	$(BIN)/python -m benchmarks.send_path
	$(BIN)/python -m benchmarks.media_upload
	$(BIN)/python -m benchmarks.dataverse_mirror
	$(BIN)/python -m benchmarks.inbox
	$(BIN)/python -m benchmarks.operations
	$(BIN)/python -m benchmarks.cpu
	$(BIN)/python -m benchmarks.cost_model
	$(BIN)/python -m benchmarks.readme_table

# make customer-says WA=15551234567 TEXT="Hi"  or  FILE=photo.jpg (needs `make run` in another terminal);
# NEW_NUMBER=<digits> (or NEW_USER_ID=US.…) changes the customer's number first, MARKETING=stop|resume
# opts them out of (back into) marketing messages, EXPIRE=response|webhook ends their window last (Meta
# then refuses a send in its answer, or by a failed status webhook).
customer-says: $(PY_STAMP)
	$(BIN)/python -m devhost customer-says --wa "$(WA)" $(if $(TEXT),--text "$(TEXT)") $(if $(FILE),--file "$(FILE)") \
		$(if $(NEW_NUMBER),--changes-number-to "$(NEW_NUMBER)") $(if $(NEW_USER_ID),--changes-user-id-to "$(NEW_USER_ID)") \
		$(if $(MARKETING),--marketing "$(MARKETING)") $(if $(EXPIRE),--expire-window "$(EXPIRE)")

# make smoke URL=https://<app>.azurewebsites.net: checks a deployment (WHATSAPP_VERIFY_TOKEN and
# ALLOWED_ORIGINS from the environment); SMOKE_ARGS passes more, e.g. "--allow-open-agent-routes" locally.
smoke: $(PY_STAMP)
	$(BIN)/python -m devhost smoke --url "$(URL)" $(SMOKE_ARGS)

clean:
	rm -rf $(VENV) node_modules .local .pytest_cache .mypy_cache .ruff_cache

# Rewrite the committed OpenAPI document from the code's models (a test fails when they differ).
openapi: $(PY_STAMP)
	$(BIN)/python -m shared.api.openapi
