"""Regression cases kept from property and fuzz findings (tests/regressions/), one test each.

`batch/*.json`: texts whose labels must not depend on being cleaned together or one by one.
A case whose bug is known and not fixed yet is a strict xfail naming it: fixing the bug turns
it into a failure (XPASS), and the marker goes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cleaner.label import Model
from cleaner.pipeline import clean_documents
from cleaner.types import Document

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
BATCH_CASES = sorted((REGRESSIONS / "batch").glob("*.json"))
# Case stem -> the known, unfixed bug it shows (a strict xfail). None open now: the batch case
# (float running sums across dumps in label.context_matrix) was fixed with per-dump sums.
KNOWN_BUGS: dict[str, str] = {}


def known(path: Path) -> pytest.MarkDecorator | tuple[()]:
    """The strict xfail marker of a case whose bug is known, else no marker."""
    reason = KNOWN_BUGS.get(path.stem)
    return pytest.mark.xfail(reason=reason, strict=True) if reason else ()


@pytest.mark.parametrize(
    "path", [pytest.param(p, marks=known(p), id=p.stem) for p in BATCH_CASES]
)
def test_batch_case_equals_one_by_one(model: Model, path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    docs = [Document(f"d{i}", text) for i, text in enumerate(case["texts"])]
    batch = clean_documents(docs, model=model, detect_language=False)
    alone = [clean_documents([doc], model=model, detect_language=False)[0] for doc in docs]
    assert batch == alone
