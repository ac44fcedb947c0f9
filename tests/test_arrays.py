"""The numpy form of the estimators predicts exactly scikit-learn's floats; files round-trip."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from cleaner import arrays
from cleaner.arrays import Linear, Scaler, Trees
from cleaner.errors import ModelError
from cleaner.label import arrays_path, default_model_path, load_estimators

ROWS = 300


def _data(seed: int, *, classes: int, nan: bool = False) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(ROWS, 5)).astype(np.float32)
    y = (x[:, 0] * 2 + x[:, 1] > 0).astype(int) + (classes > 2) * (x[:, 2] > 0.5)
    if nan:
        x[rng.random(x.shape) < 0.1] = np.nan
    return x, y


def _round_trip(est: Any, name: str = "m") -> Any:
    """est exported, written to .npz bytes, read back and restored."""
    return arrays.restore(arrays.from_bytes(arrays.to_bytes(arrays.export({name: est}))))[name]


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("nan", [False, True], ids=["dense", "with-nan"])
def test_trees_predict_scikit_learn_s_floats(classes: int, nan: bool) -> None:
    x, y = _data(1, classes=classes, nan=nan)
    est = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(x, y)
    ours = _round_trip(est)
    assert isinstance(ours, Trees)
    probe, _ = _data(2, classes=classes, nan=nan)
    assert np.array_equal(ours.predict_proba(probe), est.predict_proba(probe))
    assert list(ours.classes_) == list(est.classes_)


def test_missing_values_follow_each_split_s_learned_side() -> None:
    # Training data with NaNs only where the target is 1: the trees learn to send NaN that way.
    x, y = _data(3, classes=2)
    x[y == 1, 0] = np.nan
    est = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(x, y)
    probe = np.full((4, 5), np.nan, dtype=np.float32)
    assert np.array_equal(_round_trip(est).predict_proba(probe), est.predict_proba(probe))


@pytest.mark.parametrize("classes", [2, 3])
def test_linear_predicts_scikit_learn_s_floats_on_sparse_rows(classes: int) -> None:
    from scipy import sparse

    x, y = _data(4, classes=classes)
    rows = sparse.csr_matrix(np.where(np.abs(x) > 0.5, x, 0).astype(np.float64))
    est = LogisticRegression(max_iter=200).fit(rows, y)
    ours = _round_trip(est)
    assert isinstance(ours, Linear)
    assert ours.n_features_in_ == est.n_features_in_
    assert np.array_equal(ours.predict_proba(rows), est.predict_proba(rows))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scaler_transforms_as_scikit_learn_does(dtype: Any) -> None:
    x, _ = _data(5, classes=2)
    est = StandardScaler().fit(x.astype(np.float64))
    ours = _round_trip(est)
    assert isinstance(ours, Scaler)
    got, want = ours.transform(x.astype(dtype)), est.transform(x.astype(dtype))
    assert got.dtype == want.dtype
    assert np.array_equal(got, want)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(probe=hnp.arrays(np.float32, (7, 5), elements=st.floats(
    width=32, allow_nan=True, allow_infinity=True)))
def test_any_rows_get_scikit_learn_s_floats(probe: Any) -> None:
    assert np.array_equal(_TREES[1].predict_proba(probe), _TREES[0].predict_proba(probe))


def _fitted_trees() -> tuple[Any, Trees]:
    x, y = _data(6, classes=3, nan=True)
    est = HistGradientBoostingClassifier(max_iter=15, random_state=0).fit(x, y)
    return est, _round_trip(est)


_TREES = _fitted_trees()


def test_more_rows_than_one_walk_give_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rows are walked WALK_ROWS at a time: the cut between blocks must not show.
    x, _ = _data(7, classes=3, nan=True)
    whole = _TREES[1].predict_proba(x)
    monkeypatch.setattr(arrays, "WALK_ROWS", 7)
    assert np.array_equal(_TREES[1].predict_proba(x), whole)


def test_bags_keep_their_order_past_ten() -> None:
    x, y = _data(8, classes=2)
    bag = [HistGradientBoostingClassifier(max_iter=2 + k, random_state=k).fit(x, y)
           for k in range(12)]
    restored = arrays.restore(arrays.from_bytes(arrays.to_bytes(arrays.export(
        {"boundary": bag, "transitions": np.eye(2), "cuts": None}))))
    assert set(restored) == {"boundary", "transitions"}  # a None estimator has nothing to keep
    assert np.array_equal(restored["transitions"], np.eye(2))
    for ours, theirs in zip(restored["boundary"], bag, strict=True):
        assert np.array_equal(ours.predict_proba(x), theirs.predict_proba(x))


def test_the_same_arrays_give_the_same_bytes() -> None:
    exported = arrays.export({"m": _TREES[0]})
    assert arrays.to_bytes(exported) == arrays.to_bytes(dict(reversed(exported.items())))


def test_unknown_estimators_and_categorical_splits_are_not_exported() -> None:
    with pytest.raises(ModelError, match="cannot export a dict"):
        arrays.export({"m": {"not": "an estimator"}})
    x, _ = _data(9, classes=2)
    x[:, 4] = np.arange(ROWS) % 3
    y = (x[:, 4] == 1).astype(int)  # only the category tells: the trees must split on it
    est = HistGradientBoostingClassifier(max_iter=5, categorical_features=[4],
                                         random_state=0).fit(x, y)
    assert any(tree.nodes["is_categorical"].any() for it in est._predictors for tree in it)
    with pytest.raises(ModelError, match="categorical"):
        arrays.export({"m": est})


def test_an_object_array_is_never_unpickled() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, archive.open("m.array.npy", "w") as member:
        np.lib.format.write_array(member, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ModelError, match="unreadable model arrays"):
        arrays.from_bytes(buffer.getvalue())


def _zip_with_a_text_member() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("m.array.txt", "not an array")
    return buffer.getvalue()


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04broken",
                                  _zip_with_a_text_member()])
def test_garbage_is_a_model_error(data: bytes) -> None:
    with pytest.raises(ModelError, match="unreadable model arrays"):
        arrays.from_bytes(data)


def test_unknown_fields_are_a_model_error() -> None:
    with pytest.raises(ModelError, match="m has unknown fields"):
        arrays.restore({"m.what": np.zeros(1)})
    with pytest.raises(ModelError, match="lacks"):
        arrays.restore({"m.value": np.zeros(1)})


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_the_shipped_arrays_are_the_shipped_estimators() -> None:
    # The .npz is derived from cleaner.joblib: it must be exactly what exporting gives now.
    exported = arrays.to_bytes(arrays.export(load_estimators()))
    assert arrays_path(default_model_path()).read_bytes() == exported
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())


def test_the_walk_without_scikit_learn_s_node_layout_gives_the_same_rows() -> None:
    # The jump shortcut relies on a left child stored right after its parent; without it (a
    # layout scikit-learn might change) the walk reads both children and must agree.
    import dataclasses

    est, ours = _TREES
    assert ours.jump is not None
    x, _ = _data(10, classes=3, nan=True)
    general = dataclasses.replace(ours, jump=None)
    assert np.array_equal(general.predict_proba(x), est.predict_proba(x))
