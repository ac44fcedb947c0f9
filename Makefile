# Every target sets up its own virtualenv with pinned installs (requirements.lock).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SHARED ?= ../shared
CORPUS ?= $(SHARED)/corpus/train.jsonl

.PHONY: setup run test lint typecheck check train bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	# The venv's stock pip leaves trafilatura unimportable (lxml's html-clean extra): upgrade first.
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e '.[dev,bench,parquet,dask]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/cleaner split fixtures/dumps/*.txt

test: $(STAMP)
	$(PY) -m ruff check cleaner tests bench
	$(PY) -m mypy
	$(PY) -m pytest

# Debian's chromium, for the review page's test in a real browser (tests/test_review.py skips,
# saying why, where it is missing). Needs root and the apt registry; a no-op once installed.
.PHONY: browser
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q chromium; }

lint: $(STAMP)
	$(PY) -m ruff check cleaner tests bench

typecheck: $(STAMP)
	$(PY) -m mypy

train: $(STAMP)
	# The shipped model is built by the user-facing command; 20261122 is the shipped seed.
	$(VENV)/bin/cleaner train $(CORPUS) fixtures/annotated/train.jsonl --holdout --seed 20261122 -o models/cleaner.joblib

bench: $(STAMP)
	mkdir -p bench/out
	$(PY) -m bench.run --corpus $(CORPUS) --seeds fixtures/seeds --json bench/out/scores.json
	$(PY) -m bench.speed --corpus $(CORPUS)
	$(PY) -m bench.batch

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
