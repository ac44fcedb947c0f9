"""cleaner.segment's cut model: which candidate gaps a dump is cut at (how many stories it holds).

Kept apart from test_segment.py (the gap features, thresholds and cut positions) for length.
Boundary and cut models are stubs with fixed probabilities, except where fit_cuts is tested.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from cleaner import segment
from cleaner.segment import (
    BOUNDARY_THRESHOLD,
    CUT_CANDIDATE_MIN_P,
    CUT_NAMES,
    CUT_THRESHOLD,
    GAP_NAMES,
    HEADINGLESS_THRESHOLD,
    choose_cuts,
    cut_features,
    fit_cuts,
    gap_features,
    gap_features_many,
    pick_boundaries,
    segment_many,
)
from cleaner.types import AnnotatedDump, Label, Line

B, H = Label.BODY, Label.HEADLINE

HARBOUR = [
    "The harbour ferry resumed its crossings on Monday after the pier was rebuilt.",
    "Harbour pilots guided the ferry past the rebuilt pier at dawn.",
    "Ferry passengers queued along the harbour wall before the pier gates opened.",
    "The harbour master said the ferry timetable would expand in spring.",
]
ORCHARD = [
    "Growers across the valley lost most of their apple blossom to frost overnight.",
    "Orchard owners lit burners between the rows, but the frost still settled.",
    "Apple growers expect a smaller harvest, and cider makers worry about prices.",
    "The frost was the earliest in twenty years, orchard records show.",
]


class Stub:
    """A classifier whose probability for row k (over all its calls) is probs[k], cycled."""

    def __init__(self, probs: Sequence[float], *, width: int) -> None:
        self.probs = list(probs)
        self.width = width
        self.calls = 0

    def predict_proba(self, x: Any) -> np.ndarray:
        self.calls += 1
        assert x.shape[1] == self.width
        p = np.resize(np.asarray(self.probs or [0.0], dtype=np.float64), x.shape[0])
        return np.column_stack([1.0 - p, p])


def lines_of(texts: Sequence[str], *, label: Label = B) -> list[Line]:
    return [Line(number=i + 1, text=t, label=label, p=0.9) for i, t in enumerate(texts)]


def test_candidates_are_the_gaps_the_rule_picks_from_the_floor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dump = lines_of([*HARBOUR, *ORCHARD])
    content, x = gap_features(dump)
    p = np.asarray([0.0, 0.05, 0.0, 0.0, 0.0, 0.0, 0.3])
    found = cut_features(dump, content, x, p)[0]
    assert found == pick_boundaries(p, threshold=CUT_CANDIDATE_MIN_P) == [1, 6]
    # The floor is read when called, so a recipe comparison's --set reaches it.
    monkeypatch.setattr(segment, "CUT_CANDIDATE_MIN_P", 0.1)
    assert cut_features(dump, content, x, p)[0] == [6]


def test_cut_features_tell_a_change_of_topic_from_one_story() -> None:
    two = lines_of([*HARBOUR, *ORCHARD])
    content, x = gap_features(two)
    # Two candidates: the real change of topic (gap 3) and one inside the first story (gap 0).
    probs = np.asarray([0.3, 0, 0, 0.3, 0, 0, 0], dtype=np.float64)
    found, rows = cut_features(two, content, x, probs)
    assert found == [0, 3]
    assert rows.shape == (2, len(CUT_NAMES)) and np.isfinite(rows).all()
    column = {name: i for i, name in enumerate(CUT_NAMES)}
    inside, change = rows
    # The two halves at the change share fewer words, and two word models fit them better.
    assert change[column["global_cosine"]] < inside[column["global_cosine"]]
    assert change[column["split_gain"]] > inside[column["split_gain"]]
    # The gap's own features ride along, in GAP_NAMES order.
    assert rows[:, column[f"gap_{GAP_NAMES[0]}"]:].tolist() == x[[0, 3]].tolist()
    none, empty = cut_features(two, content, x, np.zeros(7))
    assert none == [] and empty.shape == (0, len(CUT_NAMES))


def test_cut_features_rank_the_candidates() -> None:
    dump = lines_of([*HARBOUR, *ORCHARD, *HARBOUR])
    content, x = gap_features(dump)
    probs = np.zeros(len(content) - 1)
    probs[[3, 7]] = [0.9, 0.2]
    _, rows = cut_features(dump, content, x, probs)
    column = {name: i for i, name in enumerate(CUT_NAMES)}
    strongest, weaker = rows
    assert strongest[column["logit_below_top"]] == 0.0
    assert weaker[column["logit_below_top"]] < 0.0
    assert strongest[column["logit_above_next"]] > 0.0
    assert strongest[column["log_rank"]] == 0.0
    assert weaker[column["log_rank"]] == pytest.approx(np.log1p(1))
    assert strongest[column["has_headline"]] == 0.0


def test_choose_cuts_cuts_the_candidates_the_model_backs_in_one_call() -> None:
    dumps = [lines_of([*HARBOUR, *ORCHARD]), lines_of(HARBOUR), lines_of([*ORCHARD, *HARBOUR])]
    gaps = gap_features_many(dumps)
    probs = [np.asarray([0, 0, 0, 0.4, 0, 0, 0.0]), np.zeros(3),
             np.asarray([0.5, 0, 0, 0, 0.6, 0, 0])]
    # Candidates in order: dump 0 gap 3; dump 2 gaps 0 and 4 (dump 1 has none).
    model = Stub([CUT_THRESHOLD, 0.9, CUT_THRESHOLD - 0.01], width=len(CUT_NAMES))
    assert choose_cuts(dumps, gaps, probs, model=model) == [[3], [], [0]]
    assert model.calls == 1


def test_with_a_cut_model_the_thresholds_no_longer_decide() -> None:
    dump = lines_of([*HARBOUR, *ORCHARD])
    # The boundary model scores gap 3 above the titled threshold and gap 1 below the
    # headingless one, but both are candidates: the cut model alone decides.
    p = [0.0, HEADINGLESS_THRESHOLD / 2, 0.0, 0.0, 0.0, BOUNDARY_THRESHOLD + 0.1, 0.0]
    boundary = Stub(p, width=len(GAP_NAMES))
    assert segment_many([dump], model=boundary) == [[0] * 6 + [1] * 2]
    no = Stub([0.0, 0.0], width=len(CUT_NAMES))
    assert segment_many([dump], model=boundary, cuts=no) == [[0] * 8]
    yes = Stub([1.0, 0.0], width=len(CUT_NAMES))
    assert segment_many([dump], model=boundary, cuts=yes) == [[0] * 2 + [1] * 6]


def _join(first: Sequence[str], second: Sequence[str], n: int) -> AnnotatedDump:
    lines = tuple(lines_of([*first, *second]))
    pages = tuple([0] * len(first) + [1] * len(second))
    return AnnotatedDump(f"bare:a-{n}+b-{n}", "bare", "test", lines, pages)


def _single(texts: Sequence[str], n: int) -> AnnotatedDump:
    lines = tuple(lines_of([f"A headline number {n}", *texts]))
    lines = (Line(1, lines[0].text, label=H, p=0.95), *lines[1:])
    return AnnotatedDump(f"page-{n}", "page", "test", lines, (0,) * len(lines))


def test_fit_cuts_learns_from_boundary_scores_out_of_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    dumps = [_join(HARBOUR[: 2 + n % 3], ORCHARD, n) for n in range(12)]
    dumps += [_single(HARBOUR + ORCHARD[:1], n) for n in range(12)]
    folds = np.arange(len(dumps), dtype=np.int64) % 3
    fitted_on: list[int] = []
    real_fit = segment._fit_boundary

    def spy(pairs: Sequence[tuple[Any, Any]], *, seed: int) -> Any:
        fitted_on.append(sum(len(y) for _, y in pairs))
        return real_fit(pairs, seed=seed)

    monkeypatch.setattr(segment, "_fit_boundary", spy)
    model = fit_cuts(dumps, folds, seed=1)
    assert model is not None and model.n_features_in_ == len(CUT_NAMES)
    # One boundary model per fold, each on the other two folds' gaps only.
    all_gaps = sum(len(gap_features(list(d.lines))[0]) - 1 for d in dumps)
    assert len(fitted_on) == 3 and all(n < all_gaps for n in fitted_on)
    again = fit_cuts(dumps, folds, seed=1)
    content, x = gap_features(list(dumps[0].lines))
    rows = cut_features(list(dumps[0].lines), content, x, np.full(len(x), 0.5))[1]
    assert np.array_equal(model.predict_proba(rows), again.predict_proba(rows))


def test_fit_cuts_without_anything_to_learn_is_none() -> None:
    singles = [_single(HARBOUR, n) for n in range(6)]
    assert fit_cuts(singles, np.arange(6, dtype=np.int64) % 3, seed=1) is None
    assert fit_cuts([], np.zeros(0, dtype=np.int64), seed=1) is None


def test_cut_settings_are_read_when_fitting(monkeypatch: pytest.MonkeyPatch) -> None:
    dumps = [_join(HARBOUR[: 2 + n % 3], ORCHARD, n) for n in range(9)]
    dumps += [_single(HARBOUR + ORCHARD[:1], n) for n in range(9)]
    monkeypatch.setattr(segment, "CUT_ROUNDS", 5)
    monkeypatch.setattr(segment, "CUT_LEAVES", 3)
    monkeypatch.setattr(segment, "CUT_L2", 4.0)
    model = fit_cuts(dumps, np.arange(len(dumps), dtype=np.int64) % 3, seed=1)
    assert (model.max_iter, model.max_leaf_nodes, model.l2_regularization) == (5, 3, 4.0)

