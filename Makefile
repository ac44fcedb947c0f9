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

# The coverage-guided fuzzer (atheris) over the readers, tests/fuzz_read.py, for FUZZ_SECONDS.
# Seeds: the fixtures and the kept findings; new inputs go to build/fuzz/corpus. A finding stops
# the run with a non-zero exit and its input in build/fuzz/: keep it in tests/regressions/read/,
# where pytest replays it (tests/test_fuzz.py), and fix the reader.
FUZZ_SECONDS ?= 90
FUZZ_STAMP := $(VENV)/.installed-fuzz
FUZZ_SEEDS := $(wildcard fixtures/dumps fixtures/html fixtures/weak) tests/regressions/read

$(FUZZ_STAMP): $(STAMP)
	$(PY) -m pip install -q -c requirements.lock -e '.[fuzz]'
	touch $(FUZZ_STAMP)

.PHONY: fuzz
fuzz: $(FUZZ_STAMP)
	mkdir -p build/fuzz/corpus
	# -timeout: one input taking 30 s is a hang; -rss_limit_mb: issue 5's 2 GB memory bound.
	$(PY) tests/fuzz_read.py -max_total_time=$(FUZZ_SECONDS) -timeout=30 -rss_limit_mb=2048 \
		-artifact_prefix=build/fuzz/ -print_final_stats=1 build/fuzz/corpus $(FUZZ_SEEDS)

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
	$(VENV)/bin/cleaner train $(CORPUS) fixtures/annotated/train.jsonl fixtures/annotated/layouts.jsonl fixtures/annotated/blogs.jsonl --holdout --seed 20261122 --exclude fixtures/exclusions.txt --word-pairs 12 -o models/cleaner.joblib

bench: $(STAMP)
	mkdir -p bench/out
	$(PY) -m bench.run --corpus $(CORPUS) --seeds fixtures/seeds --json bench/out/scores.json
	$(PY) -m bench.noise --corpus $(CORPUS)
	$(PY) -m bench.headroom --corpus $(CORPUS)
	$(PY) -m bench.speed --corpus $(CORPUS)
	$(PY) -m bench.weak --corpus $(CORPUS)
	$(PY) -m bench.batch

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
