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

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
