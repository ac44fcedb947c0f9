"""The fitted estimators as plain numpy arrays, and their predictions without scikit-learn.

`cleaner split` on one small file spent most of its wall time importing scikit-learn (about
1.1 s of 1.75 s): unpickling a HistGradientBoostingClassifier imports its module, and that
imports most of scikit-learn and scipy. So training also exports what prediction needs from
each estimator (a scaler's means, a linear model's coefficients, every tree's nodes) into an
.npz file beside the model, and labelling and segmenting predict from those arrays with numpy
(and scipy.sparse for the stage-1 product). The scikit-learn objects stay the persisted model
(cleaner.joblib), for retraining and inspection; this file is derived from them.

Each prediction repeats scikit-learn's arithmetic operation for operation (the same sparse
product, the same softmax, the same expit, each tree's leaf value added in the same order), so
the probabilities are the same floats to the last bit; tests check that on the shipped model.
Loading an .npz never unpickles (`allow_pickle=False`): it is data, not code.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cleaner.errors import ModelError

# Rows per tree walk: the walk keeps a (rows x trees) state, which should stay in the CPU's
# cache (512 was fastest of 256-4,096 on the context model's 360 trees).
WALK_ROWS = 512
# Zip member timestamps are fixed so that the same arrays give the same file bytes (and SHA-256).
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

Arrays = dict[str, NDArray[Any]]


@dataclass(frozen=True)
class Scaler:
    """StandardScaler.transform from its means and scales."""

    mean: NDArray[np.float64]
    scale: NDArray[np.float64]

    def transform(self, x: NDArray[Any]) -> NDArray[np.floating[Any]]:
        """Centre and scale the columns, as StandardScaler does (subtract, then divide)."""
        # StandardScaler keeps a float32 or float16 input's type (its arithmetic rounds to it).
        keep = x.dtype in (np.float64, np.float32, np.float16)
        out = np.array(x, dtype=x.dtype if keep else np.float64)
        out -= self.mean.astype(out.dtype)
        out /= self.scale.astype(out.dtype)
        return out


@dataclass(frozen=True)
class Linear:
    """LogisticRegression.predict_proba from its coefficients and intercepts."""

    coef: NDArray[np.float64]  # (classes, features), or (1, features) for two classes
    intercept: NDArray[np.float64]
    classes_: NDArray[np.int64]

    @property
    def n_features_in_(self) -> int:
        """Columns the model was fit on."""
        return int(self.coef.shape[1])

    def predict_proba(self, x: Any) -> NDArray[np.float64]:
        """Class probabilities (rows = samples, columns = classes_)."""
        scores: NDArray[np.float64] = np.asarray(x @ self.coef.T) + self.intercept
        return _two_columns(scores[:, 0]) if len(self.classes_) <= 2 else _softmax(scores)


def _two_columns(raw: NDArray[np.float64]) -> NDArray[np.float64]:
    """Two classes' probabilities from one raw score per row: 1 - expit, expit (scikit-learn's)."""
    from scipy.special import expit

    proba = np.empty((raw.shape[0], 2), dtype=np.float64)
    proba[:, 1] = expit(raw)
    proba[:, 0] = 1 - proba[:, 1]
    return proba


def _softmax(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """scikit-learn's softmax, step for step, in place."""
    x -= np.max(x, axis=1).reshape((-1, 1))
    np.exp(x, out=x)
    x /= np.sum(x, axis=1).reshape((-1, 1))
    return x


@dataclass(frozen=True)
class Trees:
    """HistGradientBoostingClassifier.predict_proba from its trees' nodes (numeric splits only).

    All trees' nodes sit in one set of arrays; `roots` is each tree's first node, in the order
    the trees are added (iteration by iteration, one tree per class column in each).
    """

    roots: NDArray[np.intp]
    feature: NDArray[np.intp]
    threshold: NDArray[np.float64]
    missing_left: NDArray[np.bool_]
    left: NDArray[np.intp]  # absolute node indices
    right: NDArray[np.intp]
    leaf: NDArray[np.bool_]
    value: NDArray[np.float64]
    baseline: NDArray[np.float64]  # (1, columns)
    classes_: NDArray[np.int64]
    # scikit-learn stores a node's left child right after it; then the walk needs only the
    # distance to the right child (0 at a leaf), one array read fewer per step (about 20%).
    jump: NDArray[np.intp] | None = None

    def raw(self, x: Any) -> NDArray[np.float64]:
        """Raw scores (rows x columns): the baseline plus each tree's leaf value, tree by tree."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        columns = self.baseline.shape[1]
        out = np.zeros((x.shape[0], columns), dtype=np.float64, order="F")
        out += self.baseline
        for start in range(0, x.shape[0], WALK_ROWS):
            leaves = self.value[self._walk(x[start : start + WALK_ROWS])]
            block = out[start : start + WALK_ROWS]
            # In tree order, one addition per tree, as scikit-learn adds them: floats summed in
            # another order could differ in the last bit.
            for tree in range(leaves.shape[1]):
                block[:, tree % columns] += leaves[:, tree]
        return out

    def _walk(self, x: NDArray[np.float64]) -> NDArray[np.intp]:
        """The leaf each row reaches in each tree (rows x trees), all trees at once."""
        rows, width = x.shape
        n_trees = len(self.roots)
        flat = x.ravel()
        node = np.tile(self.roots, rows)
        # Where each (row, tree) pair reads its row, and the pairs still above a leaf.
        offset = np.repeat(np.arange(rows, dtype=np.intp) * width, n_trees)
        active = np.flatnonzero(~self.leaf[node])
        has_nan = bool(np.isnan(flat).any())
        while active.size:
            at = node.take(active)
            value = flat.take(offset.take(active) + self.feature.take(at))
            # scikit-learn goes left when value <= threshold, and a NaN where the split says.
            go_right: NDArray[np.bool_]
            nxt: NDArray[np.intp]
            if has_nan:
                go_right = np.where(np.isnan(value), ~self.missing_left.take(at),
                                    ~(value <= self.threshold.take(at)))
            else:
                go_right = value > self.threshold.take(at)
            if self.jump is not None:
                nxt = at + 1 + go_right * self.jump.take(at)
            else:
                nxt = np.where(go_right, self.right.take(at), self.left.take(at))
            node[active] = nxt
            active = active[~self.leaf.take(nxt)]
        return node.reshape(rows, n_trees)

    def predict_proba(self, x: Any) -> NDArray[np.float64]:
        """Class probabilities: softmax of the raw scores, or expit of the one column."""
        raw = self.raw(x)
        return _two_columns(raw[:, 0]) if raw.shape[1] == 1 else _softmax(raw)


def export(estimators: Mapping[str, Any]) -> Arrays:
    """The arrays prediction needs from a model's estimators, by name ("context.value", ...)."""
    out: Arrays = {}
    for name, est in sorted(estimators.items()):
        if est is None:
            continue
        if isinstance(est, np.ndarray):
            out[f"{name}.array"] = est
        elif isinstance(est, list | tuple):
            for k, part in enumerate(est):
                out.update(_export_one(f"{name}.{k}", part))
        else:
            out.update(_export_one(name, est))
    return out


def _export_one(prefix: str, est: Any) -> Arrays:
    """One estimator's arrays, named under prefix."""
    kind = type(est).__name__
    if kind not in {"StandardScaler", "LogisticRegression", "HistGradientBoostingClassifier"}:
        raise ModelError(f"cannot export a {kind} as arrays")
    if kind == "StandardScaler":
        return {f"{prefix}.mean": est.mean_, f"{prefix}.scale": est.scale_}
    classes = {f"{prefix}.classes": np.asarray(est.classes_, dtype=np.int64)}
    if kind == "LogisticRegression":
        return {**classes, f"{prefix}.coef": est.coef_, f"{prefix}.intercept": est.intercept_}
    trees = [p for iteration in est._predictors for p in iteration]
    nodes = np.concatenate([tree.nodes for tree in trees])
    if nodes["is_categorical"].any():
        raise ModelError("cannot export a model with categorical splits as arrays")
    sizes = np.array([len(tree.nodes) for tree in trees], dtype=np.intp)
    roots = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
    shift = np.repeat(roots, sizes)
    leaf = nodes["is_leaf"].astype(bool)
    return {
        **classes,
        f"{prefix}.roots": roots,
        f"{prefix}.feature": nodes["feature_idx"].astype(np.intp),
        f"{prefix}.threshold": nodes["num_threshold"].astype(np.float64),
        f"{prefix}.missing_left": nodes["missing_go_to_left"].astype(bool),
        # A leaf's children are unused; pointing them at itself keeps every index valid.
        f"{prefix}.left": np.where(leaf, np.arange(len(nodes)), nodes["left"] + shift),
        f"{prefix}.right": np.where(leaf, np.arange(len(nodes)), nodes["right"] + shift),
        f"{prefix}.leaf": leaf,
        f"{prefix}.value": nodes["value"].astype(np.float64),
        f"{prefix}.baseline": np.asarray(est._baseline_prediction, dtype=np.float64).reshape(1, -1),
    }


def restore(arrays: Mapping[str, NDArray[Any]]) -> dict[str, Any]:
    """The predictors (Scaler, Linear, Trees, lists of them, plain arrays) an export describes."""
    groups: dict[str, dict[str, NDArray[Any]]] = {}
    for key, value in arrays.items():
        prefix, _, field = key.rpartition(".")
        groups.setdefault(prefix, {})[field] = value
    out: dict[str, Any] = {}
    # A bag's members in their order (boundary.2 before boundary.10).
    for prefix in sorted(groups, key=lambda p: (p.partition(".")[0], _member(p))):
        name, _, part = prefix.partition(".")
        one = _restore_one(prefix, groups[prefix])
        if part:
            bag = out.setdefault(name, [])
            if not isinstance(bag, list) or _member(prefix) != len(bag):
                raise ModelError(f"model arrays: {prefix} out of order")
            bag.append(one)
        else:
            out[name] = one
    return out


def _member(prefix: str) -> int:
    """A bag member's number in its prefix ("boundary.3" -> 3), -1 for a lone estimator."""
    part = prefix.partition(".")[2]
    return int(part) if part.isdigit() else -1


def _restore_one(prefix: str, fields: dict[str, NDArray[Any]]) -> Any:
    """One predictor from its fields."""
    try:
        if set(fields) == {"array"}:
            return fields["array"]
        if set(fields) == {"mean", "scale"}:
            return Scaler(fields["mean"], fields["scale"])
        if set(fields) == {"classes", "coef", "intercept"}:
            return Linear(fields["coef"], fields["intercept"], fields["classes"])
        if "value" in fields:
            left, right = fields["left"].astype(np.intp), fields["right"].astype(np.intp)
            leaf = fields["leaf"].astype(bool)
            index = np.arange(len(leaf), dtype=np.intp)
            left_next = bool(np.all(left[~leaf] == index[~leaf] + 1))
            return Trees(
                roots=fields["roots"].astype(np.intp),
                feature=fields["feature"].astype(np.intp),
                threshold=fields["threshold"],
                missing_left=fields["missing_left"].astype(bool),
                left=left,
                right=right,
                leaf=leaf,
                value=fields["value"],
                baseline=fields["baseline"],
                classes_=fields["classes"],
                jump=np.where(leaf, 0, right - index - 1) if left_next else None,
            )
    except KeyError as err:
        raise ModelError(f"model arrays: {prefix} lacks {err}") from None
    raise ModelError(f"model arrays: {prefix} has unknown fields {sorted(fields)}")


def to_bytes(arrays: Mapping[str, NDArray[Any]]) -> bytes:
    """An .npz file's bytes (deflated; fixed member order and timestamps, so reproducible)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as member:
                np.lib.format.write_array(member, np.asarray(arrays[key]), allow_pickle=False)
    return buffer.getvalue()


def from_bytes(data: bytes) -> Arrays:
    """The arrays of an .npz file's bytes; never unpickles (an object array is refused)."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            out = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise ModelError(f"unreadable model arrays ({err})") from None
    # np.load hands a member that is not an .npy file over as its raw bytes.
    odd = sorted(key for key, value in out.items() if not isinstance(value, np.ndarray))
    if odd:
        raise ModelError(f"unreadable model arrays (not arrays: {', '.join(odd)})")
    return out
