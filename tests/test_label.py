"""cleaner.label: model integrity checks and prediction shape, on a tiny model trained here.

The model is trained once per session from the fixtures (about 15 s), so these tests never need
the shipped model.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner import arrays
from cleaner.arrays import Trees
from cleaner.errors import ModelError
from cleaner.features import DENSE_NAMES, HASH_FEATURES, PAIR_FEATURES, PAIR_MAX_WORDS
from cleaner.label import (
    ESTIMATORS,
    PROB_FLOOR,
    Model,
    apply_labels,
    arrays_path,
    best_labels,
    card_pairs,
    card_path,
    context_matrix,
    context_names,
    decode,
    fit_transitions,
    label_many,
    label_proba,
    line_inputs,
    load_estimators,
    load_model,
    outside_article,
    predict_proba_many,
    save_model,
    sha256_bytes,
    stage1_matrix,
)
from cleaner.read import split_lines
from cleaner.types import CONTENT_LABELS, LABELS, AnnotatedDump, Label, Line

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "fixtures" / "annotated" / "train.jsonl"
DUMPS = sorted((ROOT / "fixtures" / "dumps").glob("*.txt"))


@contextmanager
def single_thread() -> Iterator[None]:
    """One OpenMP/BLAS thread: on busy cores, spinning worker threads make fits many times slower.

    scikit-learn's ensemble module is imported first so that its OpenMP runtime is loaded and
    threadpoolctl can reach it.
    """
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    with single_thread():
        yield


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on the training fixtures (session-scoped: set up before one_thread)."""
    from cleaner.train import train

    path = tmp_path_factory.mktemp("tiny-model") / "m.joblib"
    with single_thread():
        train(None, [TRAIN], path, seed=1)
    return path


@pytest.fixture(scope="session")
def model(model_path: Path) -> Model:
    return load_model(model_path)


@pytest.fixture
def copy(model_path: Path, tmp_path: Path) -> Path:
    """A private copy of the model, its arrays and its card, free to break."""
    target = tmp_path / "copy.joblib"
    shutil.copyfile(model_path, target)
    shutil.copyfile(arrays_path(model_path), arrays_path(target))
    shutil.copyfile(card_path(model_path), card_path(target))
    return target


@pytest.fixture
def no_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything reaches joblib.load."""
    import joblib

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        pytest.fail("joblib.load called on a model that should have been refused")

    monkeypatch.setattr(joblib, "load", refuse)


def test_load_model(model: Model, model_path: Path) -> None:
    assert set(model.estimators) >= ESTIMATORS
    assert model.card["labels"] == [label.value for label in LABELS]
    assert model.card["sha256"] == sha256_bytes(model_path.read_bytes())
    assert model.card["size_bytes"] == model_path.stat().st_size


@pytest.mark.parametrize("where", [0, 1000, -1], ids=["first-byte", "middle-byte", "last-byte"])
@pytest.mark.usefixtures("no_unpickling")
def test_flipped_byte_is_refused_before_unpickling(copy: Path, where: int) -> None:
    data = bytearray(copy.read_bytes())
    data[where] ^= 0x01
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256") as err:
        load_model(copy)
    assert "make train" in str(err.value)


def _drop_card(path: Path) -> None:
    card_path(path).unlink()


def _drop_model(path: Path) -> None:
    path.unlink()


def _edit_card(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        card = json.loads(card_path(path).read_text(encoding="utf-8"))
        change(card)
        card_path(path).write_text(json.dumps(card), encoding="utf-8")
    return edit


def _garble_card(path: Path) -> None:
    card_path(path).write_text("{not json", encoding="utf-8")


BREAKAGES = [
    pytest.param(_drop_card, "model card missing", id="missing-card"),
    pytest.param(_drop_model, "model file missing", id="missing-model-file"),
    pytest.param(_garble_card, "unreadable model card", id="card-not-json"),
    pytest.param(_edit_card(lambda c: c.pop("sha256")), "no sha256", id="card-without-sha"),
    pytest.param(_edit_card(lambda c: c.update(labels=c["labels"][::-1])), "labels",
                 id="other-label-order"),
    pytest.param(_edit_card(lambda c: c.update(labels=[*c["labels"], "ad"])), "labels",
                 id="extra-label"),
    pytest.param(_edit_card(lambda c: c["features"].update(dense=c["features"]["dense"][:-1])),
                 "other features", id="other-dense-features"),
    pytest.param(_edit_card(lambda c: c["features"].update(hash=1024)), "other features",
                 id="other-hash-size"),
    pytest.param(_edit_card(lambda c: c["features"].update(gaps=["left_body"])),
                 "other features", id="other-gap-features"),
    pytest.param(_edit_card(lambda c: c["features"].update(cuts=["logit_p"])),
                 "other features", id="other-cut-features"),
    pytest.param(_edit_card(lambda c: c["features"]["pairs"].update(buckets=1024)),
                 "other features", id="other-pair-buckets"),
    pytest.param(_edit_card(lambda c: c["features"]["pairs"].update(max_words="12")),
                 "other features", id="pair-setting-not-a-number"),
    pytest.param(_edit_card(lambda c: c["features"]["pairs"].update(max_words=-1)),
                 "other features", id="negative-pair-setting"),
    pytest.param(_edit_card(lambda c: c["features"].update(pairs=[12])),
                 "other features", id="pairs-not-an-object"),
    # The arrays prediction reads: named in the message (the copy fixture's model is copy.joblib).
    pytest.param(lambda p: arrays_path(p).unlink(), r"copy\.npz: model arrays file missing",
                 id="missing-arrays"),
    pytest.param(lambda p: arrays_path(p).write_bytes(arrays_path(p).read_bytes()[:-1]),
                 r"copy\.npz: SHA-256 does not match", id="truncated-arrays"),
]


@pytest.mark.parametrize(("breakage", "message"), BREAKAGES)
@pytest.mark.usefixtures("no_unpickling")
def test_broken_model_gives_model_error(
    copy: Path, breakage: Callable[[Path], None], message: str
) -> None:
    breakage(copy)
    with pytest.raises(ModelError, match=message) as err:
        load_model(copy)
    assert "make train" in str(err.value)


def test_a_card_from_before_the_cut_model_still_loads(copy: Path) -> None:
    # Models trained before the cut model have no "cuts" features: they load, cut by thresholds.
    _edit_card(lambda c: c["features"].pop("cuts"))(copy)
    assert set(load_model(copy).estimators) >= ESTIMATORS


@pytest.fixture(scope="session")
def paired_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model fit with word pairs, as make train fits the shipped one (--word-pairs 12)."""
    import cleaner.features
    from cleaner.train import train

    path = tmp_path_factory.mktemp("paired-model") / "m.joblib"
    with single_thread(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(cleaner.features, "PAIR_MAX_WORDS", 12)
        train(None, [TRAIN], path, seed=1)
    return path


def test_the_card_s_word_pairs_make_the_vocabulary(
    model: Model, paired_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The card, not the recipe, sets a loaded model's pairs: a model keeps the features it was
    # fit with whatever the recipe says later.
    monkeypatch.setattr("cleaner.features.PAIR_MAX_WORDS", 3)
    assert model.card["features"]["pairs"] == {"max_words": PAIR_MAX_WORDS,
                                               "buckets": PAIR_FEATURES}
    assert model.vocab.pair_max_words == PAIR_MAX_WORDS
    paired = load_model(paired_path)
    assert paired.card["features"]["pairs"] == {"max_words": 12, "buckets": PAIR_FEATURES}
    assert paired.vocab.pair_max_words == 12
    assert paired.estimators["lines"].n_features_in_ == (
        HASH_FEATURES + PAIR_FEATURES + len(DENSE_NAMES))
    lines = [split_lines("Click here to read more.\nA longer line of ordinary body text.")]
    assert predict_proba_many(lines, paired)[0].shape == (2, len(LABELS))


def test_a_card_without_pairs_means_none() -> None:
    assert card_pairs({"features": {"hash": HASH_FEATURES}}) == 0
    assert card_pairs({"features": {"pairs": {"max_words": 5, "buckets": PAIR_FEATURES}}}) == 5


def test_a_card_that_hides_the_model_s_pairs_is_refused(paired_path: Path, tmp_path: Path) -> None:
    # Read as a card from before word pairs, it says the model has fewer columns than it has:
    # refused at load, naming the file, not with scikit-learn's error at the first line.
    copy = tmp_path / "paired.joblib"
    shutil.copyfile(paired_path, copy)
    shutil.copyfile(arrays_path(paired_path), arrays_path(copy))
    shutil.copyfile(card_path(paired_path), card_path(copy))
    _edit_card(lambda c: c["features"].pop("pairs"))(copy)
    with pytest.raises(ModelError, match=re.escape(f"{copy}: model was built for other features")):
        load_model(copy)


def test_other_scikit_learn_version_warns_when_unpickled(copy: Path) -> None:
    _edit_card(lambda c: c["versions"].update({"scikit-learn": "0.0.1"}))(copy)
    with pytest.warns(UserWarning, match=r"trained with scikit-learn 0\.0\.1"):
        loaded = load_estimators(copy)
    assert set(loaded) >= ESTIMATORS


def test_prediction_does_not_unpickle(
    copy: Path, monkeypatch: pytest.MonkeyPatch, no_unpickling: None
) -> None:
    # The arrays carry everything prediction needs; the scikit-learn version it was trained
    # with does not matter to them, so no warning either.
    _edit_card(lambda c: c["versions"].update({"scikit-learn": "0.0.1"}))(copy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_model(copy)
    assert isinstance(loaded.estimators["context"], Trees)
    assert predict_proba_many(fixture_dumps()[:1], loaded)[0].shape[1] == len(LABELS)


def test_a_model_without_arrays_is_unpickled_and_predicts_the_same(
    model: Model, copy: Path
) -> None:
    # A model saved before the arrays existed: its card has no "arrays" record.
    _edit_card(lambda c: c.pop("arrays"))(copy)
    arrays_path(copy).unlink()
    older = load_model(copy)
    dumps = fixture_dumps()
    for ours, theirs in zip(predict_proba_many(dumps, older), predict_proba_many(dumps, model),
                            strict=True):
        assert np.array_equal(ours, theirs)


def test_arrays_matching_their_hash_but_not_a_model_are_refused(copy: Path) -> None:
    # A card edited to bless an .npz of something else: refused by name, not a KeyError.
    data = arrays.to_bytes({"lines.coef": np.zeros((2, 2))})
    arrays_path(copy).write_bytes(data)
    _edit_card(lambda c: c["arrays"].update({"sha256": sha256_bytes(data)}))(copy)
    with pytest.raises(ModelError, match=re.escape(str(arrays_path(copy)))):
        load_model(copy)


def test_save_model_round_trip(model_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "sub" / "saved.joblib"
    save_model(load_estimators(model_path), {**json.loads(card_path(model_path).read_text()),
                                             "note": "test"}, target)
    card = json.loads(card_path(target).read_text(encoding="utf-8"))
    assert card["note"] == "test"
    assert card["sha256"] == sha256_bytes(target.read_bytes())
    assert card["arrays"] == {"file": "saved.npz",
                              "sha256": sha256_bytes(arrays_path(target).read_bytes()),
                              "size_bytes": arrays_path(target).stat().st_size}
    # The same estimators give the same bytes: make train stays reproducible.
    assert arrays_path(target).read_bytes() == arrays_path(model_path).read_bytes()
    assert not list(target.parent.glob("*.tmp"))


def fixture_dumps() -> list[list[Line]]:
    return [split_lines(path.read_text(encoding="utf-8")) for path in DUMPS]


def test_predict_proba_rows(model: Model) -> None:
    dumps = [*fixture_dumps(), []]
    probs = predict_proba_many(dumps, model)
    assert len(probs) == len(dumps)
    for lines, p in zip(dumps, probs, strict=True):
        assert p.shape == (len(lines), len(LABELS))
        assert np.isfinite(p).all()
        assert (p >= 0).all()
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_predict_proba_batch_equals_one_by_one(model: Model) -> None:
    dumps = fixture_dumps()
    batch = predict_proba_many(dumps, model)
    for lines, p in zip(dumps, batch, strict=True):
        np.testing.assert_allclose(p, predict_proba_many([lines], model)[0], atol=1e-6)


def test_predict_proba_of_nothing(model: Model) -> None:
    assert [p.shape for p in predict_proba_many([[], []], model)] == [(0, 6), (0, 6)]
    assert predict_proba_many([], model) == []


words = st.sampled_from(["the", "ferry", "council", "said", "by", "Jane", "2019", "©", "share",
                         "comment", "read", "more", "|", "-", "harbour", "Friday,", "12:00"])
random_line = st.lists(words, min_size=1, max_size=12).map(" ".join)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(random_line, max_size=8), min_size=1, max_size=3))
def test_predict_proba_random_dumps(model: Model, texts: list[list[str]]) -> None:
    dumps = [split_lines("\n".join(d)) for d in texts]
    probs = predict_proba_many(dumps, model)
    for lines, p in zip(dumps, probs, strict=True):
        assert p.shape == (len(lines), len(LABELS))
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(p, predict_proba_many([lines], model)[0], atol=1e-6)


@pytest.mark.parametrize(
    ("row", "label"),
    [
        pytest.param([0.9, 0.02, 0.02, 0.02, 0.02, 0.02], Label.BODY, id="body"),
        pytest.param([0.1, 0.1, 0.1, 0.1, 0.1, 0.5], Label.BOILERPLATE, id="last-column"),
        pytest.param([0.0, 0.3, 0.3, 0.4, 0.0, 0.0], Label.TEASER, id="teaser"),
        pytest.param([0.0, 0.5, 0.5, 0.0, 0.0, 0.0], Label.HEADLINE, id="tie-takes-first"),
    ],
)
def test_apply_labels_picks_argmax(row: list[float], label: Label) -> None:
    line = Line(number=3, text="Some line", blank_before=1)
    (out,) = apply_labels([line], np.array([row], dtype=np.float32))
    assert out.label is label
    assert out.p == pytest.approx(max(row), abs=1e-4)
    assert (out.number, out.text, out.blank_before) == (3, "Some line", 1)


def test_apply_labels_on_predictions(model: Model) -> None:
    lines = fixture_dumps()[1]
    (probs,) = predict_proba_many([lines], model)
    labelled = apply_labels(lines, probs)
    assert [ln.label for ln in labelled] == [LABELS[k] for k in probs.argmax(axis=1)]
    assert [ln.text for ln in labelled] == [ln.text for ln in lines]
    assert apply_labels([], np.zeros((0, 6), dtype=np.float32)) == []



@pytest.mark.parametrize("rows", [1, 7, 64])
def test_label_proba_is_the_same_in_chunks(model: Model, rows: int) -> None:
    # The context model predicts a few rows at a time (CONTEXT_ROWS) for speed: every chunk
    # boundary must give exactly what one call over all rows gives.
    lines = [line for dump in fixture_dumps() for line in dump]
    words, dense = line_inputs([lines], model.vocab)
    est = model.estimators
    x = context_matrix(dense, label_proba(est["lines"], stage1_matrix(words, dense, est["scaler"])),
                       [len(lines)])
    assert len(lines) > 2 * max(rows, 7)
    whole = label_proba(est["context"], x)
    assert np.array_equal(label_proba(est["context"], x, rows=rows), whole)
    # and the same as predict_proba itself, its columns placed by classes_
    assert np.array_equal(whole[:, est["context"].classes_],
                          est["context"].predict_proba(x).astype(np.float32))

class FewClasses:
    """A stand-in estimator trained on only some labels: classes_ holds their indices."""

    def __init__(self, classes: list[int]) -> None:
        self.classes_ = np.asarray(classes)

    def transform(self, x: Any) -> Any:
        return np.zeros(x.shape)

    def predict_proba(self, x: Any) -> Any:
        # Column j (label classes_[j]) gets weight j + 1, normalised: every column tells apart.
        weights = np.arange(1, len(self.classes_) + 1, dtype=np.float64)
        return np.tile(weights / weights.sum(), (x.shape[0], 1))


def test_predict_proba_places_columns_by_classes() -> None:
    # A model whose training data lacked some labels has fewer predict_proba columns; they must
    # land on their own labels, not shift into the first ones.
    from cleaner.features import vocabulary

    classes = [LABELS.index(Label.HEADLINE), LABELS.index(Label.COMMENT)]
    model = Model({"scaler": FewClasses([0]), "lines": FewClasses(classes),
                   "context": FewClasses(classes)}, {}, vocabulary())
    (probs,) = predict_proba_many([split_lines("One line\nAnother line")], model)
    assert probs.shape == (2, len(LABELS))
    np.testing.assert_allclose(probs[:, classes[0]], 1 / 3, rtol=1e-6)
    np.testing.assert_allclose(probs[:, classes[1]], 2 / 3, rtol=1e-6)
    others = [k for k in range(len(LABELS)) if k not in classes]
    assert not probs[:, others].any()
    assert [ln.label for ln in apply_labels(split_lines("One line\nAnother line"), probs)] == [
        Label.COMMENT, Label.COMMENT]


# --- the context pass's features ----------------------------------------------------------------

dump_sizes = st.lists(st.integers(0, 30), min_size=1, max_size=6)


def random_probs(sizes: list[int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense features and stage-1 probabilities (rows sum to 1) for dumps of these sizes."""
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    dense = rng.normal(size=(n, len(DENSE_NAMES))).astype(np.float32)
    probs = rng.dirichlet(np.full(len(LABELS), 0.3), size=n).astype(np.float32)
    return dense, probs


@given(dump_sizes, st.integers(0, 2**32 - 1))
def test_context_matrix_of_a_batch_is_its_dumps_one_by_one(sizes: list[int], seed: int) -> None:
    # Bit for bit: a line's features (and so its label) must not depend on the batch it is in.
    dense, probs = random_probs(sizes, seed)
    batch = context_matrix(dense, probs, sizes)
    assert batch.shape == (sum(sizes), len(context_names()))
    bounds = np.cumsum([0, *sizes])
    alone = [context_matrix(dense[a:b], probs[a:b], [b - a]) for a, b in itertools.pairwise(bounds)]
    np.testing.assert_array_equal(batch, np.vstack(alone))


# --- decoding the label sequence ----------------------------------------------------------------

TEASER, BODY = LABELS.index(Label.TEASER), LABELS.index(Label.BODY)


def lines_of(blanks: list[int]) -> list[Line]:
    return [Line(number=i + 1, text=f"line {i}", blank_before=b) for i, b in enumerate(blanks)]


def path_score(path: tuple[int, ...], probs: np.ndarray, blanks: list[int],
               transitions: np.ndarray) -> float:
    """What decode maximises: log-probabilities of the path's labels plus its transition scores."""
    k = len(LABELS)
    total, previous = 0.0, k
    for label, row, blank in zip(path, probs, blanks, strict=True):
        total += float(np.log(max(float(row[label]), PROB_FLOOR)))
        total += float(transitions[int(blank > 0), previous, label])
        previous = label
    return total


@given(st.lists(st.integers(0, 2), min_size=1, max_size=4), st.integers(0, 2**32 - 1))
def test_decode_finds_the_best_path(blanks: list[int], seed: int) -> None:
    # Brute force over every label sequence of a short dump: no path scores higher.
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(len(LABELS), 0.5), size=len(blanks)).astype(np.float32)
    transitions = rng.normal(size=(2, len(LABELS) + 1, len(LABELS)))
    (path,) = decode([probs], [lines_of(blanks)], transitions)
    best = max(path_score(p, probs, blanks, transitions)
               for p in itertools.product(range(len(LABELS)), repeat=len(blanks)))
    assert path_score(tuple(path.tolist()), probs, blanks, transitions) == pytest.approx(best)


@given(st.lists(st.integers(0, 12), min_size=1, max_size=8), st.integers(0, 2**32 - 1))
def test_decode_of_a_batch_is_its_dumps_one_by_one(sizes: list[int], seed: int) -> None:
    # A line's label must not depend on the other dumps of its batch, nor on their lengths.
    rng = np.random.default_rng(seed)
    probs = [rng.dirichlet(np.full(len(LABELS), 0.3), size=n).astype(np.float32) for n in sizes]
    dumps = [lines_of(rng.integers(0, 2, size=n).tolist()) for n in sizes]
    transitions = rng.normal(size=(2, len(LABELS) + 1, len(LABELS)))
    batch = decode(probs, dumps, transitions)
    assert [len(p) for p in batch] == sizes
    for p, lines, got in zip(probs, dumps, batch, strict=True):
        np.testing.assert_array_equal(got, decode([p], [lines], transitions)[0])


def test_decode_without_transition_scores_is_the_most_probable_label() -> None:
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(len(LABELS)), size=40).astype(np.float32)
    (path,) = decode([probs], [lines_of([0] * 40)], np.zeros((2, len(LABELS) + 1, len(LABELS))))
    np.testing.assert_array_equal(path, probs.argmax(axis=1))


def run_of_teasers(middle: list[float]) -> np.ndarray:
    """Probabilities of five teaser paragraphs whose middle one is `middle`."""
    sure = [0.05, 0.0, 0.0, 0.9, 0.0, 0.05]
    return np.array([sure, sure, middle, sure, sure], dtype=np.float32)


def test_decode_keeps_a_run_of_teasers_whole() -> None:
    # Training data where teasers come in runs: a paragraph stage 2 is torn about (body 0.55,
    # teaser 0.4) inside a run is a teaser; one it is sure of (body 0.97) stays body.
    teaser_run = AnnotatedDump("t", "extracted", "test", tuple(
        Line(i, f"line {i}", 0, Label.TEASER if 3 <= i <= 8 else Label.BODY)
        for i in range(1, 12)), (0,) * 11)
    transitions = fit_transitions([teaser_run] * 20, weight=0.5)
    torn = run_of_teasers([0.55, 0.0, 0.0, 0.4, 0.0, 0.05])
    sure = run_of_teasers([0.97, 0.0, 0.0, 0.02, 0.0, 0.01])
    torn_path, sure_path = decode([torn, sure], [lines_of([0] * 5)] * 2, transitions)
    assert torn.argmax(axis=1)[2] == BODY
    assert torn_path.tolist() == [TEASER] * 5
    assert sure_path[2] == BODY


def test_fit_transitions_counts_label_pairs() -> None:
    dump = AnnotatedDump("d", "page", "test", (
        Line(1, "Title", 0, Label.HEADLINE), Line(2, "By me", 0, Label.BYLINE),
        Line(3, "Text.", 1, Label.BODY), Line(4, "More.", 0, Label.BODY)), (0,) * 4)
    scores = fit_transitions([dump] * 10, weight=1.0)
    k = len(LABELS)
    assert scores.shape == (2, k + 1, k)
    # Log-probabilities: each row is a distribution over the next label, none impossible.
    np.testing.assert_allclose(np.exp(scores).sum(axis=2), 1.0)
    assert np.isfinite(scores).all()
    head, by, body = (LABELS.index(x) for x in (Label.HEADLINE, Label.BYLINE, Label.BODY))
    assert scores[0, k].argmax() == head  # dumps start with a headline
    assert scores[0, head].argmax() == by
    assert scores[1, by].argmax() == body  # after a blank line
    assert scores[0, body].argmax() == body
    np.testing.assert_allclose(fit_transitions([dump], weight=0.2),
                               0.2 * fit_transitions([dump], weight=1.0))


def test_label_many_decodes_with_the_model_s_transitions(model: Model) -> None:
    # Without transitions (make train's recipe) each line takes its most probable label; with
    # them, label_many gives decode's path, each line with that label's probability.
    lines = fixture_dumps()[1]
    (probs,) = predict_proba_many([lines], model)
    assert "transitions" not in model.estimators
    assert [ln.label for ln in label_many([lines], model)[0]] == [
        LABELS[k] for k in probs.argmax(axis=1)]
    # Transitions that favour body after anything by far more than any line's probabilities.
    transitions = np.zeros((2, len(LABELS) + 1, len(LABELS)))
    transitions[:, :, BODY] = 50.0
    decoding = Model({**model.estimators, "transitions": transitions}, model.card, model.vocab)
    (path,) = decode([probs], [lines], transitions)
    assert path.tolist() == [BODY] * len(lines) != probs.argmax(axis=1).tolist()
    labelled = label_many([lines], decoding)[0]
    assert [ln.label for ln in labelled] == [LABELS[k] for k in path]
    assert [ln.p for ln in labelled] == [round(float(probs[i, k]), 4) for i, k in enumerate(path)]
    np.testing.assert_array_equal(best_labels([lines], [probs], decoding)[0], path)


CONTENT = [LABELS.index(label) for label in CONTENT_LABELS]
OTHERS = [k for k in range(len(LABELS)) if k not in CONTENT]


@given(
    st.lists(st.lists(st.floats(0.0, 1.0, width=32), min_size=len(LABELS), max_size=len(LABELS)),
             min_size=1, max_size=12),
    st.lists(st.integers(0, 2), min_size=12, max_size=12),
    st.integers(1, 40),
)
def test_outside_article_rules_out_content_from_the_section_on(
    rows: list[list[float]], gaps: list[int], start: int
) -> None:
    probs = np.asarray(rows, dtype=np.float32)
    numbers = np.cumsum([1 + g for g in gaps[: len(rows)]]).tolist()  # with blank lines between
    lines = [Line(n, f"line {n}") for n in numbers]
    out = outside_article(lines, probs, start=start)
    assert out.shape == probs.shape and out.dtype == probs.dtype
    for line, before, after in zip(lines, probs, out, strict=True):
        if line.number < start:
            np.testing.assert_array_equal(after, before)
            continue
        assert (after[CONTENT] == 0).all()
        assert after.sum() == pytest.approx(1.0, abs=1e-5)
        if before[OTHERS].sum() > 0:
            # Renormalised: the other labels keep their order (and so the best of them).
            assert after[OTHERS] == pytest.approx(before[OTHERS] / before[OTHERS].sum(), rel=1e-5)
        else:
            assert after[LABELS.index(Label.COMMENT)] == 1.0


def test_label_many_keeps_content_out_of_a_comment_section(model: Model) -> None:
    lines = fixture_dumps()[1]
    start = lines[len(lines) // 2].number
    plain = label_many([lines], model)[0]
    marked, unmarked = label_many([lines, lines], model, comments_from=[start, None])
    assert unmarked == plain
    assert marked[: len(lines) // 2] == plain[: len(lines) // 2]
    section = marked[len(lines) // 2 :]
    assert all(line.label not in CONTENT_LABELS for line in section)
    # The fixture's second half is mostly article text, so the rule has something to change.
    assert any(line.label in CONTENT_LABELS for line in plain[len(lines) // 2 :])


def test_every_file_of_a_model_travels_in_the_wheel(model_path: Path) -> None:
    # pip install outside the repository gets the shipped model from the wheel's package data:
    # a file save_model writes that no pattern matches would be left behind.
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["cleaner.models"]
    written = [model_path, arrays_path(model_path), card_path(model_path)]
    assert all(path.exists() for path in written)
    for path in written:
        assert any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns), path.name
