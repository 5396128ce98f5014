# Two entry points, as in the README: `make edition` and `make test`.
# Both set up a virtual environment in .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: edition test validate schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

edition: $(STAMP)
	$(BIN)/edition build

validate: $(STAMP)
	$(BIN)/edition validate

schema: $(STAMP)
	$(BIN)/edition schema

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf build
