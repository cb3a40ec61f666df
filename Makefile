# Orchestra — the two commands a newcomer needs are `make up` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

WEB_DEPS := web/node_modules/.installed
WEB_BUILD := src/orchestra/web_dist/index.html
# The JavaScript libraries of Postman scripts' sandbox (chai for pm.expect, lodash, crypto-js, moment, tv4, ajv,
# xml2js), taken from npm at build time at the versions pinned in tools/js-vendor/fetch.sh and shipped in the
# package. The last file it writes stands for them all.
JS_VENDOR := src/orchestra/steps/scripts/vendor
JS_LIBS := $(JS_VENDOR)/xml2js.js
NEWMAN := tools/newman/node_modules/.bin/newman

.PHONY: install up test unit lint bench clean web web-test chromium js-vendor newman nginx

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) $(WEB_BUILD) $(JS_LIBS) $(NEWMAN) ## create .venv with the pinned dependencies; build the web application, fetch the Postman sandbox libraries and newman if missing

# newman (pinned in tools/newman/package-lock.json), for the Postman parity test; skipped there without it.
$(NEWMAN): tools/newman/package-lock.json
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory newman; \
	else echo "npm not found: newman is not installed (the Postman parity test will skip)" >&2; fi

newman: ## install newman (for the Postman parity test)
	cd tools/newman && npm ci --no-audit --no-fund --silent

# Postman scripts' libraries, from npm (their licences are copied beside them, docs/importing.md names them).
$(JS_LIBS): tools/js-vendor/fetch.sh tools/js-vendor/package-lock.json
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory js-vendor; \
	else echo "npm not found: the Postman sandbox libraries are not fetched (pm.expect and require will say so)" >&2; fi

js-vendor: ## fetch the Postman sandbox's JavaScript libraries (chai, lodash, crypto-js, moment, tv4, ajv, xml2js) from npm
	sh tools/js-vendor/fetch.sh $(JS_VENDOR)

$(WEB_DEPS): web/package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js 20.19+) is needed to build the web application" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund
	@touch $(WEB_DEPS)

# Built once when missing (`make web` rebuilds); the build ships inside the Python package and is served at /.
$(WEB_BUILD):
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory web; \
	else echo "npm not found: the web application is not built (the API works without it; see README)" >&2; fi

web: $(WEB_DEPS) ## build the web application into src/orchestra/web_dist
	cd web && npm run build

# The browser tests drive Debian's chromium; installed here when missing (as root), else they skip and say why.
chromium:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "could not install chromium: the browser tests will skip" >&2

# Debian's nginx with the production configuration of deploy/nginx/ in front: the Playwright project `nginx`
# and the Compose topology's end-to-end test. Installed here when missing (as root), else those tests skip and
# say why (they fail under CI).
nginx:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || [ "$$(id -u)" != 0 ] || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; } || \
	  echo "could not install nginx: the tests through nginx will skip" >&2

web-test: $(WEB_DEPS) chromium nginx ## the web application: lint, types, build, Vitest, Playwright against a real `orchestra up` and through nginx
	cd web && npm run lint && npm run build && npm test && npm run e2e

up: install ## start Orchestra embedded, with the demo SUT and example suite, on http://127.0.0.1:8000
	$(BIN)/orchestra up

test: install nginx ## lint, type-check, check the layers and run the whole test suite
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports --no-logo
	$(MAKE) --no-print-directory web-test
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
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/chain.py
	$(BIN)/python bench/dataplan.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/postman_vs_newman.py
	$(BIN)/python bench/peers.py

clean:
	rm -rf $(VENV) .orchestra .pytest_cache .mypy_cache .ruff_cache web/node_modules src/orchestra/web_dist $(dir $(JS_LIBS)) tools/newman/node_modules
