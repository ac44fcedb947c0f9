"""bench.headroom: the segmenter told the gold number of stories, beside the shipped one."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bench.headroom import gold_cuts, predictions, table, top_gaps
from cleaner.annotated import read_dumps
from cleaner.evaluate import predict_lines, runs, strip_gold
from cleaner.label import Model

GATE = Path(__file__).resolve().parent.parent / "fixtures" / "annotated" / "gate.jsonl"


@given(st.lists(st.floats(0, 1), max_size=30), st.integers(0, 6), st.integers(0, 4))
def test_top_gaps_is_greedy_by_score_with_suppression(
    probs: list[float], count: int, reach: int
) -> None:
    p = np.asarray(probs, dtype=np.float64)
    picked = top_gaps(p, count, reach=reach)
    assert picked == sorted(set(picked))
    assert len(picked) <= count
    assert all(b - a > reach for a, b in itertools.pairwise(picked))
    if len(picked) < count:
        # It stopped early only because every other gap sits next to a picked, stronger one.
        for g in range(len(p)):
            assert any(abs(g - q) <= reach and p[q] >= p[g] for q in picked)
    if count and len(p):
        assert int(np.argmax(p)) in picked


def test_told_segmentation_makes_the_gold_number_of_cuts(model: Model) -> None:
    dumps = [d for d in read_dumps(GATE) if d.kind in ("concat", "bare")]
    shipped, told = predictions(dumps, model)
    # The shipped row is what `cleaner eval` predicts.
    assert shipped == predict_lines([strip_gold(d) for d in dumps], model)
    for dump, ours, theirs in zip(dumps, shipped, told, strict=True):
        assert ours.labels == theirs.labels  # the same labels; only the cuts differ
        # At most the gold number of cuts (fewer where a cut would leave a segment bodyless).
        assert max(runs(theirs.segments)) <= gold_cuts(dump)


def test_table_has_both_rows_and_every_kind(model: Model) -> None:
    dumps = [d for d in read_dumps(GATE) if d.kind in ("concat", "bare")]
    text = table("Gate", dumps, model)
    assert "| cleaner |" in text
    assert "| cleaner, told the gold number of stories |" in text
    assert "concat 4, bare 6" in text
