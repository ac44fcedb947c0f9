"""Hypothesis profiles, and the shipped model as a fixture shared by every test module.

`pytest --model PATH` gives the tests another model file instead of the shipped one: for example
`pytest tests/test_quality.py --model candidate.joblib` holds a candidate to the gate's floors,
the seeds' counts, titles and leaks, and the known misses (a strict xfail that passes then says
the candidate fixes that miss).

Profiles: small and fast by default, at scale in CI (HYPOTHESIS_PROFILE=ci).

A test that sets its own max_examples keeps it; every other property runs as many examples as
the profile says. `.ci/run` selects "ci"; `fuzz` is the long run over random bytes when atheris
is not at hand (`HYPOTHESIS_PROFILE=fuzz pytest tests/test_fuzz.py`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from cleaner.label import Model, default_model_path, load_model

# Local runs share two cores with other work: a quick look, not a search.
DEV_EXAMPLES = 30
# Issue 5's bar: at least 500 examples per property in CI.
CI_EXAMPLES = 500
FUZZ_EXAMPLES = 20_000
# The pipeline's first call loads the model (about a second); examples are otherwise fast but
# uneven (a 20,000-character word takes longer than "a"), so no per-example deadline.
SLOW_OK = [HealthCheck.too_slow]

settings.register_profile("dev", max_examples=DEV_EXAMPLES, deadline=None)
settings.register_profile(
    "ci", max_examples=CI_EXAMPLES, deadline=None, suppress_health_check=SLOW_OK, print_blob=True
)
settings.register_profile(
    "fuzz", max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=SLOW_OK,
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_addoption(parser: pytest.Parser) -> None:
    """--model: the model file the `model` fixture loads (default: the shipped one)."""
    parser.addoption("--model", default=None, metavar="PATH",
                     help="model file for the tests (default: the shipped model)")


@pytest.fixture(scope="session")
def model(request: pytest.FixtureRequest) -> Model:
    """The shipped model (or --model's), loaded once for the whole run; skips when not built."""
    given = request.config.getoption("--model")
    if given is not None:
        return load_model(Path(given))
    path = default_model_path()
    if not path.exists():
        pytest.skip(f"shipped model {path} not built yet (`make train`, then commit it)")
    return load_model(path)


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the repository root, so fixture paths are given as a user would give them."""
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
