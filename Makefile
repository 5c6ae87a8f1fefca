# Two commands for a new user: `make run` and `make test`. Nothing needs installing by hand beyond
# Python >= 3.11: the targets create .venv and install the project into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run demo test lint bench check clean messages

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@$(PYTHON) -m venv $(VENV) || { echo "could not create $(VENV): on Debian or Ubuntu, install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

# Each target installs what it needs, once: a stamp per set of extras, redone only when the
# project's metadata changes, so that a second `make run` starts at once.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	@touch $@ $(VENV)/.installed-run

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	@touch $@ $(VENV)/.installed-test $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/fedi migrate
	$(BIN)/fedi serve

# Three peered national networks (PL, IT, DE) on loopback, seeded; data in var/demo.
demo: $(VENV)/.installed-run
	$(BIN)/fedi demo

# One worker per core (pytest-xdist); `make test PYTEST_WORKERS=0` runs in this process.
PYTEST_WORKERS ?= auto
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check fedi tests migrations bench
	$(BIN)/ruff format --check fedi tests migrations bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

check: $(VENV)/.installed-run
	$(BIN)/fedi check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Translations: extract every string from the code and templates (babel.cfg), then bring each
# catalog in fedi/web/ui/locales/ up to date; new strings arrive empty and fail the tests until
# they are translated.
LOCALES_DIR := fedi/web/ui/locales
messages: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg -o $(LOCALES_DIR)/messages.pot --no-wrap --no-location --sort-output --project=Transnationality --copyright-holder="Transnationality contributors" .
	$(BIN)/pybabel update -i $(LOCALES_DIR)/messages.pot -d $(LOCALES_DIR) --no-wrap --no-fuzzy-matching --ignore-obsolete
