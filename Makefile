# `make run` and `make test` do all the set-up they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app

.PHONY: run test setup clean chromium icu pango

setup: $(VENV)/.installed

# PyICU (Czech collation) compiles against the system ICU; apt-get runs only when it is missing.
icu:
	@pkg-config --exists icu-uc 2>/dev/null || { apt-get update -qq && apt-get install -y -qq libicu-dev pkg-config; } \
	  || echo "libicu-dev could not be installed: pip install of pyicu will fail"

# WeasyPrint (the PDFs) loads Pango and HarfBuzz's subsetter at run time; apt-get runs only when one is missing.
pango:
	@{ ldconfig -p | grep -q 'libpango-1.0.so' && ldconfig -p | grep -q 'libpangoft2-1.0.so' \
	   && ldconfig -p | grep -q 'libharfbuzz-subset.so'; } \
	  || { apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; } \
	  || echo "Pango could not be installed: the PDF downloads will fail"

$(VENV)/.installed: requirements.txt requirements-dev.txt | icu pango
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The embedded default: SQLite under instance/, e-mails as .eml files in
# instance/mail/, the SPOD4 catalogue and demo terms seeded, an outbox worker
# and a documents worker (a term's osvědčení) beside the web server.
run: setup
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) seed --demo
	$(FLASK) outbox work & OUTBOX=$$!; $(FLASK) documents work & trap "kill $$OUTBOX $$!" EXIT; $(FLASK) run --debug

# ical.js (Thunderbird's parser) reads every .ics the tests produce; axe-core and the
# Nu HTML Checker (vnu-jar, run with java) check every page in tests/test_browser.py.
ICALJS := tests/js/node_modules/.package-lock.json
$(ICALJS): tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error \
	  || echo "npm failed: the ical.js and browser checks will be skipped (CI requires them)"

# Debian's Chromium for the browser tests (Playwright drives it; its own browser download is not used).
# apt-get runs only when it is missing; without it those tests are skipped (CI requires them).
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { apt-get update -qq && apt-get install -y -qq chromium; } \
	  || echo "chromium could not be installed: the browser tests will be skipped (CI requires them)"

# pytest-xdist workers, each given whole files (the fuzz counts its requests within its module).
# By default the slow tests are skipped and the fuzz runs a small budget; the quick tests wait on
# PostgreSQL about as much as they compute, so three workers on two cores finish sooner (2 min 50 s
# against 3 min). SPOD4_FULL_TESTS=1 runs everything with the full budget, as CI does, on two
# workers: its timing and burst tests want a core each.
TEST_WORKERS ?= $(if $(SPOD4_FULL_TESTS),2,3)
test: setup $(ICALJS) chromium
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
