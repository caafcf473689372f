# Two commands for a fresh machine: `make run` and `make test`.
# Both create .venv and install the pinned dependencies (constraints.txt) on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean lock

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "okrbot needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/okrbot run

# The tests in two workers, then the `paced` ones (rates, waits) alone on a quiet machine.
test: lint
	$(BIN)/pytest -n 2 -m "not paced"
	$(BIN)/pytest -m paced

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python bench/commands.py
	$(BIN)/python bench/parse.py
	$(BIN)/python bench/slack_command.py
	$(BIN)/python bench/teams_command.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/send_cost.py
	$(BIN)/python bench/digest.py

# Re-pin after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache okrbot.db okrbot.db-wal okrbot.db-shm
