"""Train the line labeller (and the segmenter's boundary model) from annotated dumps.

Run as `python -m cleaner.train --corpus train.jsonl --fixtures DIR -o models/cleaner.joblib`.
Seeded and deterministic: the same data and seed give the same model card scores.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cleaner import __version__
from cleaner.annotated import HOLDOUT_PERCENT, held_out, page_ids, read_dumps
from cleaner.augment import synthetic_dumps
from cleaner.errors import CleanerError
from cleaner.features import DENSE_NAMES, HASH_FEATURES, vocabulary
from cleaner.label import (
    context_matrix,
    line_inputs,
    save_model,
    stage1_matrix,
)
from cleaner.types import LABELS, AnnotatedDump

DEFAULT_SEED = 20261122
FOLDS = 3
# Rare labels (byline, headline) weigh more, but only by the square root of their rarity:
# full balancing floods teaser/comment predictions into body text.
CLASS_WEIGHT_POWER = 0.5
# Our own hand-written fixtures stand for layouts the 2008/2012 corpus lacks; count them double.
FIXTURE_WEIGHT = 2.0
STAGE1_C = 1.0
STAGE1_ITERATIONS = 150
# Synthetic joins (cleaner.augment) per real training dump.
SYNTHETIC_SHARE = 0.3
STAGE2_ITERATIONS = 60
STAGE2_LEAVES = 31

CORPUS_LICENCES = (
    "L3S-GN1 derived dumps: research use only (Kohlschuetter et al., WSDM 2010); "
    "Dragnet-derived dumps: AGPLv3 (seomoz/dragnet_data); "
    "see ../shared/corpus/README.md"
)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def class_weights(
    y: NDArray[np.int64], *, power: float = CLASS_WEIGHT_POWER
) -> NDArray[np.float64]:
    """Per-sample weights (1 / class frequency) ** power, normalised to mean 1."""
    counts = np.bincount(y, minlength=len(LABELS)).astype(np.float64)
    per_class = np.where(counts > 0, (counts.sum() / np.maximum(counts, 1)) ** power, 0.0)
    weights = per_class[y]
    return np.asarray(weights / weights.mean(), dtype=np.float64)


def dump_groups(dumps: Sequence[AnnotatedDump]) -> list[str]:
    """A group key per dump for cross-validation: its first page id (never split a page)."""
    return [page_ids(d.id)[0] for d in dumps]


def fit_labeller(
    dumps: Sequence[AnnotatedDump],
    weights: Sequence[float],
    *,
    seed: int = DEFAULT_SEED,
    folds: int = FOLDS,
    log: Any = None,
    scored: int | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit both stages (stage 2 on out-of-fold stage-1 probabilities); return estimators, CV."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    say = log or (lambda _msg: None)
    vocab = vocabulary()
    label_col = {label: i for i, label in enumerate(LABELS)}
    words, dense = line_inputs([d.lines for d in dumps], vocab)
    y = np.array([label_col[line.label] for d in dumps for line in d.lines if line.label], np.int64)
    row_dump = np.repeat(np.arange(len(dumps)), [len(d.lines) for d in dumps])
    sample_w = class_weights(y) * np.asarray(weights, dtype=np.float64)[row_dump]
    scaler = StandardScaler().fit(dense)
    x1 = stage1_matrix(words, dense, scaler)
    say(f"stage 1 design: {x1.shape[0]} lines x {x1.shape[1]} features")

    # lbfgs stops at STAGE1_ITERATIONS on purpose: running it to convergence costs minutes and
    # moved no held-out score, so its ConvergenceWarning is noise here.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    def stage1() -> Any:
        return LogisticRegression(C=STAGE1_C, max_iter=STAGE1_ITERATIONS, tol=1e-4,
                                  random_state=seed)

    # Out-of-fold probabilities: stage 2 must learn from stage 1 as it behaves on unseen pages.
    groups = np.array(dump_groups(dumps))[row_dump]
    oof = np.zeros((len(y), len(LABELS)), dtype=np.float32)
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (tr, te) in enumerate(splitter.split(x1, y, groups)):
        model = stage1().fit(x1[tr], y[tr], sample_weight=sample_w[tr])
        oof[te] = _full_proba(model, x1[te])
        say(f"stage 1 fold {fold + 1}/{folds} done")
    lines_model = stage1().fit(x1, y, sample_weight=sample_w)
    x2 = context_matrix(dense, oof, [len(d.lines) for d in dumps])

    def stage2() -> Any:
        return HistGradientBoostingClassifier(
            max_iter=STAGE2_ITERATIONS,
            max_leaf_nodes=STAGE2_LEAVES,
            learning_rate=0.1,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=seed,
        )

    # Cross-validated scores of the whole two-stage labeller, for the model card.
    cv_pred = np.zeros(len(y), dtype=np.int64)
    for fold, (tr, te) in enumerate(splitter.split(x2, y, groups)):
        cv_pred[te] = stage2().fit(x2[tr], y[tr], sample_weight=sample_w[tr]).predict(x2[te])
        say(f"stage 2 fold {fold + 1}/{folds} done")
    context_model = stage2().fit(x2, y, sample_weight=sample_w)
    estimators = {"scaler": scaler, "lines": lines_model, "context": context_model}
    # Scores count only the first `scored` dumps (the real ones, not synthetic joins).
    real = row_dump < (len(dumps) if scored is None else scored)
    return estimators, {"y": y[real], "pred": cv_pred[real], "stage1_pred": oof.argmax(1)[real],
                        "all_pred": cv_pred}


def relabel(dumps: Sequence[AnnotatedDump], predicted: NDArray[np.int64]) -> list[AnnotatedDump]:
    """Copies of the dumps with the predicted labels (rows of `predicted` follow the lines)."""
    out, start = [], 0
    for dump in dumps:
        labels = predicted[start : start + len(dump.lines)]
        start += len(dump.lines)
        lines = tuple(replace(line, label=LABELS[int(k)])
                      for line, k in zip(dump.lines, labels, strict=True))
        out.append(replace(dump, lines=lines))
    return out


def _full_proba(model: Any, x: Any) -> NDArray[np.float32]:
    """predict_proba with a column for every label, also those missing from a fold."""
    out = np.zeros((x.shape[0], len(LABELS)), dtype=np.float32)
    out[:, model.classes_] = model.predict_proba(x)
    return out


def label_report(y: NDArray[np.int64], pred: NDArray[np.int64]) -> dict[str, Any]:
    """Per-label precision/recall/F1, macro-F1, body-vs-rest F1 and the confusion matrix."""
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    ids = list(range(len(LABELS)))
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=ids, zero_division=0)
    per_label = {
        label.value: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                      "f1": round(float(f[i]), 4), "support": int(s[i])}
        for i, label in enumerate(LABELS)
    }
    return {
        "per_label": per_label,
        "macro_f1": round(float(np.mean(f)), 4),
        "body_f1": round(float(f1_score(y == 0, pred == 0)), 4),
        "confusion": confusion_matrix(y, pred, labels=ids).tolist(),
    }


def load_training(
    corpus: Path | None, fixtures: Sequence[Path], *, holdout: bool = True
) -> tuple[list[AnnotatedDump], list[float], list[AnnotatedDump]]:
    """Training dumps with their weights, and the held-out corpus dumps."""
    train: list[AnnotatedDump] = []
    weights: list[float] = []
    held: list[AnnotatedDump] = []
    if corpus is not None:
        dumps = list(read_dumps(corpus))
        for dump, out in zip(dumps, held_out(dumps) if holdout else [False] * len(dumps),
                             strict=True):
            (held if out else train).append(dump)
        weights = [1.0] * len(train)
    for path in fixtures:
        extra = list(read_dumps(path))
        train.extend(extra)
        weights.extend([FIXTURE_WEIGHT] * len(extra))
    return [d for d in train if d.lines], [w for d, w in zip(train, weights, strict=True)
                                           if d.lines], held


def train(
    corpus: Path | None,
    fixtures: Sequence[Path],
    output: Path,
    *,
    seed: int = DEFAULT_SEED,
    holdout: bool = True,
    log: Any = None,
) -> dict[str, Any]:
    """Train, score by grouped cross-validation, save the model and its card; return the card."""
    import joblib
    import scipy
    import sklearn

    from cleaner import segment

    say = log or (lambda _msg: None)
    started = time.time()
    dumps, weights, held = load_training(corpus, fixtures, holdout=holdout)
    if not dumps:
        raise CleanerError("no training dumps with lines")
    synthetic = synthetic_dumps(dumps, count=int(len(dumps) * SYNTHETIC_SHARE), seed=seed)
    say(f"{len(dumps)} training dumps, {sum(len(d.lines) for d in dumps)} lines, "
        f"{len(synthetic)} synthetic joins")
    estimators, cv = fit_labeller([*dumps, *synthetic], [*weights, *[1.0] * len(synthetic)],
                                  seed=seed, log=say, scored=len(dumps))
    # The segmenter learns on the labels it will see: the labeller's out-of-fold predictions.
    pool = relabel([*dumps, *synthetic], cv["all_pred"])
    estimators["boundary"] = segment.fit_boundaries(pool, seed=seed)
    data: list[dict[str, Any]] = [
        {"path": str(p), "sha256": file_sha256(p), "bytes": p.stat().st_size}
        for p in ([corpus] if corpus else []) + list(fixtures)
    ]
    card = {
        "name": "cleaner line labeller",
        "cleaner_version": __version__,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seed": seed,
        "labels": [label.value for label in LABELS],
        "features": {"hash": HASH_FEATURES, "dense": list(DENSE_NAMES),
                     "gaps": list(segment.GAP_NAMES)},
        "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__, "scipy": scipy.__version__,
                     "joblib": joblib.__version__},
        "training_data": data,
        "training_data_sha256": hashlib.sha256(
            "".join(d["sha256"] for d in data).encode()).hexdigest(),
        "licences": CORPUS_LICENCES,
        "holdout": (f"{HOLDOUT_PERCENT}% of page groups held out by SHA-256 of the smallest page "
                    "id (cleaner.annotated.held_out); not trained on") if holdout else "none",
        "dumps": len(dumps),
        "lines": len(cv["y"]),
        "held_out_dumps": len(held),
        "scores": {
            "cv": (f"{FOLDS}-fold cross-validation grouped by page, scored on real dumps only; "
                   "synthetic joins reuse training pages, so these run a little high: the "
                   "held-out numbers of `make bench` are the honest ones"),
            "stage1": label_report(cv["y"], cv["stage1_pred"]),
            "labeller": label_report(cv["y"], cv["pred"]),
        },
        "train_seconds": round(time.time() - started, 1),
    }
    save_model(estimators, card, output)
    return card


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point of `python -m cleaner.train`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="annotated JSONL corpus")
    parser.add_argument("--fixtures", type=Path, nargs="*", default=[],
                        help="extra annotated JSONL files (our own fixtures)")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--no-holdout", action="store_true", help="train on the whole corpus")
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        card = train(args.corpus, args.fixtures, args.output, seed=args.seed,
                     holdout=not args.no_holdout, log=log)
    except CleanerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    scores = card["scores"]["labeller"]
    log(f"saved {args.output}: cv macro-F1 {scores['macro_f1']}, body F1 {scores['body_f1']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
