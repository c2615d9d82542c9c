# `make run` and `make test` do all the set-up they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app

.PHONY: run test setup clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The embedded default: SQLite under instance/, e-mails as .eml files in
# instance/mail/, the SPOD4 catalogue and demo terms seeded, an outbox worker
# beside the web server.
run: setup
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) seed --demo
	$(FLASK) outbox work & trap "kill $$!" EXIT; $(FLASK) run --debug

# ical.js (Thunderbird's parser) reads every .ics the tests produce.
ICALJS := tests/js/node_modules/.package-lock.json
$(ICALJS): tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error \
	  || echo "npm failed: the ical.js checks will be skipped (CI requires them)"

test: setup $(ICALJS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
