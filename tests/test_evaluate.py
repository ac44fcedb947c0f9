"""Scores of cleaner.evaluate: hand-computed tiny cases and invariants."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.metrics import segmentation as nltk_segmentation

from cleaner.errors import DataError
from cleaner.evaluate import (
    ALL_KINDS,
    Floors,
    Prediction,
    confusion_matrix,
    evaluate,
    evaluate_by_kind,
    evaluate_model,
    format_scores,
    line_scores,
    metric,
    missed_floors,
    pk,
    predict_lines,
    prf,
    read_floors,
    runs,
    scores_json,
    strip_gold,
    token_prf,
    tokens,
    window_diff,
    window_size,
)
from cleaner.features import vocabulary
from cleaner.label import Model
from cleaner.types import LABELS, AnnotatedDump, Label, Line

B, H, Y, T, C, P = (
    Label.BODY,
    Label.HEADLINE,
    Label.BYLINE,
    Label.TEASER,
    Label.COMMENT,
    Label.BOILERPLATE,
)


def make_dump(
    rows: Sequence[tuple[str, Label, int]], *, kind: str = "concat", dump_id: str = "d"
) -> AnnotatedDump:
    """A dump from (text, gold label, page) rows."""
    lines = tuple(
        Line(number=i, text=text, label=label, p=1.0)
        for i, (text, label, _) in enumerate(rows, start=1)
    )
    return AnnotatedDump(
        id=dump_id, kind=kind, origin="test", lines=lines, pages=tuple(p for _, _, p in rows)
    )


def perfect(dump: AnnotatedDump) -> Prediction:
    """The prediction that copies the gold labels and pages."""
    labels = tuple(line.label or P for line in dump.lines)
    return Prediction(labels=labels, segments=tuple(runs(dump.pages)))


# --- Prediction ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "segments"),
    [
        pytest.param((B, B), (0,), id="length-mismatch"),
        pytest.param((B, B), (1, 0), id="decreasing"),
        pytest.param((B,), (-1,), id="negative"),
    ],
)
def test_prediction_rejects_malformed(labels: tuple[Label, ...], segments: tuple[int, ...]) -> None:
    with pytest.raises(DataError):
        Prediction(labels=labels, segments=segments)


def test_evaluate_rejects_prediction_of_wrong_length() -> None:
    dump = make_dump([("a", B, 0), ("b", B, 0)])
    with pytest.raises(DataError, match="2 lines"):
        evaluate([(dump, Prediction(labels=(B,), segments=(0,)))])


# --- small arithmetic ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        pytest.param((1, 1, 1), (0.5, 0.5, 0.5), id="half"),
        pytest.param((2, 0, 2), (1.0, 0.5, 2 / 3), id="precise"),
        pytest.param((0, 0, 0), (1.0, 1.0, 1.0), id="empty-vs-empty"),
        pytest.param((0, 0, 3), (0.0, 0.0, 0.0), id="nothing-predicted"),
        pytest.param((0, 3, 0), (0.0, 0.0, 0.0), id="nothing-to-find"),
    ],
)
def test_prf(counts: tuple[int, int, int], expected: tuple[float, float, float]) -> None:
    assert prf(*counts) == pytest.approx(expected)


def test_runs_renumbers_changes() -> None:
    assert runs([3, 3, 5, 3]) == [0, 0, 1, 2]
    assert runs([]) == []


# --- line labels --------------------------------------------------------------------------------


def test_line_scores_hand_computed() -> None:
    gold = [B, B, P, H]
    predicted = [B, P, P, B]
    scores = line_scores(confusion_matrix(gold, predicted))
    body = scores.per_label["body"]
    assert (body.precision, body.recall, body.f1) == pytest.approx((0.5, 0.5, 0.5))
    assert (body.support, body.predicted) == (2, 2)
    boilerplate = scores.per_label["boilerplate"]
    assert (boilerplate.precision, boilerplate.recall, boilerplate.f1) == pytest.approx(
        (0.5, 1.0, 2 / 3)
    )
    headline = scores.per_label["headline"]
    assert (headline.precision, headline.recall, headline.f1) == (0.0, 0.0, 0.0)
    # teaser, comment, byline occur nowhere: 1.0 each, left out of the macro average.
    assert scores.per_label["teaser"].f1 == 1.0
    assert scores.macro_f1 == pytest.approx((0.5 + 2 / 3 + 0.0) / 3)
    assert scores.body_f1 == pytest.approx(0.5)
    assert scores.accuracy == pytest.approx(0.5)
    assert scores.confusion[LABELS.index(H)][LABELS.index(B)] == 1


def test_line_scores_pool_lines_not_dumps() -> None:
    # Dump 1: 1 body line, missed. Dump 2: 3 body lines, all found. Pooled recall 3/4 (the mean of
    # per-dump recalls would be 1/2).
    one = make_dump([("a", B, 0), ("b", P, 0)])
    two = make_dump([("c", B, 0), ("d", B, 0), ("e", B, 0)])
    scores = evaluate(
        [
            (one, Prediction(labels=(P, P), segments=(0, 0))),
            (two, Prediction(labels=(B, B, B), segments=(0, 0, 0))),
        ]
    )
    assert scores.lines.body_recall == pytest.approx(0.75)
    assert scores.lines.body_precision == pytest.approx(1.0)
    assert (scores.n_dumps, scores.n_lines) == (2, 5)


# --- segmentation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        pytest.param([0] * 10, 5, id="one-segment"),
        pytest.param([0] * 5, 3, id="half-up"),
        pytest.param([0, 0, 0, 1, 1, 1, 1, 1, 1], 2, id="two-segments"),
        pytest.param([0, 1], 2, id="floor-at-2"),
        pytest.param([], 2, id="empty"),
    ],
)
def test_window_size(pages: list[int], expected: int) -> None:
    assert window_size(pages) == expected


@pytest.mark.parametrize(
    ("reference", "hypothesis", "k", "expected_pk", "expected_wd"),
    [
        # Pairs (0,2) (1,3) (2,4) (3,5): the never-cutting hypothesis misses (1,3) and (2,4).
        pytest.param([0, 0, 0, 1, 1, 1], [0] * 6, 2, 0.5, 0.5, id="no-cut"),
        # Cut one line early: (0,2) is wrongly apart, (2,4) wrongly together.
        pytest.param([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 1], 2, 0.5, 0.5, id="near-miss"),
        # Missing one of two close cuts: Pk errs only at (3,5); WindowDiff also at (2,4), where
        # both are "apart" but the boundary counts are 2 and 1.
        pytest.param([0, 0, 0, 1, 2, 2], [0, 0, 0, 1, 1, 1], 2, 0.25, 0.5, id="wd-counts"),
        pytest.param([0, 0, 1, 1], [0, 0, 1, 1], 2, 0.0, 0.0, id="exact"),
        # Too short for k=2: k shrinks to 1 and the single pair is wrongly together.
        pytest.param([0, 1], [0, 0], 2, 1.0, 1.0, id="short"),
        pytest.param([0], [0], 2, 0.0, 0.0, id="one-line"),
        pytest.param([], [], 2, 0.0, 0.0, id="empty"),
    ],
)
def test_pk_and_window_diff_hand_computed(
    reference: list[int], hypothesis: list[int], k: int, expected_pk: float, expected_wd: float
) -> None:
    assert pk(reference, hypothesis, k=k) == pytest.approx(expected_pk)
    assert window_diff(reference, hypothesis, k=k) == pytest.approx(expected_wd)


def _boundary_string(segments: Sequence[int]) -> str:
    """nltk's segmentation string: one character per gap, "1" where a segment ends."""
    return "".join("1" if a != b else "0" for a, b in itertools.pairwise(segments))


segmentations = st.lists(st.booleans(), min_size=3, max_size=40).map(
    lambda cuts: [sum(cuts[: i + 1]) for i in range(len(cuts))]
)


@given(reference=segmentations, hypothesis=segmentations, k=st.integers(min_value=1, max_value=6))
def test_pk_and_window_diff_agree_with_nltk(
    reference: list[int], hypothesis: list[int], k: int
) -> None:
    n = min(len(reference), len(hypothesis))
    reference, hypothesis = reference[:n], hypothesis[:n]
    k = min(k, n - 1)
    ref, hyp = _boundary_string(reference), _boundary_string(hypothesis)
    assert pk(reference, hypothesis, k=k) == pytest.approx(nltk_segmentation.pk(ref, hyp, k))
    assert window_diff(reference, hypothesis, k=k) == pytest.approx(
        nltk_segmentation.windowdiff(ref, hyp, k)
    )


def test_count_exact_counts_records_with_content_lines() -> None:
    # Gold: page 0 (headline + body), page 1 (only boilerplate: no article), page 2 (byline only).
    dump = make_dump(
        [("Title", H, 0), ("text one", B, 0), ("Menu", P, 1), ("By Jo", Y, 2), ("Share", P, 2)]
    )
    # Two predicted segments with content and one with only boilerplate: 2 records == 2 articles.
    right = Prediction(labels=(H, B, Y, P, P), segments=(0, 0, 1, 1, 2))
    wrong = Prediction(labels=(H, B, P, P, P), segments=(0, 0, 1, 1, 2))
    assert evaluate([(dump, right)]).segmentation.count_exact == 1.0
    assert evaluate([(dump, wrong)]).segmentation.count_exact == 0.0


# --- records ------------------------------------------------------------------------------------


def test_token_prf_is_multiset_overlap() -> None:
    # Overlap {a: 1, b: 1} = 2 of 3 tokens on each side.
    assert token_prf(tokens("a a b"), tokens("A, b b.")) == pytest.approx((2 / 3, 2 / 3, 2 / 3))


def test_record_scores_hand_computed() -> None:
    dump = make_dump(
        [
            ("Title", H, 0),
            ("the cat sat", B, 0),
            ("menu", P, 0),
            ("dogs bark loudly", B, 1),
            ("Only a headline", H, 2),  # an article without body: not scored
        ]
    )
    # One record of everything: 11 tokens, each gold article finds its 3 tokens in it.
    lump = Prediction(labels=(B,) * 5, segments=(0,) * 5)
    scores = evaluate([(dump, lump)]).records
    assert scores.n_articles == 2
    assert scores.precision == pytest.approx(3 / 11)
    assert scores.recall == pytest.approx(1.0)
    assert scores.f1 == pytest.approx(2 * (3 / 11) / (1 + 3 / 11))
    # Split right, but the second article's body labelled boilerplate: its segment is no record,
    # so it can only match record 0 or the body-less record 2 (F1 0); the first is perfect.
    half = Prediction(labels=(H, B, P, P, H), segments=(0, 0, 0, 1, 2))
    assert evaluate([(dump, half)]).records.f1 == pytest.approx(0.5)


def test_record_best_match_is_by_f1() -> None:
    dump = make_dump([("a b c d", B, 0), ("e f", B, 0), ("g", B, 0)])
    prediction = Prediction(labels=(B, B, B), segments=(0, 1, 2))
    # One gold article of 7 tokens cut into three records, each all precision: "a b c d" (R 4/7,
    # F1 8/11) beats "e f" (F1 4/9) and "g" (F1 1/4).
    scores = evaluate([(dump, prediction)]).records
    assert (scores.precision, scores.recall, scores.f1) == pytest.approx((1.0, 4 / 7, 8 / 11))


def test_record_best_match_ties_keep_the_first_record() -> None:
    dump = make_dump([("a b", B, 0), ("c d", P, 0), ("a", P, 1)])
    prediction = Prediction(labels=(B, B, B), segments=(0, 0, 1))
    # Gold "a b" against "a b c d" (P 1/2, R 1) and "a" (P 1, R 1/2): both F1 2/3, the first wins.
    scores = evaluate([(dump, prediction)]).records
    assert (scores.precision, scores.recall, scores.f1) == pytest.approx((0.5, 1.0, 2 / 3))


# --- pooling, kinds, JSON -----------------------------------------------------------------------


def test_evaluate_by_kind_groups_and_pools() -> None:
    page = make_dump([("x", B, 0), ("y", P, 0)], kind="page")
    bare = make_dump([("a", B, 0), ("b", B, 1)], kind="bare")
    pairs = [
        (page, Prediction(labels=(B, B), segments=(0, 0))),
        (bare, Prediction(labels=(B, B), segments=(0, 0))),
    ]
    by_kind = evaluate_by_kind(pairs)
    assert set(by_kind) == {"page", "bare", ALL_KINDS}
    assert by_kind["page"].segmentation.pk == 0.0
    assert by_kind["bare"].segmentation.pk == 1.0
    assert by_kind[ALL_KINDS].segmentation.pk == pytest.approx(0.5)
    assert by_kind["bare"].lines.macro_f1 == 1.0  # only body occurs, and all of it is right
    assert by_kind[ALL_KINDS].n_lines == 4


def test_to_dict_is_json() -> None:
    dump = make_dump([("Title", H, 0), ("Body text.", B, 0)])
    data = evaluate([(dump, perfect(dump))]).to_dict()
    again = json.loads(json.dumps(data))
    assert again["lines"]["per_label"]["body"]["f1"] == 1.0
    assert again["records"]["n_articles"] == 1
    empty = json.loads(json.dumps(evaluate([]).to_dict()))
    assert empty["segmentation"]["pk"] is None
    assert empty["records"]["f1"] is None


# --- invariants ---------------------------------------------------------------------------------

WORDS = ["the", "cat", "news", "vote", "rain", "Home", "share", "2019"]
texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join)
rows = st.lists(
    st.tuples(texts, st.sampled_from(LABELS), st.booleans()), min_size=1, max_size=30
).map(
    lambda items: [
        (text, label, sum(cut for _, _, cut in items[1 : i + 1]))
        for i, (text, label, _) in enumerate(items)
    ]
)
dumps = rows.map(make_dump)


@st.composite
def dump_and_prediction(draw: st.DrawFn) -> tuple[AnnotatedDump, Prediction]:
    """A random dump and a random (valid) prediction for it."""
    dump = draw(dumps)
    n = len(dump.lines)
    labels = tuple(draw(st.lists(st.sampled_from(LABELS), min_size=n, max_size=n)))
    cuts = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    segments = tuple(sum(cuts[1 : i + 1]) for i in range(n))
    return dump, Prediction(labels=labels, segments=segments)


@settings(max_examples=200)
@given(dump=dumps)
def test_perfect_prediction_scores_perfectly(dump: AnnotatedDump) -> None:
    scores = evaluate([(dump, perfect(dump))])
    assert scores.lines.body_f1 == 1.0
    assert scores.lines.macro_f1 == 1.0
    assert scores.segmentation.pk == 0.0
    assert scores.segmentation.window_diff == 0.0
    assert scores.segmentation.count_exact == 1.0
    assert scores.records.f1 in (None, 1.0)


@settings(max_examples=200)
@given(pairs=st.lists(dump_and_prediction(), min_size=1, max_size=4))
def test_scores_are_in_unit_interval(pairs: list[tuple[AnnotatedDump, Prediction]]) -> None:
    for scores in evaluate_by_kind(pairs).values():
        values = [
            scores.lines.body_f1,
            scores.lines.macro_f1,
            scores.segmentation.pk,
            scores.segmentation.window_diff,
            scores.segmentation.count_exact,
            scores.records.precision,
            scores.records.recall,
            scores.records.f1,
            *(s.f1 for s in scores.lines.per_label.values()),
        ]
        assert all(v is None or 0.0 <= v <= 1.0 for v in values)
        assert sum(map(sum, scores.lines.confusion)) == scores.n_lines


@given(pair=dump_and_prediction())
def test_evaluate_is_deterministic(pair: tuple[AnnotatedDump, Prediction]) -> None:
    assert evaluate([pair]).to_dict() == evaluate([pair]).to_dict()


# --- scoring a model, and the report ----------------------------------------------------------


class Constant:
    """A stand-in estimator: every row gets all its probability on one column."""

    def __init__(self, column: int, columns: int) -> None:
        self.column, self.columns = column, columns
        self.classes_ = np.arange(columns)

    def transform(self, x: Any) -> Any:
        return np.zeros(x.shape)

    def predict_proba(self, x: Any) -> Any:
        out = np.zeros((x.shape[0], self.columns))
        out[:, self.column] = 1.0
        return out


def constant_model(label: Label) -> Model:
    """A model that labels every line `label` and never cuts an article."""
    k = LABELS.index(label)
    estimators = {"scaler": Constant(0, 1), "lines": Constant(k, len(LABELS)),
                  "context": Constant(k, len(LABELS)), "boundary": Constant(0, 2),
                  "position": Constant(0, 2)}
    return Model(estimators, {}, vocabulary())


def test_strip_gold_hides_labels_and_pages() -> None:
    dump = make_dump([("a", H, 0), ("b", B, 1)])
    lines = strip_gold(dump)
    assert [(ln.number, ln.text, ln.label, ln.p) for ln in lines] == [
        (1, "a", None, None), (2, "b", None, None)]


@pytest.mark.parametrize("batch_size", [1, 2, 64], ids=["one", "uneven", "all"])
@pytest.mark.parametrize("label", [B, P], ids=["body", "boilerplate"])
def test_evaluate_model_scores_what_the_model_predicts(batch_size: int, label: Label) -> None:
    dumps = [make_dump([("t", H, 0), ("b", B, 0), ("c", B, 1)], dump_id="x"),
             make_dump([("one", B, 0)], kind="bare", dump_id="y"),
             make_dump([("p", P, 0), ("q", C, 0)], kind="page", dump_id="z")]
    model = constant_model(label)
    predictions = predict_lines([strip_gold(d) for d in dumps], model)
    assert predictions == [Prediction((label,) * len(d.lines), (0,) * len(d.lines))
                           for d in dumps]
    by_kind = evaluate_model(dumps, model, by_kind=True, batch_size=batch_size)
    assert by_kind == evaluate_by_kind(zip(dumps, predictions, strict=True))
    assert set(by_kind) == {"concat", "bare", "page", ALL_KINDS}
    assert evaluate_model(dumps, model, batch_size=batch_size) == {ALL_KINDS: by_kind[ALL_KINDS]}


def test_format_scores_table() -> None:
    dump = make_dump([("Title", H, 0), ("first words", B, 0), ("More", B, 1), ("ad", P, 1)])
    guess = Prediction((H, B, B, B), (0, 0, 0, 0))
    scores = evaluate_by_kind([(dump, guess), (make_dump([], kind="bare"), Prediction((), ()))])
    text = format_scores(scores)
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.strip()}
    # Summary rows: kind, dumps, lines, body F1, macro-F1, Pk, WD, count exact, record P/R/F1.
    assert rows["concat"][:3] == ["concat", "1", "4"]
    assert rows["concat"][3] == f"{scores['concat'].lines.body_f1:.3f}"
    assert rows["bare"][-4:] == ["-", "-", "-", "0"]  # no gold articles: nothing to average
    assert "Line labels, all (2 dumps, 4 lines)" in text
    # The last per-label and confusion tables are "all": body 2 right of 2, 1 boilerplate taken.
    body_rows = [line.split() for line in text.splitlines() if line.startswith("body ")]
    assert body_rows[-2] == ["body", "0.667", "1.000", "0.800", "2", "3"]
    assert body_rows[-1] == ["body", "2", "0", "0", "0", "0", "0"]
    boiler = [line.split() for line in text.splitlines() if line.startswith("boilerplate ")]
    assert boiler[-1] == ["boilerplate", "1", "0", "0", "0", "0", "0"]


def test_scores_json_is_plain_data() -> None:
    dump = make_dump([("Title", H, 0), ("text", B, 0)])
    scores = evaluate_by_kind([(dump, perfect(dump))])
    data = scores_json(scores, model={"path": "m.joblib"})
    assert json.loads(json.dumps(data)) == data
    assert list(data) == ["model", "scores"]
    assert data["scores"][ALL_KINDS]["lines"]["per_label"]["body"]["f1"] == 1.0
    assert data["scores"][ALL_KINDS]["records"]["n_articles"] == 1


# --- floors -------------------------------------------------------------------------------------


def _floor_scores() -> dict[str, Any]:
    """A concat dump guessed with one label wrong and its two pages joined, and no bare dump."""
    dump = make_dump([("Title", H, 0), ("first words", B, 0), ("More", B, 1), ("ad", P, 1)])
    return evaluate_by_kind([(dump, Prediction((H, B, B, B), (0, 0, 0, 0)))])


def test_metric_reads_a_kind_and_a_dotted_path() -> None:
    scores = _floor_scores()
    assert metric(scores, "concat.lines.body_f1") == pytest.approx(0.8)
    assert metric(scores, "all.segmentation.count_exact") == 0.0
    assert metric(scores, "bare.segmentation.pk") is None  # no bare dump scored
    for name in ("concat.lines.body_f2", "concat.lines", "concat.lines.per_label.body.f1.x"):
        with pytest.raises(DataError, match="names no"):
            metric(scores, name)


def test_missed_floors_names_each_bound_missed() -> None:
    scores = _floor_scores()
    floors = {"min": {"concat.lines.body_f1": 0.75, "all.segmentation.count_exact": 0.5},
              "max": {"concat.segmentation.pk": 1.0, "bare.segmentation.pk": 0.3}}
    assert missed_floors(scores, floors) == [
        "all.segmentation.count_exact: 0.000, wanted >= 0.5",
        "bare.segmentation.pk: no score (no dump of that kind), wanted <= 0.3",
    ]
    assert missed_floors(scores, {"min": {"concat.lines.body_f1": 0.8}}) == []  # a bound holds


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param("{", "not JSON", id="not-json"),
        pytest.param("[]", '"min" and/or "max"', id="not-an-object"),
        pytest.param('{"note": "x"}', '"min" and/or "max"', id="no-bounds"),
        pytest.param('{"min": {"all.lines.body_f1": "high"}}', '"min" must map', id="text-bound"),
        pytest.param('{"max": {"all.segmentation.pk": true}}', '"max" must map', id="bool-bound"),
        pytest.param('{"min": {}, "gate_sha256": 1}', '"gate_sha256" must be', id="number-hash"),
    ],
)
def test_read_floors_rejects_malformed(text: str, error: str) -> None:
    with pytest.raises(DataError, match=error) as raised:
        read_floors(text, source="floors.json")
    assert str(raised.value).startswith("floors.json: ")


def test_read_floors_keeps_the_bounds_and_the_gold_hash() -> None:
    text = json.dumps({"gate_sha256": "ab", "min": {"all.lines.body_f1": 1}, "note": "n"})
    assert read_floors(text, source="f") == Floors({"min": {"all.lines.body_f1": 1.0},
                                                    "max": {}}, "ab")
    assert read_floors('{"max": {}}', source="f").gold_sha256 is None
