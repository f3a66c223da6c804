# The two commands of the README: `make demo` and `make test`.
# Each creates .venv on first use and installs panelpress into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format bench bench-scale docs docs-serve clean

demo: $(STAMP)
	$(BIN)/panelpress build --show .

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .

format: $(STAMP)
	$(BIN)/python -m ruff check --fix .
	$(BIN)/python -m ruff format .

# Every figure of docs/benchmarks.md side by side, each against its baseline of the same run: a short run by
# default (about 10 minutes), `make bench BENCH=full` for the published figures (60-minute panels, 1,000 episodes).
BENCH ?= short
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/all.py --mode $(BENCH)

bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py

# The documentation site (docs/, mkdocs.yml) into site/; the reference pages are made from the code as it builds.
docs: $(STAMP)
	$(BIN)/python -m mkdocs build --strict

docs-serve: $(STAMP)
	$(BIN)/python -m mkdocs serve

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# From npm, for the tests: the Nu HTML Checker (vnu.jar) and Eleventy (the blog tests build an Eleventy blog with it).
	@# One install for both (a second `npm install --no-save` would remove the first); without npm those tests skip and say why.
	@if command -v npm >/dev/null 2>&1; then \
		npm install --silent --no-audit --no-fund --no-save --prefix $(VENV)/npm vnu-jar@26 @11ty/eleventy@3 || echo "npm could not install vnu-jar and Eleventy: the HTML checker and Eleventy tests will skip"; \
	else echo "no npm: the HTML checker and Eleventy tests will skip"; fi
	touch $(STAMP)

clean:
	rm -rf $(VENV) public .panelpress-cache
