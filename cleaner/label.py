"""Label every line: a per-line model, then a context pass that revises it from the neighbours.

Stage 1 is a logistic regression over hashed words and the line's shape/cue features. Stage 2
is a gradient-boosted model that sees stage 1's probabilities for a window of neighbours and
dump-level summaries, so a short line between two body paragraphs, a date under a headline or
a run of teaser paragraphs after the article can be told apart (jusText's revision pass,
learned instead of hand-written). A model may also decode the labels of a dump together
(Viterbi over stage 2's probabilities and learned label transitions); the shipped one does not
(SEQUENCE_WEIGHT says why).

The model file holds only scikit-learn objects (and a decoding recipe's transitions, a numpy
array); prediction reads their numpy form (cleaner.arrays) from an .npz file beside it, so
labelling a small file does not wait for scikit-learn's import. The JSON sidecar (the model
card) records both files' SHA-256s, which are checked before anything is read.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cleaner import arrays
from cleaner.errors import ModelError
from cleaner.features import (
    DENSE_NAMES,
    HASH_FEATURES,
    PAIR_FEATURES,
    Matrix,
    Vocabulary,
    dense_features,
    dump_bounds,
    hash_words,
    hash_words_and_pairs,
    shifted,
    vocabulary,
)
from cleaner.types import CONTENT_LABELS, LABELS, AnnotatedDump, Label, Line

MODEL_FILE = "cleaner.joblib"
# Neighbours on each side whose stage-1 probabilities the context pass sees.
CONTEXT_WINDOW = 3
# Wider window over which stage-1 probabilities are averaged (a run of teasers, a comment thread).
SMOOTH_WINDOW = 6
# Rows per predict call of the context model. scikit-learn's gradient-boosted predict walks one
# tree at a time over all the rows it is given, so rows past what the CPU's cache holds are
# fetched from memory again for each of its 360 trees: on the held-out corpus in batches of 64
# dumps (7,550 rows each), both stages took 1.26 s in one call per batch, 1.03 s at 1,024 rows
# (one thread, median of 3). A loaded model's numpy form (cleaner.arrays) walks its own blocks
# of WALK_ROWS; this still bounds a Model made of fitted estimators (bench.recipe). Stage 1 (a
# sparse matrix product) gains nothing from it.
CONTEXT_ROWS = 1024
# A model may also hold "cuts", the cut model (segment.fit_cuts): missing in a model from before
# it, None in one trained on data with nothing to learn it from; both are cut from thresholds.
ESTIMATORS = frozenset({"scaler", "lines", "context", "boundary", "position"})
# A model may also hold "transitions" (fit_transitions), the label-sequence scores its labels
# are decoded with; a model without them is labelled by each line's most probable label.
#
# How much the label sequence weighs beside each line's own log-probability when decoding; 0
# (make train's recipe) fits no transitions, and each line takes its most probable label.
# Not shipped: 0.2 won on the corpus (3-fold cross-validation on make train's pool: body F1
# +0.007, macro-F1 +0.016; held out +0.008 and +0.012) but lost on our own dumps. In the
# corpus a teaser almost never follows a body line directly (P = 0.005, 0.003 in `extracted`
# dumps alone), while the user's scrapes end a story with "Click here to read more.": decoded,
# such a line becomes body even where stage 2 says teaser 0.64 (gate-concat-04), and the gate's
# concat floors failed. Kept for recipes whose training data shares the user's layouts.
SEQUENCE_WEIGHT = 0.0
# Probabilities are floored before their log: a label stage 2 calls impossible stays reachable
# only at a large cost, never at minus infinity.
PROB_FLOOR = 1e-6
REBUILD_HINT = "rebuild it with `make train`"
_LABEL_INDEX = {label: i for i, label in enumerate(LABELS)}
_CONTENT_COLUMNS = sorted(_LABEL_INDEX[label] for label in CONTENT_LABELS)


@dataclass(frozen=True)
class Model:
    """A loaded model: the scikit-learn estimators and the model card that describes them."""

    estimators: dict[str, Any]
    card: dict[str, Any]
    vocab: Vocabulary


def default_model_path() -> Path:
    """Where the shipped model lives: the installed package data, else the repository's models/."""
    try:
        return Path(str(resources.files("cleaner.models").joinpath(MODEL_FILE)))
    except ModuleNotFoundError:  # running from a checkout that was never installed
        return Path(__file__).resolve().parent.parent / "models" / MODEL_FILE


def card_path(model_path: Path) -> Path:
    """The model card (JSON sidecar) that belongs to a model file."""
    return model_path.with_suffix(".json")


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def _read_card(path: Path) -> dict[str, Any]:
    """The model card beside a model file, checked for the fields loading relies on."""
    sidecar = card_path(path)
    try:
        card = json.loads(sidecar.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{sidecar}: model card missing; {REBUILD_HINT}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{sidecar}: unreadable model card ({err}); {REBUILD_HINT}") from None
    if not isinstance(card, dict) or not isinstance(card.get("sha256"), str):
        raise ModelError(f"{sidecar}: model card has no sha256; {REBUILD_HINT}")
    return card


def _check_card(card: dict[str, Any], path: Path) -> None:
    """Refuse a model built for other labels or features."""
    if card.get("labels") != [label.value for label in LABELS]:
        raise ModelError(f"{path}: model has labels {card.get('labels')}, not ours; {REBUILD_HINT}")
    from cleaner.segment import CUT_NAMES, GAP_NAMES, POSITION_NAMES

    # A card is JSON anyone can edit: a field of the wrong type is a mismatch, not a traceback.
    features = card.get("features")
    features = features if isinstance(features, dict) else {}
    if (features.get("dense") != list(DENSE_NAMES) or features.get("hash") != HASH_FEATURES
            or features.get("gaps") != list(GAP_NAMES)
            or features.get("context") != context_names()
            or features.get("positions") != list(POSITION_NAMES)
            # A model from before the cut model has none, and is cut from the thresholds.
            or features.get("cuts", list(CUT_NAMES)) != list(CUT_NAMES)
            or card_pairs(card) is None):
        raise ModelError(f"{path}: model was built for other features; {REBUILD_HINT}")


def card_pairs(card: dict[str, Any]) -> int | None:
    """The word-pair setting a card records (0 when it records none), None when it is not ours."""
    features = card.get("features")
    pairs = features.get("pairs") if isinstance(features, dict) else None
    if pairs is None:
        return 0  # a model from before word pairs: trained without them
    if (not isinstance(pairs, dict) or pairs.get("buckets") != PAIR_FEATURES
            or type(pairs.get("max_words")) is not int or pairs["max_words"] < 0):
        return None
    return int(pairs["max_words"])


def arrays_path(model_path: Path) -> Path:
    """The numpy form of a model's estimators (cleaner.arrays), beside the model file."""
    return model_path.with_suffix(".npz")


def _verified_bytes(path: Path, expected: str, what: str) -> bytes:
    """A model file's bytes, refused unless they match the SHA-256 its card records."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{path}: {what} missing; {REBUILD_HINT}") from None
    except OSError as err:
        raise ModelError(f"{path}: cannot read ({err.strerror}); {REBUILD_HINT}") from None
    if sha256_bytes(data) != expected:
        # Pickle is code: a file that is not the one the card describes is never loaded.
        raise ModelError(
            f"{path}: SHA-256 does not match its model card (corrupt or tampered); {REBUILD_HINT}"
        )
    return data


def _model_card(model_path: Path) -> tuple[bytes, dict[str, Any]]:
    """The model file's verified bytes and its checked card."""
    # The model file first: a mistyped --model should name the path the user gave, not its card.
    try:
        model_path.stat()
    except FileNotFoundError:
        raise ModelError(f"{model_path}: model file missing; {REBUILD_HINT}") from None
    except OSError as err:
        raise ModelError(f"{model_path}: cannot read ({err.strerror}); {REBUILD_HINT}") from None
    card = _read_card(model_path)
    data = _verified_bytes(model_path, card["sha256"], "model file")
    _check_card(card, model_path)
    return data, card


def load_estimators(path: str | Path | None = None) -> dict[str, Any]:
    """A model's scikit-learn estimators, unpickled only once its bytes match its card."""
    model_path = Path(path) if path is not None else default_model_path()
    data, card = _model_card(model_path)
    return _unpickle(data, card, model_path)


def _unpickle(data: bytes, card: dict[str, Any], model_path: Path) -> dict[str, Any]:
    """The estimators of verified model bytes (imports scikit-learn: about a second)."""
    import joblib
    import sklearn

    versions = card.get("versions")
    trained = versions.get("scikit-learn") if isinstance(versions, dict) else None
    if trained != sklearn.__version__:
        warnings.warn(
            f"{model_path}: trained with scikit-learn {trained}, running {sklearn.__version__}",
            stacklevel=4,
        )
    estimators = joblib.load(io.BytesIO(data))
    if not isinstance(estimators, dict) or not set(estimators) >= ESTIMATORS:
        raise ModelError(f"{model_path}: not a cleaner model; {REBUILD_HINT}")
    return estimators


def load_model(path: str | Path | None = None) -> Model:
    """Load and verify a model for prediction: its files must match the SHA-256s in its card.

    Prediction runs on the numpy form of the estimators (cleaner.arrays), read from the .npz
    beside the model file without importing scikit-learn; a model without one (from before
    it) is unpickled and converted.
    """
    model_path = Path(path) if path is not None else default_model_path()
    data, card = _model_card(model_path)
    record = card.get("arrays")
    if isinstance(record, dict) and isinstance(record.get("sha256"), str):
        target = arrays_path(model_path)
        blob = _verified_bytes(target, record["sha256"], "model arrays file")
        try:
            estimators = arrays.restore(arrays.from_bytes(blob))
        except ModelError as err:
            raise ModelError(f"{target}: {err}; {REBUILD_HINT}") from None
        if not set(estimators) >= ESTIMATORS:
            raise ModelError(f"{target}: not a cleaner model; {REBUILD_HINT}")
    else:
        estimators = arrays.restore(arrays.export(_unpickle(data, card, model_path)))
    vocab = vocabulary(pair_max_words=card_pairs(card))
    # A card edited by hand could say "no pairs" of a model fit with them: predict would fail on
    # the first line with numpy's own error; say so here, naming the file.
    width = HASH_FEATURES + (PAIR_FEATURES if vocab.pair_max_words else 0) + len(DENSE_NAMES)
    if estimators["lines"].n_features_in_ != width:
        raise ModelError(f"{model_path}: model was built for other features; {REBUILD_HINT}")
    return Model(estimators, card, vocab)


def save_model(estimators: dict[str, Any], card: dict[str, Any], path: str | Path) -> Path:
    """Write the estimators, their numpy form and their card atomically; return the path.

    The card records both files' SHA-256s.
    """
    import joblib

    model_path = Path(path)
    buffer = io.BytesIO()
    joblib.dump(estimators, buffer, compress=("zlib", 6))
    data = buffer.getvalue()
    exported = arrays.to_bytes(arrays.export(estimators))
    full_card = {
        **card, "sha256": sha256_bytes(data), "size_bytes": len(data),
        "arrays": {"file": arrays_path(model_path).name, "sha256": sha256_bytes(exported),
                   "size_bytes": len(exported)},
    }
    model_path.parent.mkdir(parents=True, exist_ok=True)
    for target, payload in (
        (model_path, data),
        (arrays_path(model_path), exported),
        (card_path(model_path), (json.dumps(full_card, indent=2) + "\n").encode()),
    ):
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(payload)
        tmp.replace(target)
    return model_path


def line_inputs(dumps: Sequence[Sequence[Line]], vocab: Vocabulary) -> tuple[Any, Matrix]:
    """Stage-1 inputs of a batch of dumps: hashed word (and pair) counts, dense features."""
    lines = [line for dump in dumps for line in dump]
    # One hasher call for the whole batch: its per-call overhead dominates on short dumps.
    texts = [line.text for line in lines]
    if not vocab.pair_max_words:
        words = hash_words(texts, cache=vocab.buckets)
        return words, dense_features(lines, words, vocab, sizes=[len(d) for d in dumps])
    from scipy import sparse

    words, pairs = hash_words_and_pairs(texts, max_words=vocab.pair_max_words, cache=vocab.buckets)
    dense = dense_features(lines, words, vocab, sizes=[len(d) for d in dumps])
    return sparse.hstack([words, pairs], format="csr"), dense


def stage1_matrix(words: Any, dense: Matrix, scaler: Any) -> Any:
    """The stage-1 design matrix: binary word presence beside the scaled dense features."""
    from scipy import sparse

    present = words.copy()
    present.data[:] = 1.0
    return sparse.hstack([present, sparse.csr_matrix(scaler.transform(dense))], format="csr")


def context_names() -> list[str]:
    """Names of context_matrix's columns, in order (the model card records them)."""
    labels = [label.value for label in LABELS]

    def block(prefix: str) -> list[str]:
        return [f"{prefix}_{label}" for label in labels]

    return [
        *DENSE_NAMES, *block("p"),
        *(name for off in range(-CONTEXT_WINDOW, CONTEXT_WINDOW + 1) if off
          for name in block(f"p{off:+d}")),
        *block(f"mean{SMOOTH_WINDOW}"), *block("mean_above"), *block("mean_below"),
        *block("mean_dump"),
    ]


def context_matrix(dense: Matrix, probs: Matrix, sizes: Sequence[int]) -> Matrix:
    """Stage-2 features of a batch of dumps from dense features and stage-1 probabilities."""
    nonempty = [s for s in sizes if s]
    start, end = dump_bounds(nonempty)
    window = [shifted(probs, off, start=start, end=end)
              for off in range(-CONTEXT_WINDOW, CONTEXT_WINDOW + 1) if off]
    # Running sums give windowed means and before/after shares in O(n). Each dump has its own,
    # starting from zero: sums running over the whole batch would round differently with the
    # dumps before a line, and a line's label must not depend on its batch. Dump d's sums sit
    # at rows [start + d, end + d] of `total` (one zero row per dump).
    zero = np.zeros((1, probs.shape[1]), dtype=np.float64)
    bounds = np.cumsum([0, *nonempty]).tolist()
    total = np.vstack([zero, *(part for a, b in itertools.pairwise(bounds)
                               for part in (np.cumsum(probs[a:b], 0, dtype=np.float64), zero))])
    shift = np.repeat(np.arange(len(nonempty)), nonempty)
    row = np.arange(probs.shape[0])
    lo = np.maximum(row - SMOOTH_WINDOW, start)
    hi = np.minimum(row + SMOOTH_WINDOW + 1, end)

    def mean(a: NDArray[np.int64], b: NDArray[np.int64]) -> Matrix:
        sums = total[b + shift] - total[a + shift]
        means: Matrix = (sums / np.maximum(b - a, 1)[:, None]).astype(np.float32)
        return means

    return np.hstack([
        dense, probs, *window, mean(lo, hi), mean(start, row), mean(row + 1, end),
        mean(start, end),
    ]).astype(np.float32)


def predict_proba_many(dumps: Sequence[Sequence[Line]], model: Model) -> list[Matrix]:
    """Label probabilities (rows = lines, columns = LABELS) for many dumps in one batch."""
    est = model.estimators
    sizes = [len(lines) for lines in dumps]
    if sum(sizes) == 0:
        return [np.zeros((0, len(LABELS)), dtype=np.float32) for _ in dumps]
    words, dense = line_inputs(dumps, model.vocab)
    probs1 = label_proba(est["lines"], stage1_matrix(words, dense, est["scaler"]))
    probs2 = label_proba(est["context"], context_matrix(dense, probs1, sizes), rows=CONTEXT_ROWS)
    bounds = np.cumsum([0, *sizes])
    return [probs2[a:b].astype(np.float32) for a, b in itertools.pairwise(bounds)]


def label_proba(estimator: Any, x: Any, *, rows: int | None = None) -> Matrix:
    """predict_proba with one column per label in LABELS order, whatever classes_ holds.

    A model trained on data lacking a label has fewer columns; they must not shift the others.
    With `rows`, rows are predicted that many at a time (a row's probabilities do not depend on
    the other rows').
    """
    out: Matrix = np.zeros((x.shape[0], len(LABELS)), dtype=np.float32)
    columns = np.asarray(estimator.classes_, dtype=np.int64)
    step = rows or max(x.shape[0], 1)
    for start in range(0, x.shape[0], step):
        out[start : start + step, columns] = estimator.predict_proba(x[start : start + step])
    return out


def fit_transitions(
    dumps: Sequence[AnnotatedDump], *, weight: float | None = None
) -> NDArray[np.float64]:
    """Weighted log-probabilities of each label given the one before, from gold dumps.

    Indexed [after a blank line?, previous label, label]; previous label len(LABELS) is the
    start of a dump. Counts start at one (Laplace), so no transition is impossible.
    """
    weight = SEQUENCE_WEIGHT if weight is None else weight
    k = len(LABELS)
    counts = np.ones((2, k + 1, k), dtype=np.float64)
    for dump in dumps:
        previous = k
        for line in dump.lines:
            if line.label is not None:
                label = _LABEL_INDEX[line.label]
                counts[int(line.blank_before > 0), previous, label] += 1
                previous = label
    scores: NDArray[np.float64] = weight * np.log(counts / counts.sum(axis=2, keepdims=True))
    return scores


def decode(
    probs: Sequence[Matrix], dumps: Sequence[Sequence[Line]], transitions: NDArray[np.float64]
) -> list[NDArray[np.int64]]:
    """The best label sequence of each dump (Viterbi): log-probabilities plus transition scores.

    All dumps of a batch advance one line per step, longest first, so a step is a few numpy
    calls over the dumps still running, and memory is one row of back-pointers per line. Each
    dump's path depends on its own rows only: its labels do not depend on its batch.
    """
    k = len(LABELS)
    sizes = np.array([len(p) for p in probs], dtype=np.int64)
    out = [np.zeros(0, dtype=np.int64) for _ in probs]
    if not sizes.any():
        return out
    order = np.argsort(-sizes, kind="stable")
    order = order[sizes[order] > 0]
    length = sizes[order]
    first = np.cumsum(length) - length  # row of each running dump's first line
    emit = np.log(np.maximum(np.vstack([probs[i] for i in order]), PROB_FLOOR)).astype(np.float64)
    blank = np.array([int(line.blank_before > 0) for i in order for line in dumps[i]],
                     dtype=np.intp)
    back = np.zeros((len(emit), k), dtype=np.intp)
    score = emit[first] + transitions[blank[first], k]
    # running[t]: how many dumps (a prefix, longest first) have a line t.
    running = np.searchsorted(-length, -np.arange(int(length[0])), side="left")
    for t in range(1, int(length[0])):
        live = int(running[t])
        rows = first[:live] + t
        step = score[:live, :, None] + transitions[blank[rows], :k]
        best = step.argmax(axis=1)
        back[rows] = best
        score[:live] = np.take_along_axis(step, best[:, None, :], axis=1)[:, 0] + emit[rows]
    path = np.zeros(len(emit), dtype=np.int64)
    last = first + length - 1
    path[last] = score.argmax(axis=1)
    for t in range(int(length[0]) - 1, 0, -1):
        live = int(running[t])
        rows = first[:live] + t
        path[rows - 1] = back[rows, path[rows]]
    for j, i in enumerate(order.tolist()):
        out[i] = path[first[j] : last[j] + 1]
    return out


def best_labels(
    dumps: Sequence[Sequence[Line]], probs: Sequence[Matrix], model: Model
) -> list[NDArray[np.int64]]:
    """Each line's label index: decoded with the model's transitions, else the most probable."""
    transitions = model.estimators.get("transitions")
    if transitions is None:
        return [p.argmax(axis=1).astype(np.int64) for p in probs]
    return decode(probs, dumps, transitions)


def label_many(
    dumps: Sequence[Sequence[Line]], model: Model,
    *, comments_from: Sequence[int | None] | None = None,
) -> list[list[Line]]:
    """Every line of a batch of dumps, labelled (stages 1 and 2, then decoded).

    `comments_from` gives, per dump, the line number where its comment section starts (an HTML
    page's, as trafilatura finds it; None: no such section): see outside_article.
    """
    probs = predict_proba_many(dumps, model)
    if comments_from is not None:
        probs = [p if start is None else outside_article(lines, p, start=start)
                 for lines, p, start in zip(dumps, probs, comments_from, strict=True)]
    return [apply_labels(lines, p, best) for lines, p, best
            in zip(dumps, probs, best_labels(dumps, probs, model), strict=True)]


def outside_article(lines: Sequence[Line], probs: Matrix, *, start: int) -> Matrix:
    """Label probabilities with the content labels ruled out from line number `start` on.

    Those lines are a page's comment section: the HTML says they are no part of the article,
    which the text alone does not always show (a reader's comment reads like a paragraph). Their
    probabilities are renormalised over the other labels; a row with nothing left goes to comment.
    """
    rows = np.fromiter((line.number >= start for line in lines), bool, len(lines))
    if not rows.any():
        return probs
    out = probs.copy()
    part = out[rows]
    part[:, _CONTENT_COLUMNS] = 0.0
    total = part.sum(axis=1, keepdims=True)
    empty = total[:, 0] <= 0.0
    part[empty, _LABEL_INDEX[Label.COMMENT]] = 1.0
    total[empty] = 1.0
    out[rows] = part / total
    return out


def apply_labels(
    lines: Sequence[Line], probs: Matrix, best: NDArray[np.int64] | None = None
) -> list[Line]:
    """Copies of the lines with a label (`best`, default the most probable) and its probability."""
    if not lines:
        return []
    if best is None:
        best = probs.argmax(axis=1)
    p = [round(value, 4) for value in probs[np.arange(len(lines)), best].tolist()]
    # Built directly, not by dataclasses.replace: this runs once per line of every input.
    return [Line(line.number, line.text, line.blank_before, LABELS[k], pk)
            for line, k, pk in zip(lines, best.tolist(), p, strict=True)]


def label_index(label: Label) -> int:
    """Column of a label in probability matrices."""
    return _LABEL_INDEX[label]
