"""cleaner.train: class weights, relabelling, label reports, data loading and reproducibility."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleaner.annotated import held_out, read_dumps
from cleaner.errors import CleanerError
from cleaner.label import card_path
from cleaner.train import (
    FIXTURE_WEIGHT,
    class_weights,
    dump_groups,
    file_sha256,
    label_report,
    load_training,
    main,
    relabel,
    train,
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


def test_dump_groups_and_file_sha256() -> None:
    assert dump_groups([dump("concat:l3s-1+l3s-2", []), dump("x", [])]) == ["l3s-1", "x"]
    assert file_sha256(TRAIN) == hashlib.sha256(TRAIN.read_bytes()).hexdigest()


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


def test_training_is_reproducible(tmp_path: Path) -> None:
    """Same data and seed, same card scores (on a third of the fixtures, to stay quick)."""
    subset = tmp_path / "subset.jsonl"
    rows = TRAIN.read_text(encoding="utf-8").splitlines()
    subset.write_text("\n".join(rows[::3]) + "\n", encoding="utf-8")
    cards: list[dict[str, Any]] = []
    with single_thread():
        for run in ("a", "b"):
            cards.append(train(None, [subset], tmp_path / run / "m.joblib", seed=1))
    first, second = cards
    assert first["scores"] == second["scores"]
    assert first["scores"]["labeller"]["per_label"]["body"]["support"] > 0
    assert first["dumps"] == len(rows[::3])
    assert first["training_data"][0]["sha256"] == file_sha256(subset)
    assert first["labels"] == [label.value for label in LABELS]
    assert card_path(tmp_path / "a" / "m.joblib").exists()
