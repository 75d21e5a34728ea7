# Every target creates or reuses .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Azurite, the Azure Storage emulator the Azure Blob tests start (pinned in tools/azurite/package-lock.json).
AZURITE := tools/azurite/node_modules/.installed

.PHONY: install run test lint bench chaos clean azurite

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/driverlens demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

$(AZURITE): tools/azurite/package.json tools/azurite/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error && touch $(AZURITE); \
	else \
		echo "npm not found: the Azure Blob tests will skip (install Node.js and npm to run them)"; \
	fi

# Installs Azurite when npm is there; without it, the tests that need it skip and say why.
azurite: $(AZURITE)

test: lint azurite
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

# The multi-process chaos test of docs/deployment.md for 3 minutes (make test runs it for 60 s).
chaos: $(STAMP) azurite
	DRIVERLENS_CHAOS_SECONDS=$${DRIVERLENS_CHAOS_SECONDS:-180} $(BIN)/pytest -q -s tests/deploy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache tools/azurite/node_modules
