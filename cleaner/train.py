"""Train the line labeller (and the segmenter's boundary model) from annotated dumps.

Run as `cleaner train CORPUS [EXTRA...] -o MODEL` (or `python -m cleaner.train --corpus CORPUS
--fixtures EXTRA... -o MODEL`); `make train` builds the shipped model that way.
Seeded and deterministic: the same data and seed give the same model card scores.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import importlib
import itertools
import os
import platform
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from cleaner import __version__, augment
from cleaner.annotated import (
    HOLDOUT_PERCENT,
    annotated_format,
    held_out,
    page_groups,
    page_ids,
    read_annotated,
)
from cleaner.augment import brief_dumps, synthetic_dumps
from cleaner.errors import CleanerError, DataError, ModelError
from cleaner.features import (
    DENSE_NAMES,
    HASH_FEATURES,
    PAIR_FEATURES,
    Vocabulary,
    pair_setting,
    vocabulary,
)
from cleaner.label import (
    card_path,
    context_matrix,
    context_names,
    line_inputs,
    save_model,
    stage1_matrix,
)
from cleaner.types import LABELS, AnnotatedDump
from cleaner.write import AtomicFile, write_rows

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
# The briefs' random stream starts this far from the joins' (seed + fold), so none is shared.
BRIEF_SEED_OFFSET = 1000
STAGE2_ITERATIONS = 60
STAGE2_LEAVES = 31
STAGE2_LEARNING_RATE = 0.1
STAGE2_L2 = 1.0
# Stage 2 learns how stage 1 errs on pages it has not seen, from one draw of folds (and of the
# synthetic joins made within them): a sample, and the shipped model moved with it (held-out body
# F1 0.808 to 0.843 over three training seeds). With more draws, stage 2 is fit on the rows of
# each (its sample weights divided by their number), a smoother picture of stage 1 at the same
# cost per predicted line. make train keeps one: three narrowed the seed spread and fixed seed
# lines, but lost a gate cut with every seed tried (docs/recipes.md, "Stage 2 from several draws").
STAGE2_DRAWS = 1
# Confident learning, simplified (Northcutt, Jiang and Chuang, JAIR 2021), for training data
# with label noise (`drop_contradicted`): a training line whose gold label the cross-validated
# labeller gives p < NOISE_GOLD_P while it gives another label p >= NOISE_OTHER_P is most likely
# mislabelled, and weighs nothing in a second fit. The corpus's gold counts many reader comments
# as body ("Reply", "Ivan — July 18th, 2012, 5:58 pm"): 2.7% of its training lines are caught,
# half of them body lines the labeller takes for comments. make train does not use it: over two
# seeds it cut held-out Pk on bare dumps by 0.04 but cost 0.055 of exact concat counts, and body
# F1 moved +0.012 and -0.006. The cut-offs are the method's usual ones, not tuned.
NOISE_GOLD_P = 0.05
NOISE_OTHER_P = 0.9
# The constants a training run reads, recorded in the model card ("recipe") so that a model
# says how it was built: a retrained model that scores differently can be told apart from one
# built by another recipe. The names are those bench.recipe's --set takes.
RECIPE = (
    "cleaner.train.CLASS_WEIGHT_POWER", "cleaner.train.STAGE1_C",
    "cleaner.train.STAGE1_ITERATIONS", "cleaner.train.SYNTHETIC_SHARE",
    "cleaner.train.STAGE2_ITERATIONS", "cleaner.train.STAGE2_LEAVES",
    "cleaner.train.STAGE2_LEARNING_RATE", "cleaner.train.STAGE2_L2",
    "cleaner.train.STAGE2_DRAWS",
    "cleaner.label.SEQUENCE_WEIGHT",
    "cleaner.augment.TITLE_AFTER_SHARE", "cleaner.augment.HEADLESS_SHARE",
    "cleaner.augment.SUMMARY_SHARE", "cleaner.augment.TEASER_RUN_SHARE",
    "cleaner.augment.BARE_SHARE", "cleaner.augment.BRIEF_SHARE",
    "cleaner.segment.BOUNDARY_BAGS", "cleaner.segment.BOUNDARY_ROUNDS",
    "cleaner.segment.BOUNDARY_LEAVES", "cleaner.segment.BOUNDARY_LEARNING_RATE",
    "cleaner.segment.BOUNDARY_L2", "cleaner.segment.POSITION_ROUNDS",
    "cleaner.segment.POSITION_LEAVES", "cleaner.segment.POSITION_LEARNING_RATE",
    "cleaner.segment.POSITION_L2", "cleaner.segment.CUT_CANDIDATE_MIN_P",
    "cleaner.segment.CUT_THRESHOLD", "cleaner.segment.CUT_ROUNDS", "cleaner.segment.CUT_LEAVES",
    "cleaner.segment.CUT_LEARNING_RATE", "cleaner.segment.CUT_L2",
)

# Licences of the corpus's sources, by the prefix of their page ids.
CORPUS_SOURCE_LICENCES = {
    "l3s": "L3S-GN1 derived dumps: research use only (Kohlschuetter et al., WSDM 2010)",
    "dragnet": "Dragnet-derived dumps: AGPLv3 (seomoz/dragnet_data)",
}
CORPUS_README = "see ../shared/corpus/README.md"
CORPUS_LICENCES = "; ".join([*CORPUS_SOURCE_LICENCES.values(), CORPUS_README])
UNKNOWN_LICENCE = "not recorded (give the training data's licence with `cleaner train --licence`)"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recipe_settings(names: Sequence[str] = RECIPE) -> dict[str, Any]:
    """The current value of each training constant named MODULE.NAME, for the model card."""
    out = {}
    for name in names:
        module, _, attr = name.rpartition(".")
        out[name] = getattr(importlib.import_module(module), attr)
    return out


def class_weights(
    y: NDArray[np.int64], *, power: float | None = None
) -> NDArray[np.float64]:
    """Per-sample weights (1 / class frequency) ** power, normalised to mean 1.

    `power` defaults to CLASS_WEIGHT_POWER read at call time, as every constant of RECIPE is:
    the model card records the value the module holds, and bench.recipe's --set changes it.
    """
    power = CLASS_WEIGHT_POWER if power is None else power
    counts = np.bincount(y, minlength=len(LABELS)).astype(np.float64)
    per_class = np.where(counts > 0, (counts.sum() / np.maximum(counts, 1)) ** power, 0.0)
    weights = per_class[y]
    return np.asarray(weights / weights.mean(), dtype=np.float64)


def assign_folds(
    dumps: Sequence[AnnotatedDump], *, folds: int = FOLDS, seed: int = DEFAULT_SEED
) -> NDArray[np.int64]:
    """The cross-validation fold of each dump, by page group (a page is never in two folds).

    Grouping by the whole page group, not a dump's first page, matters: a concat dump's second
    page also has its own `page` and `extracted` dumps, and they must not fall in other folds.
    """
    from sklearn.model_selection import GroupKFold

    fold = np.zeros(len(dumps), dtype=np.int64)
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(dumps)), groups=page_groups(dumps))):
        fold[test] = k
    return fold


def with_synthetic(
    dumps: Sequence[AnnotatedDump], weights: Sequence[float], fold: NDArray[np.int64], *,
    seed: int = DEFAULT_SEED, share: float | None = None,
) -> tuple[list[AnnotatedDump], list[float], NDArray[np.int64]]:
    """The dumps, then each fold's synthetic joins (weight 1) made of that fold's pages only.

    A join of pages from several folds would let the out-of-fold models see pages they are
    scored on, and stage 2 would learn from stage-1 probabilities better than it gets on new
    pages. `share` is joins per real dump (default SYNTHETIC_SHARE, read at call time).
    """
    share = SYNTHETIC_SHARE if share is None else share
    of_dump = fold.tolist()
    out, out_w, out_fold = list(dumps), list(weights), list(of_dump)
    for k in sorted(set(of_dump)):
        members = [d for d, f in zip(dumps, of_dump, strict=True) if f == k]
        joins = synthetic_dumps(members, count=int(len(members) * share), seed=seed + k)
        # Briefs after the joins, from their own random stream: the joins stay the same.
        joins += brief_dumps(members, count=int(len(members) * augment.BRIEF_SHARE),
                             seed=seed + k + BRIEF_SEED_OFFSET)
        out += [replace(d, id=f"synthetic-{k}-{n}") for n, d in enumerate(joins)]
        out_w += [1.0] * len(joins)
        out_fold += [k] * len(joins)
    return out, out_w, np.array(out_fold, dtype=np.int64)


def training_pool(
    dumps: Sequence[AnnotatedDump], weights: Sequence[float], *, seed: int = DEFAULT_SEED,
    folds: int = FOLDS,
) -> tuple[list[AnnotatedDump], list[float], NDArray[np.int64]]:
    """What the labeller is fit on: the real dumps and synthetic joins, weights and folds."""
    return with_synthetic(dumps, weights, assign_folds(dumps, folds=folds, seed=seed), seed=seed)


def contradicted(
    y: NDArray[np.int64], proba: NDArray[np.float32], *, gold_p: float = NOISE_GOLD_P,
    other_p: float = NOISE_OTHER_P,
) -> NDArray[np.bool_]:
    """Lines whose gold label out-of-fold predictions confidently contradict (NOISE_GOLD_P)."""
    gold = proba[np.arange(len(y)), y]
    out: NDArray[np.bool_] = (gold < gold_p) & (proba.max(axis=1) >= other_p)
    return out


def fit_labeller(
    dumps: Sequence[AnnotatedDump],
    weights: Sequence[float],
    *,
    fold: NDArray[np.int64] | None = None,
    seed: int = DEFAULT_SEED,
    folds: int = FOLDS,
    log: Any = None,
    scored: int | None = None,
    find_contradicted: bool = False,
    drop_contradicted: bool = False,
    pair_max_words: int | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit both stages (stage 2 on out-of-fold stage-1 probabilities); return estimators, CV.

    With label.SEQUENCE_WEIGHT set, also the label transitions, and the cross-validation's
    predictions are decoded with them as the pipeline decodes (label.decode).

    `fold` gives each dump's cross-validation fold, 0 to folds - 1 (default: assign_folds).
    With `find_contradicted`, the CV results' `noisy` marks the lines whose gold label
    cross-validation contradicts (`contradicted`; all False without it), and `first_proba`
    holds the probabilities that did. With `drop_contradicted` (which finds them too), those
    lines are given no weight and everything is fit again: cross-validated twice, twice the time.
    With STAGE2_DRAWS above 1, stage 2 also learns from that many - 1 more draws of folds (and
    of joins, when the first `scored` dumps are followed by the pool's joins) over the real
    dumps, in the cross-validation too (never from a row of the fold it predicts).
    `pair_max_words` is stage 1's word-pair setting (features.hash_pairs; default the recipe's).
    """
    from sklearn.preprocessing import StandardScaler

    from cleaner import label as labelling

    say = log or (lambda _msg: None)
    if fold is None:
        fold = assign_folds(dumps, folds=folds, seed=seed)
    vocab = vocabulary(pair_max_words=pair_max_words)
    words, dense, y, row_dump, sample_w, splits = _pool_rows(dumps, weights, fold, folds=folds,
                                                             vocab=vocab)
    scaler = StandardScaler().fit(dense)
    x1 = stage1_matrix(words, dense, scaler)
    say(f"stage 1 design: {x1.shape[0]} lines x {x1.shape[1]} features")
    design = _Design(x1, dense, y, [len(d.lines) for d in dumps], splits, seed)
    real_dumps = len(dumps) if scored is None else scored
    real_rows = int(sum(len(d.lines) for d in dumps[:real_dumps]))
    # Read at call time, so that bench.recipe's --set reaches it.
    draws = STAGE2_DRAWS
    extra = [_drawn_rows(dumps[:real_dumps], weights[:real_dumps], scaler, vocab,
                         first_fold=fold[:real_dumps], seed=draw_seed(seed, d), folds=folds,
                         synthetic=real_dumps < len(dumps), say=say)
             for d in range(1, draws)]
    cv = design.cross_validate(sample_w, say, extra=extra)
    noisy = np.zeros(len(y), dtype=np.bool_)
    first_proba = cv.proba
    if find_contradicted or drop_contradicted:
        noisy = contradicted(y, first_proba)
        say(f"{int(noisy.sum())} of {len(y)} lines contradicted by cross-validation"
            + (": fitting again without them" if drop_contradicted else ""))
    if drop_contradicted:
        sample_w = np.where(noisy, 0.0, sample_w)
        # The real dumps' lines come first in every draw, in the same order: what the first
        # draw found contradicted weighs nothing in the others either (their joins are kept).
        extra = [replace(rows, w=np.concatenate([np.where(noisy[:real_rows], 0.0,
                                                          rows.w[:real_rows]),
                                                 rows.w[real_rows:]]))
                 for rows in extra]
        cv = design.cross_validate(sample_w, say, extra=extra)
    x2, y2, w2 = _with_draws(cv.x2, y, sample_w, [(rows, slice(None)) for rows in extra])
    say("final fit")
    estimators = {"scaler": scaler, "lines": design.fit_stage1(sample_w),
                  "context": design.stage2().fit(x2, y2, sample_weight=w2)}
    # Scores count only the first `scored` dumps (the real ones, not synthetic joins).
    real = row_dump < real_dumps
    pred = cv.proba.argmax(axis=1)
    if labelling.SEQUENCE_WEIGHT:
        # The transitions are 72 counts of the whole pool, not refit per fold: what they could
        # carry over from a fold's own lines is negligible beside stage 2's probabilities.
        estimators["transitions"] = labelling.fit_transitions(dumps)
        bounds = np.cumsum([0, *(len(d.lines) for d in dumps)])
        # pred[:0] leads: it keeps argmax's dtype and makes an empty pool concatenate too.
        pred = np.concatenate([pred[:0], *labelling.decode(
            [cv.proba[a:b] for a, b in itertools.pairwise(bounds)], [d.lines for d in dumps],
            estimators["transitions"])])
    return estimators, {"y": y[real], "pred": pred[real], "stage1_pred": cv.oof.argmax(1)[real],
                        "all_pred": pred, "all_proba": cv.proba, "noisy": noisy[real],
                        "first_proba": first_proba[real]}


def draw_seed(seed: int, draw: int) -> int:
    """The seed of a training run's extra draw of folds and joins (STAGE2_DRAWS); draw 0 is seed.

    Far from seed + 1 so that one training seed's extra draws are not another seed's first.
    """
    return seed + draw * 1_000_003


@dataclass(frozen=True)
class _StageTwoRows:
    """Stage 2's training rows from one draw: context features, gold labels, sample weights."""

    x2: NDArray[np.float32]
    y: NDArray[np.int64]
    w: NDArray[np.float64]
    # The first draw's fold of each row's dump; -1 for the draw's own joins, which mix pages of
    # several first-draw folds and so may train no cross-validation fold's stage 2.
    fold: NDArray[np.int64]


def _drawn_rows(
    dumps: Sequence[AnnotatedDump], weights: Sequence[float], scaler: Any, vocab: Vocabulary,
    *, first_fold: NDArray[np.int64], seed: int, folds: int, synthetic: bool,
    say: Callable[[str], None],
) -> _StageTwoRows:
    """Stage-2 rows of another draw: new folds (and joins within them), stage 1 out of fold.

    Only stage 1 is cross-validated here: stage 2 needs its input as stage 1 gives it on unseen
    pages, not its own cross-validated scores. The draw-0 scaler keeps the columns comparable.
    """
    fold = assign_folds(dumps, folds=folds, seed=seed)
    pool, pool_w, fold = (with_synthetic(dumps, weights, fold, seed=seed) if synthetic
                          else (list(dumps), list(weights), fold))
    words, dense, y, row_dump, sample_w, splits = _pool_rows(pool, pool_w, fold, folds=folds,
                                                             vocab=vocab)
    design = _Design(stage1_matrix(words, dense, scaler), dense, y,
                     [len(d.lines) for d in pool], splits, seed)
    say(f"draw seed {seed}: {len(pool)} dumps, {len(y)} lines")
    first = np.concatenate([first_fold, np.full(len(pool) - len(dumps), -1, np.int64)])
    return _StageTwoRows(design.out_of_fold(sample_w, say), y, sample_w, first[row_dump])


class _PoolRows(NamedTuple):
    """A training pool's lines as rows: stage-1 inputs, gold labels, weights and fold splits."""

    words: Any
    dense: NDArray[np.float32]
    y: NDArray[np.int64]
    row_dump: NDArray[np.int64]
    sample_w: NDArray[np.float64]
    splits: list[tuple[NDArray[np.int64], NDArray[np.int64]]]


def _pool_rows(
    dumps: Sequence[AnnotatedDump], weights: Sequence[float], fold: NDArray[np.int64], *,
    folds: int, vocab: Vocabulary,
) -> _PoolRows:
    """Each line of the dumps as a row: class- and dump-weighted, split by its dump's fold."""
    label_col = {label: i for i, label in enumerate(LABELS)}
    words, dense = line_inputs([d.lines for d in dumps], vocab)
    y = np.array([label_col[line.label] for d in dumps for line in d.lines if line.label], np.int64)
    row_dump = np.repeat(np.arange(len(dumps)), [len(d.lines) for d in dumps])
    sample_w = class_weights(y) * np.asarray(weights, dtype=np.float64)[row_dump]
    row_fold = fold[row_dump]
    splits = [(np.flatnonzero(row_fold != k), np.flatnonzero(row_fold == k))
              for k in range(folds)]
    return _PoolRows(words, dense, y, row_dump, sample_w, splits)


def _with_draws(
    x2: NDArray[np.float32], y: NDArray[np.int64], w: NDArray[np.float64],
    extra: Sequence[tuple[_StageTwoRows, Any]],
) -> tuple[NDArray[np.float32], NDArray[np.int64], NDArray[np.float64]]:
    """Stage 2's training rows: these, then each extra draw's rows picked by its index.

    The weights are divided by the number of draws, so that more draws do not weigh more
    against the regularisation; with no extra draw the rows are returned as they are.
    """
    if not extra:
        return x2, y, w
    return (np.vstack([x2, *(rows.x2[pick] for rows, pick in extra)]),
            np.concatenate([y, *(rows.y[pick] for rows, pick in extra)]),
            np.concatenate([w, *(rows.w[pick] for rows, pick in extra)]) / (len(extra) + 1))


@dataclass(frozen=True)
class _CrossValidated:
    """One cross-validation pass: out-of-fold stage-1 and stage-2 probabilities, stage-2 design."""

    oof: NDArray[np.float32]
    x2: NDArray[np.float32]
    proba: NDArray[np.float32]


@dataclass(frozen=True)
class _Design:
    """The labeller's training matrices and folds, fit with any per-line weights."""

    x1: Any
    dense: NDArray[np.float32]
    y: NDArray[np.int64]
    sizes: list[int]
    splits: list[tuple[NDArray[np.int64], NDArray[np.int64]]]
    seed: int

    def fit_stage1(self, sample_w: NDArray[np.float64], rows: Any = None) -> Any:
        """Stage 1 (logistic regression) on all rows, or on `rows`."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits

        model = LogisticRegression(C=STAGE1_C, max_iter=STAGE1_ITERATIONS, tol=1e-4,
                                   random_state=self.seed)
        # lbfgs stops at STAGE1_ITERATIONS on purpose: running it to convergence costs minutes
        # and moved no held-out score, so its ConvergenceWarning is noise here. Silenced for
        # the fit only: a caller's own warning filters are left as they were. Stopped
        # unconverged, it also carries the rounding of BLAS's threaded sums into the
        # coefficients (up to 0.05 apart with 1 and 2 threads on 400 corpus dumps): one BLAS
        # thread makes the model the same whatever a machine's cores (not across CPUs whose BLAS
        # kernels round differently: README, Training).
        with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            if rows is None:
                return model.fit(self.x1, self.y, sample_weight=sample_w)
            return model.fit(self.x1[rows], self.y[rows], sample_weight=sample_w[rows])

    def stage2(self) -> Any:
        """An unfitted stage-2 model (gradient boosting over the context features)."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=STAGE2_ITERATIONS,
            max_leaf_nodes=STAGE2_LEAVES,
            learning_rate=STAGE2_LEARNING_RATE,
            l2_regularization=STAGE2_L2,
            early_stopping=False,
            random_state=self.seed,
        )

    def stage1_out_of_fold(self, sample_w: NDArray[np.float64], say: Any) -> NDArray[np.float32]:
        """Each row's stage-1 probabilities from the fit on the other folds."""
        oof = np.zeros((len(self.y), len(LABELS)), dtype=np.float32)
        for k, (tr, te) in enumerate(self.splits):
            oof[te] = _full_proba(self.fit_stage1(sample_w, tr), self.x1[te])
            say(f"stage 1 fold {k + 1}/{len(self.splits)} done")
        return oof

    def out_of_fold(self, sample_w: NDArray[np.float64], say: Any) -> NDArray[np.float32]:
        """Stage 2's input: context features over out-of-fold stage-1 probabilities."""
        return context_matrix(self.dense, self.stage1_out_of_fold(sample_w, say), self.sizes)

    def cross_validate(
        self, sample_w: NDArray[np.float64], say: Any, *, extra: Sequence[_StageTwoRows] = (),
    ) -> _CrossValidated:
        """Out-of-fold probabilities of both stages, with these per-line weights.

        Each fold's stage 2 also learns from the `extra` draws' rows of the other folds' pages,
        as the final stage 2 learns from all of them (STAGE2_DRAWS).
        """
        # Stage 2 must learn from stage 1 as it behaves on unseen pages: out-of-fold input.
        oof = self.stage1_out_of_fold(sample_w, say)
        x2 = context_matrix(self.dense, oof, self.sizes)
        # Cross-validated probabilities of the whole two-stage labeller: scores, and noise.
        proba = np.zeros_like(oof)
        for k, (tr, te) in enumerate(self.splits):
            x_k, y_k, w_k = _with_draws(
                x2[tr], self.y[tr], sample_w[tr],
                [(rows, np.flatnonzero((rows.fold >= 0) & (rows.fold != k))) for rows in extra])
            fitted = self.stage2().fit(x_k, y_k, sample_weight=w_k)
            proba[te] = _full_proba(fitted, x2[te])
            say(f"stage 2 fold {k + 1}/{len(self.splits)} done")
        return _CrossValidated(oof, x2, proba)


def relabel(
    dumps: Sequence[AnnotatedDump], predicted: NDArray[np.int64],
    proba: NDArray[np.float32] | None = None,
) -> list[AnnotatedDump]:
    """Copies of the dumps with the predicted labels (rows of `predicted` follow the lines).

    With `proba` (rows as `predicted`), each line also gets its label's probability, rounded as
    the pipeline rounds it (apply_labels); without, p stays as it was (None for gold lines).
    """
    out, start = [], 0
    for dump in dumps:
        labels = predicted[start : start + len(dump.lines)].tolist()
        ps = (None if proba is None else
              proba[start + np.arange(len(dump.lines)), labels].tolist())
        start += len(dump.lines)
        lines = tuple(replace(line, label=LABELS[int(k)],
                              p=line.p if ps is None else round(ps[i], 4))
                      for i, (line, k) in enumerate(zip(dump.lines, labels, strict=True)))
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


@dataclass(frozen=True)
class TrainingFile:
    """One annotated file read for training: what trains, what is held out, at what weight."""

    path: Path
    format: str
    weight: float
    train: tuple[AnnotatedDump, ...]  # dumps with lines, not held out
    held: tuple[AnnotatedDump, ...]
    excluded: int = 0  # dumps left out of training by an exclusion list
    pages: frozenset[str] = frozenset()  # every page id the file holds (with an exclusion list)


def read_exclusions(path: Path) -> frozenset[str]:
    """The page ids of an exclusion file: one a line, `#` starts a comment, blank lines skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read the exclusion list: {err}") from None
    return frozenset(filter(None, (line.split("#", 1)[0].strip() for line in text.splitlines())))


def _excluded_groups(dumps: Sequence[AnnotatedDump], exclude: frozenset[str]) -> list[bool]:
    """Which dumps share a page group with a listed page (a group falls whole, so no page is
    trained on through another dump that holds it, and the held-out split does not move)."""
    groups = page_groups(dumps)
    bad = {g for d, g in zip(dumps, groups, strict=True) if exclude.intersection(page_ids(d.id))}
    return [g in bad for g in groups]


def training_files(
    corpus: Path | None, fixtures: Sequence[Path], *, holdout: bool = True,
    extra_weight: float = FIXTURE_WEIGHT, exclude: frozenset[str] = frozenset(),
) -> list[TrainingFile]:
    """Read the training files: the base corpus (weight 1, held out from) and the extra files.

    Dumps in the page group of a page in `exclude` do not train (held-out ones stay held out).
    """
    files: list[TrainingFile] = []
    inputs = [(corpus, True)] if corpus is not None else []
    for path, is_base in [*inputs, *((p, False) for p in fixtures)]:
        dumps = list(read_annotated(path))
        # Only the base corpus is held out from: extra files (ours, or a user's own) all train.
        side = held_out(dumps) if holdout and is_base else [False] * len(dumps)
        gone = _excluded_groups(dumps, exclude) if exclude else [False] * len(dumps)
        files.append(TrainingFile(
            path=path, format=annotated_format(path), weight=1.0 if is_base else extra_weight,
            train=tuple(d for d, out, g in zip(dumps, side, gone, strict=True)
                        if not out and not g and d.lines),
            held=tuple(d for d, out in zip(dumps, side, strict=True) if out),
            excluded=sum(g and not out for out, g in zip(side, gone, strict=True)),
            pages=frozenset(page for d in dumps for page in page_ids(d.id)) if exclude
            else frozenset(),
        ))
    return files


def check_exclusions(exclude: frozenset[str], path: Path, files: Sequence[TrainingFile]) -> None:
    """A listed page that no training file holds is a typo or the wrong list: say which."""
    unknown = sorted(exclude.difference(*(f.pages for f in files)))
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5
                                         else "")
        raise DataError(f"{path}: {len(unknown)} listed page(s) in none of the training files: "
                        f"{shown}")


def training_files_excluding(
    corpus: Path | None, fixtures: Sequence[Path], exclude: Path | None, *,
    holdout: bool = True, extra_weight: float = FIXTURE_WEIGHT,
) -> tuple[list[TrainingFile], frozenset[str]]:
    """training_files with the exclusion list at `exclude` read and checked; and the list."""
    listed = read_exclusions(exclude) if exclude is not None else frozenset()
    files = training_files(corpus, fixtures, holdout=holdout, extra_weight=extra_weight,
                           exclude=listed)
    if exclude is not None:
        check_exclusions(listed, exclude, files)
    return files, listed


def load_training(
    corpus: Path | None, fixtures: Sequence[Path], *, holdout: bool = True,
    extra_weight: float = FIXTURE_WEIGHT,
) -> tuple[list[AnnotatedDump], list[float], list[AnnotatedDump]]:
    """Training dumps with their weights, and the held-out corpus dumps."""
    files = training_files(corpus, fixtures, holdout=holdout, extra_weight=extra_weight)
    train = [d for f in files for d in f.train]
    weights = [f.weight for f in files for _ in f.train]
    return train, weights, [d for f in files for d in f.held]


def file_entry(file: TrainingFile) -> dict[str, Any]:
    """The model card's record of one training file: path, SHA-256, size and what it held."""
    return {"path": str(file.path), "sha256": file_sha256(file.path),
            "bytes": file.path.stat().st_size, "format": file.format,
            "dumps": len(file.train), "lines": sum(len(d.lines) for d in file.train),
            "held_out_dumps": len(file.held), "weight": file.weight,
            **({"excluded_dumps": file.excluded} if file.excluded else {})}


def data_licences(dumps: Sequence[AnnotatedDump], *, licence: str | None = None) -> str:
    """The licences that bind a model trained on these dumps (the corpus's, known by page id)."""
    sources = {page.split("-")[0] for dump in dumps for page in page_ids(dump.id)}
    parts = [text for source, text in CORPUS_SOURCE_LICENCES.items() if source in sources]
    if parts:
        parts.append(CORPUS_README)
    if licence:
        parts.append(licence)
    return "; ".join(parts) or UNKNOWN_LICENCE


def progress_steps(
    folds: int = FOLDS, *, find_contradicted: bool = False, drop_contradicted: bool = False
) -> int:
    """How many progress messages a training run logs (for a progress bar's length)."""
    # reading, data summary, stage-1 design, each stage-1 and stage-2 fold, final fit,
    # boundary, cut model, saving; finding contradicted lines adds their count, dropping them a
    # second pass.
    return (2 * folds + 7 + (1 if find_contradicted or drop_contradicted else 0)
            + (2 * folds if drop_contradicted else 0))


def check_data(dumps: Sequence[AnnotatedDump], *, folds: int) -> None:
    """Refuse data the model cannot be trained on, before minutes are spent on it."""
    if not dumps:
        raise DataError("no training dumps with lines")
    present = {line.label for dump in dumps for line in dump.lines}
    missing = [label.value for label in LABELS if label not in present]
    if missing:
        # The estimators must see every label: the model's columns are the six labels.
        raise DataError(f"the training data has no {', '.join(missing)} lines; every label "
                        "needs examples (add them, or train on the corpus as well)")
    groups = len(set(page_groups(dumps)))
    if groups < folds:
        raise DataError(f"{folds}-fold cross-validation needs at least {folds} page groups "
                        f"(dumps that share no page), the data has {groups}")


def check_report(report: Path, taken: Sequence[Path]) -> None:
    """Refuse a report path that is a directory, one of `taken` (inputs, model) or unwritable."""
    if report.is_dir():
        raise ModelError(f"{report}: is a directory")
    if report.resolve() in {p.resolve() for p in taken}:
        raise ModelError(f"{report}: is a training file or the model; choose another path")
    _check_folder(report, "cannot write the report there")


def check_output(output: Path, data: Sequence[Path]) -> None:
    """Refuse a model path that cannot be written, or whose card would overwrite something."""
    card = card_path(output)
    if card == output:
        raise ModelError(f"{output}: a model file cannot end in .json (that is its card's name)")
    if output.is_dir():
        raise ModelError(f"{output}: is a directory")
    inputs = {p.resolve() for p in data}
    for target in (output, card):
        if target.resolve() in inputs:
            raise ModelError(f"{target}: is a training file; choose another model path")
    _check_folder(output, "cannot write the model there")


def _check_folder(path: Path, message: str) -> None:
    """Refuse a path whose folder cannot take a file (ModelError: `path: message (why)`)."""
    # The nearest folder that exists must take a file; the missing ones are made when saving,
    # so a run that fails leaves no empty folders behind either.
    folder = path.parent.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        if not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise ModelError(f"{path}: {message} ({err.strerror})") from None


def _save(estimators: dict[str, Any], card: dict[str, Any], output: Path) -> None:
    """save_model, leaving no temporary file behind if it fails or is interrupted."""
    try:
        save_model(estimators, card, output)
    except BaseException as err:
        for target in (output, card_path(output)):
            target.with_name(target.name + ".tmp").unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise ModelError(f"{output}: cannot write the model ({err.strerror})") from None
        raise


def train(
    corpus: Path | None,
    fixtures: Sequence[Path],
    output: Path,
    *,
    seed: int = DEFAULT_SEED,
    holdout: bool = True,
    folds: int = FOLDS,
    extra_weight: float = FIXTURE_WEIGHT,
    licence: str | None = None,
    drop_contradicted: bool = False,
    contradicted_report: Path | None = None,
    pair_max_words: int | None = None,
    exclude: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train, score by grouped cross-validation, save the model and its card; return the card.

    `corpus` is the base data (with `holdout`, HOLDOUT_PERCENT of its page groups are held
    out); each line of the `fixtures` files weighs `extra_weight`. Either format is read.
    With `drop_contradicted`, lines that cross-validation confidently contradicts weigh nothing
    (fit_labeller); `contradicted_report` is a JSON Lines file to list them in, whether they
    are dropped or not (it appears, atomically, only once the model is saved).
    `pair_max_words` is stage 1's word-pair setting (features.hash_pairs; default the recipe's).
    `exclude` lists page ids (read_exclusions) whose page groups do not train: pages whose gold
    is known to be wrong as a whole, say; the card records the list's hash and what it dropped.
    """
    import joblib
    import scipy
    import sklearn

    from cleaner import segment

    say = log or (lambda _msg: None)
    started = time.time()
    paths = [*([corpus] if corpus is not None else []), *fixtures]
    check_output(output, paths)
    if contradicted_report is not None:
        check_report(contradicted_report, [*paths, output, card_path(output)])
    say(f"reading {len(paths)} training files")
    files, excluded = training_files_excluding(corpus, fixtures, exclude, holdout=holdout,
                                               extra_weight=extra_weight)
    dumps = [d for f in files for d in f.train]
    weights = [f.weight for f in files for _ in f.train]
    held = [d for f in files for d in f.held]
    check_data(dumps, folds=folds)
    everything, all_weights, all_folds = training_pool(dumps, weights, seed=seed, folds=folds)
    n_synthetic = len(everything) - len(dumps)
    say(f"{len(dumps)} training dumps, {sum(len(d.lines) for d in dumps)} lines, "
        f"{n_synthetic} synthetic joins, {len(held)} held out")
    # The word-pair setting, read once: the card records what the labeller was fit with.
    pairs = pair_setting(pair_max_words)
    estimators, cv = fit_labeller(everything, all_weights, fold=all_folds, seed=seed, folds=folds,
                                  log=say, scored=len(dumps),
                                  find_contradicted=contradicted_report is not None,
                                  drop_contradicted=drop_contradicted, pair_max_words=pairs)
    # The segmenter learns on the labels it will see: the labeller's out-of-fold predictions.
    say("boundary model")
    pool = relabel(everything, cv["all_pred"])
    estimators["boundary"] = segment.fit_boundaries(pool, seed=seed)
    # Where the cut goes among the furniture between two stories, learned on the same labels.
    estimators["position"] = segment.fit_positions(pool, seed=seed)
    # How many cuts: on the same labels with their probabilities (it reads a headline's), and
    # boundary scores out of fold.
    say("cut model")
    estimators["cuts"] = segment.fit_cuts(
        relabel(everything, cv["all_pred"], cv["all_proba"]), all_folds, seed=seed)
    data = [file_entry(f) for f in files]
    first_pred = cv["first_proba"].argmax(axis=1)
    if drop_contradicted:
        rule = (f"weight 0 where the cross-validated labeller gives the gold label p < "
                f"{NOISE_GOLD_P} and another p >= {NOISE_OTHER_P} (cleaner.train.contradicted)")
    elif contradicted_report is not None:
        rule = (f"found as cleaner.train.contradicted says (p < {NOISE_GOLD_P} for the gold "
                f"label, >= {NOISE_OTHER_P} for another), listed, not dropped")
    else:
        rule = "none: every label used as given"
    card = {
        "name": "cleaner line labeller",
        "cleaner_version": __version__,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seed": seed,
        "labels": [label.value for label in LABELS],
        "features": {"hash": HASH_FEATURES, "dense": list(DENSE_NAMES),
                     "pairs": {"max_words": pairs, "buckets": PAIR_FEATURES},
                     "context": context_names(), "gaps": list(segment.GAP_NAMES),
                     "positions": list(segment.POSITION_NAMES),
                     "cuts": list(segment.CUT_NAMES)},
        "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__, "scipy": scipy.__version__,
                     "joblib": joblib.__version__},
        "training_data": data,
        "training_data_sha256": hashlib.sha256(
            "".join(d["sha256"] for d in data).encode()).hexdigest(),
        "licences": data_licences([*dumps, *held], licence=licence),
        "holdout": (f"{HOLDOUT_PERCENT}% of the page groups of {corpus} held out by SHA-256 of "
                    "the smallest page id (cleaner.annotated.held_out); not trained on")
                   if holdout and corpus is not None else "none",
        "excluded": None if exclude is None else {
            "path": str(exclude), "sha256": file_sha256(exclude), "pages": len(excluded),
            "dumps": sum(f.excluded for f in files),
            "rule": "every dump in the page group of a listed page left out of training"},
        "dumps": len(dumps),
        "lines": len(cv["y"]),
        "held_out_dumps": len(held),
        "synthetic_dumps": n_synthetic,
        "folds": folds,
        "recipe": recipe_settings(),
        "contradicted_lines": {
            "rule": rule,
            "lines": int(cv["noisy"].sum()),
            "by_labels": _contradictions(cv["y"], first_pred, cv["noisy"]),
        },
        "scores": {
            "cv": (f"{folds}-fold cross-validation by page group (each fold's synthetic joins "
                   "made of its own pages), scored on real dumps only; held-out scores "
                   "(`cleaner eval --held-out`, `make bench`) are on pages no fold trained on"),
            "stage1": label_report(cv["y"], cv["stage1_pred"]),
            "labeller": label_report(cv["y"], cv["pred"]),
        },
        "train_seconds": round(time.time() - started, 1),
    }
    say(f"saving {output}")
    if contradicted_report is None:
        _save(estimators, card, output)
        return card
    # The report and the model appear together or not at all: the report waits, under a
    # temporary name, until the model is saved.
    sources = [f.path for f in files for _ in f.train]
    report = _staged_report(contradicted_report,
                            contradicted_rows(dumps, sources, cv["first_proba"], cv["noisy"]))
    try:
        _save(estimators, card, output)
    except BaseException:
        report.discard()
        raise
    report.commit()
    return card


def _staged_report(path: Path, rows: Sequence[dict[str, Any]]) -> AtomicFile:
    """The rows written as JSON Lines to a temporary file beside `path`, not yet committed."""
    staged = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = AtomicFile(path)
        write_rows(staged.handle, rows)
        staged.handle.flush()
    except OSError as err:
        if staged is not None:
            staged.discard()
        raise ModelError(f"{path}: cannot write the report ({err.strerror})") from None
    return staged


def contradicted_rows(
    dumps: Sequence[AnnotatedDump], sources: Sequence[Path], proba: NDArray[np.float32],
    noisy: NDArray[np.bool_],
) -> list[dict[str, Any]]:
    """One row per contradicted line (rows of `proba`/`noisy` follow the dumps' lines): where
    it is, its text, its gold label and the label cross-validation gave it, with both p."""
    located = [(source, dump, line) for dump, source in zip(dumps, sources, strict=True)
               for line in dump.lines]
    rows = []
    for i in np.flatnonzero(noisy).tolist():
        source, dump, line = located[i]
        gold = LABELS.index(line.label) if line.label else 0
        best = int(proba[i].argmax())
        rows.append({"file": str(source), "dump": dump.id, "line": line.number,
                     "text": line.text, "label": LABELS[gold].value,
                     "predicted": LABELS[best].value, "p_label": round(float(proba[i, gold]), 4),
                     "p": round(float(proba[i, best]), 4)})
    return rows


def _contradictions(
    y: NDArray[np.int64], pred: NDArray[np.int64], noisy: NDArray[np.bool_]
) -> dict[str, int]:
    """Counts of the contradicted lines by "gold -> predicted" label, most frequent first."""
    from collections import Counter

    pairs = Counter(f"{LABELS[g].value} -> {LABELS[p].value}"
                    for g, p in zip(y[noisy].tolist(), pred[noisy].tolist(), strict=True))
    return dict(sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0])))


def _mapping(value: Any) -> dict[str, Any]:
    """A card field that should be an object, or {} (a card is JSON anyone can edit)."""
    return value if isinstance(value, dict) else {}


def _count(value: Any) -> str:
    """A count with thousands separators; anything else as it is."""
    return f"{value:,}" if isinstance(value, int) else str(value)


def _score(value: Any, width: int) -> str:
    """A score to three decimals, right-aligned; anything else as it is."""
    return (f"{value:.3f}" if isinstance(value, int | float) else str(value)).rjust(width)


def describe_card(card: dict[str, Any], *, path: str = "") -> str:
    """A model card as people read it: what the model is, what it learnt from, how it scores."""
    get = card.get
    versions = ", ".join(f"{k} {v}" for k, v in _mapping(get("versions")).items())
    labels = get("labels")
    out = [
        f"{get('name', '?')}" + (f" ({path})" if path else ""),
        f"  built by cleaner {get('cleaner_version', '?')} on {get('created', '?')}, "
        f"seed {get('seed', '?')}"
        + (f", in {get('train_seconds')} s" if "train_seconds" in card else ""),
        f"  file: {_count(get('size_bytes', '?'))} bytes, sha256 {get('sha256', '?')}",
        *([f"  arrays ({arrays.get('file', '?')}, what prediction reads): "
           f"{_count(arrays.get('size_bytes', '?'))} bytes, sha256 {arrays.get('sha256', '?')}"]
          if (arrays := _mapping(get("arrays"))) else []),
        f"  labels: {', '.join(map(str, labels)) if isinstance(labels, list) else labels}",
        f"  library versions: {versions}",
    ]
    pairs = _mapping(_mapping(get("features")).get("pairs")).get("max_words")
    if pairs:
        out.append(f"  stage 1 also reads word pairs of lines of at most {pairs} words")
    out.append(f"training data (sha256 of the files' hashes {get('training_data_sha256', '?')}):")
    data = get("training_data")
    for entry in map(_mapping, data if isinstance(data, list) else []):
        counts = ", ".join(f"{_count(entry[key])} {name}" for key, name in (
            ("dumps", "dumps"), ("lines", "lines"), ("held_out_dumps", "held out"))
            if key in entry)
        weight = f", weight {entry['weight']}" if "weight" in entry else ""
        out.append(f"  {entry.get('path')} ({entry.get('format', 'jsonl')}{weight}): "
                   f"{_count(entry.get('bytes', '?'))} bytes" + (f"; {counts}" if counts else ""))
        out.append(f"    sha256 {entry.get('sha256')}")
    out += [
        f"  trained on {_count(get('dumps', '?'))} dumps ({_count(get('lines', '?'))} lines)"
        + (f" and {_count(get('synthetic_dumps'))} synthetic joins"
           if "synthetic_dumps" in card else ""),
        f"  held out: {_count(get('held_out_dumps', '?'))} dumps; {get('holdout', 'none')}",
    ]
    excluded = _mapping(get("excluded"))
    if excluded:
        out.append(f"  excluded: {_count(excluded.get('dumps', '?'))} dumps, the page groups of "
                   f"{_count(excluded.get('pages', '?'))} pages listed in "
                   f"{excluded.get('path')} (sha256 {excluded.get('sha256')})")
    recipe = _mapping(get("recipe"))
    if recipe:
        settings = ", ".join(f"{name.removeprefix('cleaner.')}={value}"
                             for name, value in recipe.items())
        out += textwrap.wrap(f"recipe: {settings}", width=100, initial_indent="  ",
                             subsequent_indent="    ")
    noise = _mapping(get("contradicted_lines"))
    if noise:
        swaps = ", ".join(f"{pair} {_count(n)}"
                          for pair, n in list(_mapping(noise.get("by_labels")).items())[:5])
        out.append(f"  contradicted labels: {_count(noise.get('lines', '?'))} lines"
                   + (f" ({swaps})" if swaps else "") + f"; {noise.get('rule', '')}")
    out.append(f"licences: {get('licences', 'not recorded')}")
    scores = _mapping(get("scores"))
    report = _mapping(scores.get("labeller"))
    if report:
        out += [f"cross-validated scores: {scores.get('cv', '')}",
                f"  {'label':<12} {'precision':>9} {'recall':>7} {'F1':>7} {'support':>8}"]
        for label, value in _mapping(report.get("per_label")).items():
            row = _mapping(value)
            out.append(f"  {label:<12} {_score(row.get('precision'), 9)} "
                       f"{_score(row.get('recall'), 7)} {_score(row.get('f1'), 7)} "
                       f"{_count(row.get('support')):>8}")
        out.append(f"  macro-F1 {report.get('macro_f1')}, body-vs-rest F1 {report.get('body_f1')}")
        stage1 = _mapping(scores.get("stage1"))
        if stage1:
            out.append(f"  (stage 1 alone: macro-F1 {stage1.get('macro_f1')}, "
                       f"body-vs-rest F1 {stage1.get('body_f1')})")
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point of `python -m cleaner.train` (`cleaner train` is the same)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="annotated corpus (JSONL or text format)")
    parser.add_argument("--fixtures", type=Path, nargs="*", default=[],
                        help="extra annotated files (our own fixtures)")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--no-holdout", action="store_true", help="train on the whole corpus")
    parser.add_argument("--drop-contradicted", action="store_true",
                        help="fit again without the lines cross-validation contradicts")
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        card = train(args.corpus, args.fixtures, args.output, seed=args.seed,
                     holdout=not args.no_holdout, drop_contradicted=args.drop_contradicted, log=log)
    except CleanerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    log(summary(card, args.output))
    return 0


def summary(card: dict[str, Any], output: Path) -> str:
    """The one line that ends a training run."""
    scores = card["scores"]["labeller"]
    return (f"saved {output}: {card['dumps']} dumps, {card['folds']}-fold cv macro-F1 "
            f"{scores['macro_f1']}, body F1 {scores['body_f1']}")


if __name__ == "__main__":
    sys.exit(main())
