# The two commands of the README: `make demo` and `make test`.
# Each creates .venv on first use and installs panelpress into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench bench-scale clean

demo: $(STAMP)
	$(BIN)/panelpress build --show .

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/mastering.py

bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) public .panelpress-cache
