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
	@# The Nu HTML Checker for the tests (vnu.jar, from npm); without npm or Java that test skips and says why.
	@if command -v npm >/dev/null 2>&1; then \
		npm install --silent --no-audit --no-fund --no-save --prefix $(VENV)/npm vnu-jar@26 || echo "npm could not install vnu-jar: the HTML checker test will skip"; \
	else echo "no npm: the HTML checker test will skip"; fi
	touch $(STAMP)

clean:
	rm -rf $(VENV) public .panelpress-cache
