# The two commands of the README. Each creates .venv (Python 3.11+) on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: run test lint typecheck unit clean i18n bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## run: the demo: the whole loop (meeting, requests, replies, digest) in ./demo, no set-up needed,
## then the case manager's desk on 127.0.0.1 with a one-time sign-in link (Ctrl-C stops it)
run: $(BIN)/.installed
	$(BIN)/iep-followup demo --dir demo --serve

## test: lint, type-check and run the whole test suite
test: lint typecheck
	$(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

## bench: the district-scale benchmark (not part of the tests); e.g. make bench BENCH="--sizes 2000 --backends sqlite"
bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks.run $(BENCH)

unit: $(BIN)/.installed
	$(BIN)/pytest tests/unit

clean:
	rm -rf $(VENV) demo dist build .pytest_cache .mypy_cache .ruff_cache

## i18n: refresh the message catalog template and merge it into each language's .po
i18n: $(BIN)/.installed
	$(BIN)/pybabel extract -F email_templates/babel.cfg -k N_ --sort-by-file -w 100 \
		-o email_templates/locale/messages.pot email_templates src/iep_followup/mail \
		src/iep_followup/vocabulary.py
	$(BIN)/pybabel update -w 100 -i email_templates/locale/messages.pot -d email_templates/locale
