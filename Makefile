# The two commands of the README: `make run` and `make test`. Everything else is what they need,
# plus `make lint` (ruff, import contracts, mypy), which CI runs before the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint bench browser-deps clean translations

# The compiled message catalogues (.mo) are built from the .po files in git, never committed, so they
# cannot fall behind; the wheel compiles its own (setup.py).
CATALOGUES := $(wildcard wizard/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)

run: $(VENV)/.installed instance/config.py $(COMPILED)
	$(FLASK) init-db
	$(FLASK) seed-demo
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test browser-deps $(COMPILED)
	$(BIN)/python -m pytest -n 2 --dist load $(PYTEST_ARGS)

# Configured in pyproject.toml: [tool.ruff], [tool.importlinter] (the layer contracts), [tool.mypy].
lint: $(VENV)/.installed-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy wizard

# The benchmark (bench/README.md, docs/performance.md): (a) in-process purchase, (b) gunicorn under
# load, (c) the Subs page with 10 and 5,000 subscriptions, (d) a CSV of 100 lines checked and bought in
# one Save. PostgreSQL parts skip when it is unreachable.
bench: $(VENV)/.installed-bench $(COMPILED)
	$(BIN)/python -m bench.inprocess --db sqlite,postgresql
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.subs_page --db sqlite,postgresql
	$(BIN)/python -m bench.batch --db sqlite,postgresql

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-lint: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[lint]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

# After changing messages in code or templates: extract them (babel.cfg), add the new ones to every
# catalogue, compile. Then translate what is new or empty in wizard/translations/sv/LC_MESSAGES/messages.po
# (docs/glossary.md has our words) and run this again; tests/test_translations.py fails until it is done.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --add-location=file --sort-by-file \
	  --project=subs-wizard --copyright-holder="" -o wizard/translations/messages.pot .
	$(BIN)/pybabel update -i wizard/translations/messages.pot -d wizard/translations --no-fuzzy-matching --ignore-pot-creation-date \
	  --ignore-obsolete
	$(BIN)/pybabel compile --statistics -d wizard/translations

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile -i $< -o $@

# Browser tests drive Debian's Chromium (Playwright's own download does not work offline).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "chromium is missing: sudo apt-get install chromium"; fi; }

# A local, http-only instance: a random SECRET_KEY and cookies allowed without HTTPS.
instance/config.py:
	@mkdir -p instance
	@$(PYTHON) -c "import secrets; print('# Made by make run for local use over http://127.0.0.1.\nSECRET_KEY = %r\nSESSION_COOKIE_SECURE = False\nREMEMBER_COOKIE_SECURE = False' % secrets.token_hex(32))" > $@
	@echo "Wrote $@ (local settings)."

clean:
	rm -rf $(VENV) instance/wizard.sqlite3* instance/config.py $(COMPILED)
