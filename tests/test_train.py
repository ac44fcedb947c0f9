"""cleaner.train: class weights, relabelling, label reports, data loading and reproducibility."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from planting import plant_comment_errors

from cleaner.annotated import (
    convert,
    format_dumps,
    held_out,
    page_groups,
    page_ids,
    read_annotated,
    read_dumps,
    write_dumps,
)
from cleaner.errors import CleanerError, DataError, ModelError
from cleaner.label import (
    card_path,
    context_names,
    line_inputs,
    load_estimators,
    load_model,
    predict_proba_many,
)
from cleaner.pipeline import label_lines
from cleaner.train import (
    CORPUS_LICENCES,
    FIXTURE_WEIGHT,
    RECIPE,
    STAGE2_LEAVES,
    UNKNOWN_LICENCE,
    assign_folds,
    check_data,
    check_exclusions,
    check_output,
    class_weights,
    contradicted,
    data_licences,
    describe_card,
    draw_seed,
    file_sha256,
    fit_labeller,
    label_report,
    load_training,
    main,
    progress_steps,
    read_exclusions,
    recipe_settings,
    relabel,
    train,
    training_files,
    with_synthetic,
)
from cleaner.types import LABELS, AnnotatedDump, Label, Line

TRAIN = Path(__file__).resolve().parent.parent / "fixtures" / "annotated" / "train.jsonl"


@given(st.lists(st.integers(0, len(LABELS) - 1), min_size=1, max_size=200),
       st.floats(0.1, 1.0))
def test_class_weights_mean_one_and_rarer_weighs_more(labels: list[int], power: float) -> None:
    y = np.asarray(labels, dtype=np.int64)
    w = class_weights(y, power=power)
    assert w.shape == y.shape
    assert w.mean() == pytest.approx(1.0)
    counts = np.bincount(y, minlength=len(LABELS))
    for a in set(labels):
        for b in set(labels):
            wa, wb = w[y == a][0], w[y == b][0]
            if counts[a] < counts[b]:
                assert wa > wb
            elif counts[a] == counts[b]:
                assert wa == pytest.approx(wb)
    # Every line of one class weighs the same.
    for k in set(labels):
        assert np.ptp(w[y == k]) == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("y", "power", "expected"),
    [
        pytest.param([0, 0, 0, 1], 1.0, [2 / 3, 2 / 3, 2 / 3, 2.0], id="inverse-frequency"),
        pytest.param([0, 0, 0, 1], 0.0, [1, 1, 1, 1], id="power-zero-no-weighting"),
        pytest.param([0, 0, 0, 0, 1], 0.5, [5 / 6, 5 / 6, 5 / 6, 5 / 6, 5 / 3], id="square-root"),
        pytest.param([3, 3], 0.5, [1, 1], id="one-class"),
    ],
)
def test_class_weights_values(y: list[int], power: float, expected: list[float]) -> None:
    np.testing.assert_allclose(class_weights(np.asarray(y, dtype=np.int64), power=power),
                               expected)


def test_class_weights_default_power_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # The card records train.CLASS_WEIGHT_POWER as it is when training runs, and bench.recipe's
    # --set changes it there: a default fixed at import would train with another value.
    import cleaner.train as train_module

    y = np.asarray([0, 0, 0, 1], dtype=np.int64)
    monkeypatch.setattr(train_module, "CLASS_WEIGHT_POWER", 1.0)
    np.testing.assert_allclose(class_weights(y), [2 / 3, 2 / 3, 2 / 3, 2.0])
    monkeypatch.setattr(train_module, "CLASS_WEIGHT_POWER", 0.0)
    np.testing.assert_allclose(class_weights(y), [1, 1, 1, 1])


def dump(dump_id: str, labels: list[Label]) -> AnnotatedDump:
    lines = tuple(Line(number=i + 1, text=f"line {i}", label=lab, p=1.0)
                  for i, lab in enumerate(labels))
    return AnnotatedDump(dump_id, "page", "test", lines, (0,) * len(lines))


def test_relabel() -> None:
    dumps = [dump("a-1", [Label.BODY, Label.BODY]), dump("b-2", [Label.HEADLINE] * 3)]
    predicted = np.array([1, 0, 5, 5, 2], dtype=np.int64)
    out = relabel(dumps, predicted)
    assert [[ln.label for ln in d.lines] for d in out] == [
        [Label.HEADLINE, Label.BODY], [Label.BOILERPLATE, Label.BOILERPLATE, Label.BYLINE]]
    for old, new in zip(dumps, out, strict=True):
        assert (new.id, new.pages) == (old.id, old.pages)
        assert [ln.text for ln in new.lines] == [ln.text for ln in old.lines]
    assert [ln.label for ln in dumps[0].lines] == [Label.BODY, Label.BODY]  # inputs untouched


def test_relabel_with_probabilities_gives_each_line_its_labels_p() -> None:
    dumps = [dump("a-1", [Label.BODY, Label.BODY]), dump("b-2", [Label.HEADLINE])]
    predicted = np.array([1, 0, 5], dtype=np.int64)
    proba = np.full((3, len(LABELS)), 0.01, dtype=np.float32)
    proba[[0, 1, 2], [1, 0, 5]] = [0.123456, 0.5, 0.98765]
    out = relabel(dumps, predicted, proba)
    # Rounded as apply_labels rounds what the pipeline's lines carry.
    assert [ln.p for d in out for ln in d.lines] == [
        round(float(np.float32(v)), 4) for v in (0.123456, 0.5, 0.98765)]
    # Without probabilities, p stays as it was.
    assert [ln.p for d in relabel(dumps, predicted) for ln in d.lines] == [1.0, 1.0, 1.0]


def test_relabel_too_few_predictions() -> None:
    with pytest.raises(ValueError, match="shorter"):
        relabel([dump("a-1", [Label.BODY] * 3)], np.array([0, 0], dtype=np.int64))


def test_label_report_hand_made_confusion() -> None:
    # body: 2 right, 1 taken for headline; headline: 2 right; byline: taken for body.
    y = np.array([0, 0, 0, 1, 1, 2], dtype=np.int64)
    pred = np.array([0, 0, 1, 1, 1, 0], dtype=np.int64)
    report = label_report(y, pred)
    assert report["per_label"]["body"] == {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667,
                                           "support": 3}
    assert report["per_label"]["headline"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8,
                                               "support": 2}
    assert report["per_label"]["byline"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0,
                                             "support": 1}
    assert report["macro_f1"] == round((2 / 3 + 0.8) / 6, 4)
    assert report["body_f1"] == 0.6667
    confusion = np.zeros((6, 6), dtype=int)
    for t, p in zip(y, pred, strict=True):
        confusion[t, p] += 1
    assert report["confusion"] == confusion.tolist()


def test_label_report_perfect() -> None:
    y = np.arange(6, dtype=np.int64).repeat(2)
    report = label_report(y, y)
    assert report["macro_f1"] == 1.0
    assert report["body_f1"] == 1.0
    assert all(v["f1"] == 1.0 and v["support"] == 2 for v in report["per_label"].values())


def test_load_training_splits_corpus_and_weights_fixtures() -> None:
    corpus = list(read_dumps(TRAIN))
    side = held_out(corpus)
    assert 0 < sum(side) < len(corpus)
    train_dumps, weights, held = load_training(TRAIN, [TRAIN])
    assert [d.id for d in held] == [d.id for d, out in zip(corpus, side, strict=True) if out]
    kept = [d.id for d, out in zip(corpus, side, strict=True) if not out]
    assert [d.id for d in train_dumps] == kept + [d.id for d in corpus]
    assert weights == [1.0] * len(kept) + [FIXTURE_WEIGHT] * len(corpus)
    everything, _, none_held = load_training(TRAIN, [], holdout=False)
    assert (len(everything), none_held) == (len(corpus), [])


def test_load_training_drops_dumps_without_lines(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text('{"id": "e-1", "lines": []}\n' + TRAIN.read_text(encoding="utf-8")
                    .splitlines()[0] + "\n", encoding="utf-8")
    dumps, weights, _ = load_training(None, [path])
    assert [d.id for d in dumps] == ["train-extracted-01"]
    assert weights == [FIXTURE_WEIGHT]


def test_file_sha256() -> None:
    assert file_sha256(TRAIN) == hashlib.sha256(TRAIN.read_bytes()).hexdigest()


def test_folds_keep_every_view_of_a_page_together() -> None:
    # l3s-2's extracted dump shares no page with l3s-1's page dump, but the concat dump joins
    # both pages: all three must be in one fold (grouping by a dump's first page split them).
    dumps = [dump("l3s-1", []), dump("extracted:l3s-2", []), dump("concat:l3s-1+l3s-2", []),
             *(dump(f"l3s-{n}", []) for n in range(3, 12))]
    fold = assign_folds(dumps, folds=3, seed=5)
    assert fold[0] == fold[1] == fold[2]
    assert sorted(set(fold.tolist())) == [0, 1, 2]


@given(st.lists(st.lists(st.integers(0, 15), min_size=1, max_size=3), min_size=3, max_size=30),
       st.integers(0, 2**31 - 1))
def test_dumps_sharing_a_page_share_a_fold(pages: list[list[int]], seed: int) -> None:
    dumps = [dump("concat:" + "+".join(f"l3s-{p}" for p in ids), []) for ids in pages]
    assume(len(set(page_groups(dumps))) >= 2)
    fold = assign_folds(dumps, folds=2, seed=seed)
    for a, first in enumerate(pages):
        for b, second in enumerate(pages):
            if set(first) & set(second):
                assert fold[a] == fold[b]


def tagged_dump(n: int) -> AnnotatedDump:
    """An extracted dump whose every line starts with its own tag (pageN), usable for joins."""
    labels = [Label.HEADLINE, Label.BYLINE, *[Label.BODY] * 5]
    lines = tuple(Line(number=i + 1, text=f"page{n} " + " ".join(["word"] * 14) + f" {i}.",
                       label=lab, p=1.0) for i, lab in enumerate(labels))
    return AnnotatedDump(f"extracted:l3s-{n}", "extracted", "test", lines, (0,) * len(lines))


def test_synthetic_joins_use_only_their_own_folds_pages() -> None:
    dumps = [tagged_dump(n) for n in range(36)]
    fold = np.array([n % 3 for n in range(36)], dtype=np.int64)
    pool, weights, pool_fold = with_synthetic(dumps, [2.0] * 36, fold, seed=1, share=1.0)
    assert pool[:36] == dumps and weights[:36] == [2.0] * 36
    assert pool_fold[:36].tolist() == fold.tolist()
    joins = list(zip(pool[36:], weights[36:], pool_fold[36:].tolist(), strict=True))
    assert len(joins) == 36
    for join, weight, k in joins:
        assert weight == 1.0 and join.id.startswith(f"synthetic-{k}-")
        tags = {int(line.text.removeprefix("- ").split()[0].removeprefix("page"))
                for line in join.lines}
        assert len(tags) >= 2 and all(tag % 3 == k for tag in tags)


def test_briefs_follow_the_joins_from_their_own_folds(monkeypatch: pytest.MonkeyPatch) -> None:
    dumps = [tagged_dump(n) for n in range(36)]
    fold = np.array([n % 3 for n in range(36)], dtype=np.int64)
    without = with_synthetic(dumps, [2.0] * 36, fold, seed=1, share=1.0)
    monkeypatch.setattr("cleaner.augment.BRIEF_SHARE", 0.5)
    pool, weights, pool_fold = with_synthetic(dumps, [2.0] * 36, fold, seed=1, share=1.0)
    # Each fold's joins are the ones made without briefs; its 6 briefs come after them.
    for k in range(3):
        mine = [d for d, f in zip(pool[36:], pool_fold[36:].tolist(), strict=True) if f == k]
        before = [d for d, f in zip(without[0][36:], without[2][36:].tolist(), strict=True)
                  if f == k]
        assert [d.lines for d in mine[: len(before)]] == [d.lines for d in before]
        briefs = mine[len(before) :]
        assert len(briefs) == 6
        for brief in briefs:
            tags = {int(line.text.split()[0].removeprefix("page")) for line in brief.lines}
            assert len(tags) == 1 and tags.pop() % 3 == k
    assert len(pool) == len(weights) == len(pool_fold) == len(without[0]) + 18


def test_train_without_data_fails(tmp_path: Path) -> None:
    with pytest.raises(CleanerError, match="no training dumps"):
        train(None, [], tmp_path / "m.joblib")
    assert not (tmp_path / "m.joblib").exists()


def test_main_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-o", str(tmp_path / "m.joblib")]) == 1
    assert "error: no training dumps" in capsys.readouterr().err


@contextmanager
def single_thread() -> Iterator[None]:
    """One OpenMP/BLAS thread (OpenMP loaded first so that threadpoolctl can reach it)."""
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


SMALL_FOLDS = 2


class Trained(NamedTuple):
    """Models trained by the `trained` fixture, and whether warning filters survived them."""

    runs: dict[str, tuple[Path, dict[str, Any]]]
    filters_kept: bool


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """A third of the fixtures in the text format, trained twice, and its JSONL form once."""
    root = tmp_path_factory.mktemp("train")
    text = root / "small.txt"
    text.write_text(format_dumps(list(read_dumps(TRAIN))[::3], fmt="text"), encoding="utf-8")
    convert(text, root / "small.jsonl")
    out: dict[str, tuple[Path, dict[str, Any]]] = {}
    before = list(warnings.filters)
    with single_thread():
        for name, data in (("text", text), ("again", text), ("jsonl", root / "small.jsonl")):
            model = root / name / "m.joblib"
            out[name] = (model, train(data, [], model, seed=1, folds=SMALL_FOLDS, holdout=False))
    return Trained(out, warnings.filters == before)


CARD_KEYS = {"name", "cleaner_version", "created", "seed", "labels", "features", "versions",
             "training_data", "training_data_sha256", "licences", "holdout", "dumps", "lines",
             "held_out_dumps", "synthetic_dumps", "folds", "recipe", "contradicted_lines", "scores",
             "train_seconds", "sha256", "size_bytes", "excluded", "arrays"}


def test_card_has_every_field(trained: Trained) -> None:
    model, card = trained.runs["text"]
    on_disk = json.loads(card_path(model).read_text(encoding="utf-8"))
    assert set(on_disk) == CARD_KEYS
    assert {k: on_disk[k] for k in card} == card
    assert on_disk["sha256"] == file_sha256(model)
    assert on_disk["size_bytes"] == model.stat().st_size
    npz = model.with_suffix(".npz")
    assert on_disk["arrays"] == {"file": npz.name, "sha256": file_sha256(npz),
                                 "size_bytes": npz.stat().st_size}
    assert (on_disk["seed"], on_disk["folds"]) == (1, SMALL_FOLDS)
    assert on_disk["labels"] == [label.value for label in LABELS]
    assert set(on_disk["versions"]) == {"python", "scikit-learn", "numpy", "scipy", "joblib"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", on_disk["created"])
    [data] = on_disk["training_data"]
    small = model.parent.parent / "small.txt"
    dumps = list(read_annotated(small))
    assert data == {"path": str(small), "sha256": file_sha256(small),
                    "bytes": small.stat().st_size, "format": "text", "dumps": len(dumps),
                    "lines": sum(len(d.lines) for d in dumps), "held_out_dumps": 0, "weight": 1.0}
    assert on_disk["training_data_sha256"] == hashlib.sha256(data["sha256"].encode()).hexdigest()
    assert on_disk["lines"] == data["lines"]
    assert "not recorded" in on_disk["licences"]  # invented ids: no corpus licence applies
    assert on_disk["recipe"] == recipe_settings()
    assert on_disk["recipe"]["cleaner.train.STAGE2_LEAVES"] == STAGE2_LEAVES
    assert on_disk["contradicted_lines"] == {"rule": "none: every label used as given",
                                             "lines": 0, "by_labels": {}}
    assert on_disk["excluded"] is None  # no --exclude list
    for stage in ("stage1", "labeller"):
        report = on_disk["scores"][stage]
        assert set(report) == {"per_label", "macro_f1", "body_f1", "confusion"}
        assert list(report["per_label"]) == on_disk["labels"]
        # Confusion rows are the gold labels: each row sums to that label's support.
        assert [sum(row) for row in report["confusion"]] == [
            v["support"] for v in report["per_label"].values()]
        assert sum(map(sum, report["confusion"])) == data["lines"]


def test_trained_model_loads_and_labels(trained: Trained) -> None:
    model = load_model(trained.runs["text"][0])
    text = "Council votes for new library\nBy Sam Reed\n\nThe council voted on Tuesday.\n"
    lines = label_lines(text, model=model)
    assert [line.number for line in lines] == [1, 2, 4]
    assert all(line.label in LABELS and line.p is not None and 0 < line.p <= 1 for line in lines)


def test_the_model_file_holds_only_scikit_learn_objects(trained: Trained) -> None:
    # Our own classes stay out of the persisted model: the estimators are scikit-learn's (a
    # bagged boundary model is a list of them), in a plain dict.
    from sklearn.base import BaseEstimator

    estimators = load_estimators(trained.runs["text"][0])
    assert type(estimators) is dict
    for name, value in estimators.items():
        if name == "transitions":  # a recipe that decodes keeps its label transitions: numbers
            assert isinstance(value, np.ndarray) and value.dtype == np.float64
            continue
        # (The cut-position model is None when the data has no joined pages to learn from.)
        parts = value if isinstance(value, list) else [] if value is None else [value]
        assert all(isinstance(part, BaseEstimator) for part in parts), name


def test_same_data_and_seed_give_the_same_model(
    trained: Trained
) -> None:
    runs = trained.runs
    (first, a), (second, b), (converted, c) = runs["text"], runs["again"], runs["jsonl"]
    assert a["scores"] == b["scores"] == c["scores"]
    # Identical estimators, byte for byte, whether the data came as text or as its JSONL form.
    assert file_sha256(first) == file_sha256(second) == file_sha256(converted)
    dumps = [d.lines for d in list(read_dumps(TRAIN))[1::3]]
    probs = [predict_proba_many(dumps, load_model(path)) for path in (first, converted)]
    for x, y in zip(*probs, strict=True):
        np.testing.assert_array_equal(x, y)
    assert c["training_data"][0]["format"] == "jsonl"
    assert c["training_data"][0]["sha256"] != a["training_data"][0]["sha256"]


@pytest.mark.parametrize("weight", [0.0, 0.5])
def test_fit_labeller_decodes_only_when_the_recipe_says(
    monkeypatch: pytest.MonkeyPatch, weight: float
) -> None:
    # SEQUENCE_WEIGHT 0 (make train's recipe): no transitions, each line its most probable
    # label. Set (as bench.recipe's --set does): transitions stored, the out-of-fold labels the
    # segmenter learns from are decoded as the pipeline decodes.
    from cleaner import label

    monkeypatch.setattr(label, "SEQUENCE_WEIGHT", weight)
    dumps = list(read_dumps(TRAIN))[::2]
    with single_thread():
        estimators, cv = fit_labeller(dumps, [1.0] * len(dumps), seed=1, folds=SMALL_FOLDS)
    argmax = cv["all_proba"].argmax(axis=1)
    if not weight:
        assert "transitions" not in estimators
        np.testing.assert_array_equal(cv["all_pred"], argmax)
        return
    transitions = estimators["transitions"]
    np.testing.assert_array_equal(transitions, label.fit_transitions(dumps, weight=weight))
    bounds = np.cumsum([0, *(len(d.lines) for d in dumps)])
    decoded = label.decode([cv["all_proba"][a:b] for a, b in itertools.pairwise(bounds)],
                           [d.lines for d in dumps], transitions)
    np.testing.assert_array_equal(cv["all_pred"], np.concatenate(decoded))
    assert (cv["all_pred"] != argmax).any()  # at this weight decoding changes some labels


def test_more_stage2_draws_refit_only_stage_2_and_stay_deterministic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # STAGE2_DRAWS (read at call time, as bench.recipe's --set sets it): stage 2 also learns
    # from other draws of folds and joins, in the cross-validation (whose predictions the
    # segmenter learns from) as in the final fit. Stage 1 is the first draw's; stage 2 is
    # another model, the same one each time.
    from cleaner import train as tr
    from cleaner.features import vocabulary
    from cleaner.label import Model

    real = list(read_dumps(TRAIN))[::2]
    pool, weights, fold = tr.training_pool(real, [1.0] * len(real), seed=1, folds=SMALL_FOLDS)
    lines = [d.lines for d in real]

    def fit(draws: int) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
        monkeypatch.setattr(tr, "STAGE2_DRAWS", draws)
        estimators, cv = fit_labeller(pool, weights, fold=fold, seed=1, folds=SMALL_FOLDS,
                                      scored=len(real))
        return estimators, cv, predict_proba_many(lines, Model(estimators, {}, vocabulary()))

    with single_thread():
        one, cv_one, p_one = fit(1)
        two, cv_two, p_two = fit(2)
        _, _, p_again = fit(2)
    np.testing.assert_array_equal(one["lines"].coef_, two["lines"].coef_)
    np.testing.assert_array_equal(cv_one["y"], cv_two["y"])
    assert not np.array_equal(cv_one["all_proba"], cv_two["all_proba"])
    assert any(not np.array_equal(a, b) for a, b in zip(p_one, p_two, strict=True))
    for a, b in zip(p_two, p_again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_extra_draw_has_its_own_folds_and_joins() -> None:
    from sklearn.preprocessing import StandardScaler

    from cleaner import train as tr
    from cleaner.features import vocabulary

    # Joins need ten single pages in a fold: the layouts fixtures make enough.
    real = [*read_dumps(TRAIN), *read_dumps(TRAIN.with_name("layouts.jsonl"))]
    vocab = vocabulary()
    _, dense = line_inputs([d.lines for d in real], vocab)
    scaler = StandardScaler().fit(dense)
    n_real = sum(len(d.lines) for d in real)

    first = assign_folds(real, folds=SMALL_FOLDS, seed=1)

    def rows(seed: int, *, synthetic: bool) -> Any:
        with single_thread():
            return tr._drawn_rows(real, [1.0] * len(real), scaler, vocab, first_fold=first,
                                  seed=seed, folds=SMALL_FOLDS, synthetic=synthetic,
                                  say=lambda _m: None)

    plain, joined = rows(draw_seed(1, 1), synthetic=False), rows(draw_seed(1, 1), synthetic=True)
    assert len(plain.y) == n_real < len(joined.y)  # the draw's own joins follow the real lines
    # The real dumps' lines come first, in order, in every draw (drop_contradicted relies on it),
    # with the first draw's fold of their dump; the joins belong to no fold of it.
    gold = [LABELS.index(line.label) for d in real for line in d.lines]
    assert joined.y[:n_real].tolist() == gold == plain.y.tolist()
    row_first = [int(first[k]) for k, d in enumerate(real) for _ in d.lines]
    assert joined.fold[:n_real].tolist() == row_first == plain.fold.tolist()
    assert (joined.fold[n_real:] == -1).all()
    assert plain.x2.shape == (n_real, len(context_names()))
    # Another seed draws other folds: stage 1's out-of-fold probabilities move.
    assert not np.array_equal(plain.x2, rows(draw_seed(1, 2), synthetic=False).x2)


@given(st.integers(0, 2**31), st.integers(1, 50))
def test_extra_draws_are_never_another_training_seeds_first(seed: int, draw: int) -> None:
    assert draw_seed(seed, 0) == seed
    assert draw_seed(seed, draw) not in range(seed - 1000, seed + 1001)


def test_fit_labeller_leaves_warning_filters_alone() -> None:
    # Called directly (bench.weak does), not only through train().
    from sklearn.exceptions import ConvergenceWarning

    def silenced() -> bool:
        return any(f[0] == "ignore" and f[2] is ConvergenceWarning for f in warnings.filters)

    dumps = list(read_dumps(TRAIN))[::3]
    assert not silenced()
    with single_thread():
        # Twice: the first call's imports of scipy/scikit-learn modules add their own filters.
        fit_labeller(dumps, [1.0] * len(dumps), seed=1, folds=SMALL_FOLDS)
        before = list(warnings.filters)
        fit_labeller(dumps, [1.0] * len(dumps), seed=1, folds=SMALL_FOLDS)
    assert warnings.filters == before
    assert not silenced()


def test_contradicted_needs_a_confident_other_label() -> None:
    proba = np.array([
        [0.01, 0.95, 0.01, 0.01, 0.01, 0.01],  # gold body, sure it is a headline: contradicted
        [0.04, 0.89, 0.01, 0.02, 0.02, 0.02],  # not sure enough of the other label
        [0.06, 0.90, 0.01, 0.01, 0.01, 0.01],  # the gold label is not unlikely enough
        [0.00, 1.00, 0.00, 0.00, 0.00, 0.00],  # gold headline, agreed
    ], dtype=np.float32)
    y = np.array([0, 0, 0, 1])
    assert contradicted(y, proba).tolist() == [True, False, False, False]
    assert contradicted(y, proba, gold_p=0.1, other_p=0.85).tolist() == [True, True, True, False]


@given(st.lists(st.tuples(st.integers(0, len(LABELS) - 1),
                          st.lists(st.floats(0.0, 1.0), min_size=len(LABELS),
                                   max_size=len(LABELS))), min_size=1, max_size=40),
       st.floats(0.0, 0.5), st.floats(0.5, 1.0))
def test_contradicted_is_the_rule_and_widens_with_looser_cut_offs(
    rows: list[tuple[int, list[float]]], gold_p: float, other_p: float,
) -> None:
    y = np.array([label for label, _ in rows])
    raw = np.array([weights for _, weights in rows], dtype=np.float32) + np.float32(1e-3)
    proba = (raw / raw.sum(axis=1, keepdims=True)).astype(np.float32)
    found = contradicted(y, proba, gold_p=gold_p, other_p=other_p)
    gold = proba[np.arange(len(y)), y]
    assert (found == ((gold < gold_p) & (proba.max(axis=1) >= other_p))).all()
    # A contradicted line's most probable label is never its gold one.
    assert (proba[found].argmax(axis=1) != y[found]).all()
    looser = contradicted(y, proba, gold_p=min(gold_p * 2, 0.5), other_p=other_p * 0.9)
    assert not (found & ~looser).any()


def test_planted_label_errors_are_found_and_dropped_when_asked() -> None:
    dumps, planted = plant_comment_errors(list(read_dumps(TRAIN)), lambda k: k % 4 == 0)
    with single_thread():
        _, found = fit_labeller(dumps, [1.0] * len(dumps), seed=1, folds=SMALL_FOLDS,
                                find_contradicted=True)
        _, dropped = fit_labeller(dumps, [1.0] * len(dumps), seed=1, folds=SMALL_FOLDS,
                                  drop_contradicted=True)
        _, trusted = fit_labeller(dumps, [1.0] * len(dumps), seed=1, folds=SMALL_FOLDS)
    # A long paragraph called a comment: cross-validation is sure it is body.
    assert found["noisy"][planted].sum() >= len(planted) - 1
    assert found["noisy"].sum() < len(found["noisy"]) // 10
    assert not trusted["noisy"].any()
    # Dropping finds the same lines first; finding alone changes nothing in the fit.
    np.testing.assert_array_equal(found["noisy"], dropped["noisy"])
    np.testing.assert_array_equal(found["pred"], trusted["pred"])
    # The second fit is still scored against the gold labels, planted errors and all.
    assert len(dropped["pred"]) == len(dropped["y"]) == len(trusted["y"])


def test_contradicted_report_lists_the_planted_errors(tmp_path: Path) -> None:
    dumps, planted = plant_comment_errors(list(read_dumps(TRAIN)), lambda k: k % 4 == 0)
    data = tmp_path / "planted.jsonl"
    data.write_text(format_dumps(dumps, fmt="jsonl"), encoding="utf-8")
    report, model = tmp_path / "out" / "contradicted.jsonl", tmp_path / "m.joblib"
    with single_thread():
        card = train(data, [], model, seed=1, folds=SMALL_FOLDS, holdout=False,
                     contradicted_report=report)
    rows = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == card["contradicted_lines"]["lines"] > 0
    assert "not dropped" in card["contradicted_lines"]["rule"]
    by_place = {(row["dump"], row["line"]): row for row in rows}
    planted_rows = [by_place.get(place) for place in _planted_places(dumps, planted)]
    assert sum(row is not None for row in planted_rows) >= len(planted) - 1
    for row in filter(None, planted_rows):
        assert (row["file"], row["label"], row["predicted"]) == (str(data), "comment", "body")
        assert row["p_label"] < 0.05 <= 0.9 <= row["p"]
    # Each row names its line: the text is that dump's line with that number.
    lines = {(d.id, line.number): line for d in dumps for line in d.lines}
    assert all(lines[row["dump"], row["line"]].text == row["text"] for row in rows)
    assert all(lines[row["dump"], row["line"]].label == row["label"] for row in rows)


def _planted_places(dumps: list[AnnotatedDump], rows: list[int]) -> list[tuple[str, int]]:
    """(dump id, line number) of the labelled-line rows `rows`."""
    located = [(d.id, line.number) for d in dumps for line in d.lines if line.label]
    return [located[row] for row in rows]


def test_no_report_without_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cleaner.train as train_module

    def failing_save(*_args: Any) -> None:
        raise ModelError("disk full")

    monkeypatch.setattr(train_module, "_save", failing_save)
    data, report = tmp_path / "d.jsonl", tmp_path / "contradicted.jsonl"
    data.write_text(TRAIN.read_text(encoding="utf-8"), encoding="utf-8")
    with single_thread(), pytest.raises(ModelError, match="disk full"):
        train(data, [], tmp_path / "m.joblib", seed=1, folds=SMALL_FOLDS, holdout=False,
              contradicted_report=report)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.jsonl"]


@pytest.mark.parametrize("name", ["data", "model", "card", "folder"])
def test_contradicted_report_path_is_checked_before_training(tmp_path: Path, name: str) -> None:
    data, model = tmp_path / "d.jsonl", tmp_path / "m.joblib"
    data.write_text(TRAIN.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "folder").mkdir()
    report = {"data": data, "model": model, "card": card_path(model),
              "folder": tmp_path / "folder"}[name]
    with pytest.raises(ModelError, match=re.escape(str(report))):
        train(data, [], model, seed=1, folds=SMALL_FOLDS, holdout=False,
              contradicted_report=report)
    assert not model.exists()


@pytest.mark.parametrize(("find", "drop"), [(False, False), (True, False), (False, True)])
def test_progress_steps_count_the_messages(tmp_path: Path, find: bool, drop: bool) -> None:
    data = tmp_path / "small.jsonl"
    data.write_text(format_dumps(list(read_dumps(TRAIN))[::3], fmt="jsonl"), encoding="utf-8")
    messages: list[str] = []
    with single_thread():
        train(data, [], tmp_path / "m.joblib", seed=1, folds=SMALL_FOLDS, holdout=False,
              drop_contradicted=drop,
              contradicted_report=tmp_path / "c.jsonl" if find else None, log=messages.append)
    assert len(messages) == progress_steps(SMALL_FOLDS, find_contradicted=find,
                                           drop_contradicted=drop)


def test_stage1_fits_with_one_blas_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # lbfgs stopped unconverged keeps BLAS's rounding: the thread count must not be the machine's.
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_info, threadpool_limits

    seen: list[set[int]] = []
    fit = LogisticRegression.fit

    def recording_fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append({pool["num_threads"] for pool in threadpool_info()
                     if pool["user_api"] == "blas"})
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(LogisticRegression, "fit", recording_fit)
    dumps = list(read_dumps(TRAIN))[::3]
    with threadpool_limits(limits=2, user_api="blas"):
        fit_labeller(dumps, [1.0] * len(dumps), seed=1, folds=SMALL_FOLDS)
    assert seen and all(threads <= {1} for threads in seen)


def test_training_leaves_warning_filters_alone(trained: Trained) -> None:
    # fit_labeller silences lbfgs's ConvergenceWarning; that must not outlive the fit.
    assert trained.filters_kept


@pytest.mark.parametrize(
    ("dumps", "folds", "message"),
    [
        pytest.param([], 3, "no training dumps", id="empty"),
        pytest.param([dump("a-1", [Label.BODY, Label.HEADLINE])], 2,
                     "no byline, teaser, comment, boilerplate lines", id="missing-labels"),
        pytest.param([dump("a-1", list(LABELS)), dump("extracted:a-1", list(LABELS))], 2,
                     "needs at least 2 page groups", id="one-page-group"),
    ],
)
def test_check_data(dumps: list[AnnotatedDump], folds: int, message: str) -> None:
    with pytest.raises(DataError, match=message):
        check_data(dumps, folds=folds)


def test_check_data_accepts_enough_groups() -> None:
    check_data([dump("a-1", list(LABELS)), dump("b-2", [Label.BODY])], folds=2)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        pytest.param("m.json", "cannot end in .json", id="card-name"),
        pytest.param("sub", "is a directory", id="directory"),
        pytest.param("data.joblib", "is a training file", id="overwrites-data"),
        pytest.param("data/m.joblib", "cannot write the model there", id="parent-is-a-file"),
        pytest.param("x.jsonl", "is a training file", id="card-overwrites-data"),
    ],
)
def test_check_output(tmp_path: Path, output: str, message: str) -> None:
    (tmp_path / "sub").mkdir()
    data = [tmp_path / "data.joblib", tmp_path / "x.json"]
    for path in data:
        path.write_text("{}", encoding="utf-8")
    (tmp_path / "data").write_text("", encoding="utf-8")
    with pytest.raises(ModelError, match=message):
        check_output(tmp_path / output, data)


def test_check_output_leaves_no_trace(tmp_path: Path) -> None:
    # Missing folders are fine (saving makes them) and checking writes nothing.
    check_output(tmp_path / "new" / "deeper" / "m.joblib", [])
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ModelError, match="Not a directory"):
        (tmp_path / "file").write_text("", encoding="utf-8")
        check_output(tmp_path / "file" / "deeper" / "m.joblib", [])


@pytest.mark.parametrize(
    ("ids", "licence", "expected"),
    [
        pytest.param(["l3s-1", "concat:dragnet-2+l3s-3"], None, CORPUS_LICENCES, id="corpus"),
        pytest.param(["dragnet-2"], "mine: CC-BY", "Dragnet-derived dumps: AGPLv3 "
                     "(seomoz/dragnet_data); see ../shared/corpus/README.md; mine: CC-BY",
                     id="dragnet-and-own"),
        pytest.param(["site-1"], "CC0", "CC0", id="own-data"),
        pytest.param(["site-1"], None, UNKNOWN_LICENCE, id="unknown"),
    ],
)
def test_data_licences(ids: list[str], licence: str | None, expected: str) -> None:
    assert data_licences([dump(i, []) for i in ids], licence=licence) == expected


def test_failed_training_keeps_the_old_model(tmp_path: Path) -> None:
    model = tmp_path / "m.joblib"
    model.write_bytes(b"old model")
    bad = tmp_path / "bad.txt"
    bad.write_text("body | fine\nhead\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.txt:2: "):
        train(bad, [], model)
    assert model.read_bytes() == b"old model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt", "m.joblib"]


def test_read_exclusions_skips_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("# pages whose gold is wrong\n\ndragnet-0001  # a thread as body\n"
                    "  l3s-0002\n#dragnet-0003\n", encoding="utf-8")
    assert read_exclusions(path) == {"dragnet-0001", "l3s-0002"}
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DataError, match=r"x\.txt: cannot read the exclusion list"):
        read_exclusions(path)


def test_training_files_exclude_whole_page_groups(tmp_path: Path) -> None:
    # A page falls with its group: its extracted view, the concat dump that holds it, and the
    # concat dump's other page (whose own page dump would otherwise train on it too).
    [base] = list(read_dumps(TRAIN))[:1]
    ids = ["dragnet-0001", "extracted:dragnet-0001", "dragnet-0001+dragnet-0002",
           "dragnet-0002", "dragnet-0003"]
    path = tmp_path / "c.jsonl"
    write_dumps([replace(base, id=i) for i in ids], path)
    [kept] = training_files(path, [], holdout=False, exclude=frozenset({"dragnet-0002"}))
    assert [d.id for d in kept.train] == ["dragnet-0003"]
    assert (kept.excluded, kept.held) == (4, ())
    [whole] = training_files(path, [], holdout=False)
    assert (len(whole.train), whole.excluded) == (5, 0)
    with pytest.raises(DataError, match=r"x\.txt: 2 listed page\(s\) in none of the training "
                                        r"files: dragnet-0009, l3s-0001"):
        check_exclusions(frozenset({"dragnet-0003", "dragnet-0009", "l3s-0001"}),
                         tmp_path / "x.txt", [kept])


def test_exclusion_leaves_the_held_out_split_as_it_was() -> None:
    dumps = list(read_dumps(TRAIN))
    [whole] = training_files(TRAIN, [], holdout=True)
    listed = frozenset(page_ids(dumps[0].id) + page_ids(dumps[-1].id))
    [fewer] = training_files(TRAIN, [], holdout=True, exclude=listed)
    assert fewer.held == whole.held
    side = held_out(dumps)
    assert fewer.excluded == (not side[0]) + (not side[-1])
    assert len(fewer.train) == len(whole.train) - fewer.excluded


def test_training_files_hold_out_only_the_base(tmp_path: Path) -> None:
    files = training_files(TRAIN, [TRAIN], holdout=True, extra_weight=3.0)
    side = held_out(list(read_dumps(TRAIN)))
    assert [len(f.held) for f in files] == [sum(side), 0]
    assert [f.weight for f in files] == [1.0, 3.0]
    assert [f.format for f in files] == ["jsonl", "jsonl"]


def test_describe_card_of_an_older_or_partial_card() -> None:
    # Cards written before per-file counts existed (and odd ones) still read, with "?" gaps.
    text = describe_card({"training_data": [{"path": "c.jsonl", "sha256": "ab", "bytes": 5}],
                          "dumps": 1802, "scores": {"cv": "3-fold"}})
    assert "  c.jsonl (jsonl): 5 bytes\n    sha256 ab\n" in text
    assert "trained on 1,802 dumps (? lines)" in text
    assert "cross-validated" not in text  # no labeller report to show
    assert describe_card({}).startswith("?\n  built by cleaner ? on ?, seed ?\n")
    odd = describe_card({"versions": "1.9", "training_data": ["x"], "labels": "all",
                         "scores": {"labeller": {"per_label": {"body": {"f1": "high"}}}}})
    assert "  labels: all\n" in odd
    assert "  body              None    None    high     None\n" in odd
    assert "contradicted labels" not in text  # cards before the second fit have no such field
    assert "excluded" not in text  # nor before --exclude
    listed = describe_card({"excluded": {"path": "x.txt", "sha256": "cd", "pages": 7,
                                         "dumps": 45}})
    assert ("  excluded: 45 dumps, the page groups of 7 pages listed in x.txt (sha256 cd)\n"
            in listed)


def test_recipe_reads_each_constant_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    # The card must say what the run used: a constant changed before training (as bench.recipe's
    # --set does) shows in it; and every name in RECIPE is a real constant.
    from cleaner import segment
    from cleaner import train as train_module

    before = recipe_settings()
    assert set(before) == set(RECIPE)
    assert all(isinstance(value, int | float) for value in before.values())
    monkeypatch.setattr(train_module, "STAGE2_LEAVES", 7)
    monkeypatch.setattr(segment, "BOUNDARY_L2", 0.5)
    after = recipe_settings()
    assert after["cleaner.train.STAGE2_LEAVES"] == 7
    assert after["cleaner.segment.BOUNDARY_L2"] == 0.5
    assert {k: v for k, v in after.items() if k not in (
        "cleaner.train.STAGE2_LEAVES", "cleaner.segment.BOUNDARY_L2")} == {
        k: v for k, v in before.items() if k not in (
            "cleaner.train.STAGE2_LEAVES", "cleaner.segment.BOUNDARY_L2")}


def test_describe_card_names_the_arrays_file() -> None:
    text = describe_card({"sha256": "ab", "arrays": {"file": "m.npz", "sha256": "cd",
                                                     "size_bytes": 1234}})
    assert "  arrays (m.npz, what prediction reads): 1,234 bytes, sha256 cd\n" in text
    for card in ({}, {"arrays": "odd"}):  # a model from before the arrays, or an edited card
        assert "arrays" not in describe_card(card)


def test_describe_card_says_whether_stage_1_reads_word_pairs() -> None:
    with_pairs = describe_card({"features": {"pairs": {"max_words": 9, "buckets": 32768}}})
    assert "  stage 1 also reads word pairs of lines of at most 9 words\n" in with_pairs
    for card in ({}, {"features": {"pairs": {"max_words": 0}}}, {"features": "odd"}):
        assert "word pairs" not in describe_card(card)


def test_describe_card_shows_the_recipe() -> None:
    text = describe_card({"recipe": {"cleaner.train.STAGE2_LEAVES": 31,
                                     "cleaner.segment.BOUNDARY_L2": 10.0}})
    assert "  recipe: train.STAGE2_LEAVES=31, segment.BOUNDARY_L2=10.0\n" in text
    assert "recipe" not in describe_card({})  # older cards have none


def test_describe_card_says_how_many_labels_were_contradicted() -> None:
    text = describe_card({"contradicted_lines": {
        "rule": "weight 0 where ...", "lines": 3012,
        "by_labels": {"body -> comment": 3000, "teaser -> boilerplate": 12}}})
    assert ("  contradicted labels: 3,012 lines (body -> comment 3,000, teaser -> boilerplate "
            "12); weight 0 where ...\n") in text
