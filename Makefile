# Orchestra — the two commands a newcomer needs are `make up` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install up test unit lint bench clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv with the pinned dependencies

up: install ## start Orchestra embedded, with the demo SUT and example suite, on http://127.0.0.1:8000
	$(BIN)/orchestra up

test: install ## lint, type-check, check the layers and run the whole test suite
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports --no-logo
	@# A temp root of this session's own (pytest's shared one is pruned by other sessions); kept when a test fails.
	@tmp=$$(mktemp -d -t orchestra-tests.XXXXXX) && echo "test files under $$tmp" && \
	  $(BIN)/pytest -n auto --maxprocesses=4 --basetemp=$$tmp && rm -rf $$tmp

unit: install ## only the fast unit tests
	$(BIN)/pytest tests/unit

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports --no-logo

bench: install ## benchmarks (see bench/ and the README's performance section)
	$(BIN)/python bench/chain.py
	$(BIN)/python bench/dataplan.py

clean:
	rm -rf $(VENV) .orchestra .pytest_cache .mypy_cache .ruff_cache
