"""The scores of docs/LABELS.md for predictions on annotated dumps: lines, segments, records.

Conventions (stated once here, used everywhere below):
- Only non-blank lines are scored; a `Prediction` has one label and one segment index per line of
  `AnnotatedDump.lines`, in the same order.
- A ratio whose denominator is zero is 1.0 when the other side is empty too (nothing to find and
  nothing found), else 0.0; so a label absent from gold and prediction scores 1.0, and a label
  predicted but never gold has precision 0.0.
- Macro-F1 averages the labels that occur in gold or prediction (as scikit-learn's `f1_score`
  does by default), so a dump kind without headlines (`bare`) is not punished for them.
- Averages over an empty set (no dumps, no gold articles) are `None`, which `to_dict()` writes as
  JSON null: there is nothing to report, and 0.0 or 1.0 would both mislead.
"""

from __future__ import annotations

import json
import operator
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from statistics import fmean
from typing import TYPE_CHECKING, Any

from cleaner.errors import DataError
from cleaner.types import CONTENT_LABELS, LABELS, AnnotatedDump, Label, Line

if TYPE_CHECKING:
    from cleaner.label import Model

# Pk/WindowDiff windows never shrink below this (LABELS.md: "at least 2").
MIN_WINDOW = 2
# Word tokens for record overlap: runs of letters/digits, lowercased.
_TOKEN = re.compile(r"\w+")
# The key under which evaluate_by_kind() pools every dump.
ALL_KINDS = "all"

Confusion = tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class Prediction:
    """A system's output for one dump: a label and a segment index per non-blank line."""

    labels: tuple[Label, ...]
    segments: tuple[int, ...]  # 0-based, non-decreasing; segment k = predicted article k

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.segments):
            raise DataError(
                f"prediction has {len(self.labels)} labels but {len(self.segments)} segments"
            )
        if any(s < 0 for s in self.segments):
            raise DataError("prediction has a negative segment index")
        if any(b < a for a, b in pairwise(self.segments)):
            raise DataError("prediction segments must be non-decreasing")


@dataclass(frozen=True, slots=True)
class LabelScore:
    """Precision, recall and F1 of one label; support = gold lines, predicted = predicted lines."""

    precision: float
    recall: float
    f1: float
    support: int
    predicted: int


@dataclass(frozen=True, slots=True)
class LineScores:
    """Line-label scores pooled over all lines; confusion[gold][predicted] in LABELS order."""

    per_label: Mapping[str, LabelScore]
    macro_f1: float | None
    body_precision: float
    body_recall: float
    body_f1: float
    accuracy: float | None
    confusion: Confusion


@dataclass(frozen=True, slots=True)
class SegmentationScores:
    """Pk and WindowDiff averaged over dumps, and the share of dumps with the right record count."""

    pk: float | None
    window_diff: float | None
    count_exact: float | None


@dataclass(frozen=True, slots=True)
class RecordScores:
    """Token precision/recall/F1 of gold article bodies vs their best predicted record, averaged."""

    precision: float | None
    recall: float | None
    f1: float | None
    n_articles: int


@dataclass(frozen=True, slots=True)
class Scores:
    """All scores of LABELS.md for a set of dumps."""

    n_dumps: int
    n_lines: int
    lines: LineScores
    segmentation: SegmentationScores
    records: RecordScores

    def to_dict(self) -> dict[str, Any]:
        """The scores as plain JSON-serialisable data (None for averages over nothing)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class DumpResult:
    """What one dump contributes to the pooled scores (kept so scores can be regrouped)."""

    kind: str
    n_lines: int
    confusion: Confusion
    pk: float
    window_diff: float
    count_exact: bool
    records: tuple[tuple[float, float, float], ...]  # (P, R, F1) per scored gold article


# --- small arithmetic -------------------------------------------------------------------------


def _ratio(num: int, den: int, *, other_empty: bool) -> float:
    """num/den, or 1.0/0.0 for an empty denominator depending on whether the other side is empty."""
    if den:
        return num / den
    return 1.0 if other_empty else 0.0


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts (empty-vs-empty counts as perfect, see module doc)."""
    precision = _ratio(tp, tp + fp, other_empty=fn == 0)
    recall = _ratio(tp, tp + fn, other_empty=fp == 0)
    total = precision + recall
    f1 = 2 * precision * recall / total if total else 0.0
    return precision, recall, f1


def _mean(values: Sequence[float]) -> float | None:
    """The mean, or None for no values."""
    return fmean(values) if values else None


# --- line labels --------------------------------------------------------------------------------


def confusion_matrix(gold: Sequence[Label], predicted: Sequence[Label]) -> Confusion:
    """Counts of (gold, predicted) label pairs, rows = gold, columns = predicted, LABELS order."""
    if len(gold) != len(predicted):
        raise DataError(f"{len(gold)} gold labels but {len(predicted)} predicted")
    index = {label: i for i, label in enumerate(LABELS)}
    counts = [[0] * len(LABELS) for _ in LABELS]
    for g, p in zip(gold, predicted, strict=True):
        counts[index[g]][index[p]] += 1
    return tuple(tuple(row) for row in counts)


def add_confusions(matrices: Iterable[Confusion]) -> Confusion:
    """Element-wise sum of confusion matrices (an all-zero matrix for none)."""
    total = [[0] * len(LABELS) for _ in LABELS]
    for matrix in matrices:
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                total[i][j] += count
    return tuple(tuple(row) for row in total)


def line_scores(confusion: Confusion) -> LineScores:
    """Per-label, macro and body-vs-rest scores from a (pooled) confusion matrix."""
    n = sum(map(sum, confusion))
    per_label: dict[str, LabelScore] = {}
    present_f1: list[float] = []
    for i, label in enumerate(LABELS):
        tp = confusion[i][i]
        support = sum(confusion[i])
        predicted = sum(row[i] for row in confusion)
        precision, recall, f1 = prf(tp, predicted - tp, support - tp)
        per_label[label.value] = LabelScore(precision, recall, f1, support, predicted)
        if support or predicted:
            present_f1.append(f1)
    body = per_label[Label.BODY.value]
    correct = sum(confusion[i][i] for i in range(len(LABELS)))
    return LineScores(
        per_label=per_label,
        macro_f1=_mean(present_f1),
        # Body-vs-rest is exactly the body row of the one-vs-rest table.
        body_precision=body.precision,
        body_recall=body.recall,
        body_f1=body.f1,
        accuracy=correct / n if n else None,
        confusion=confusion,
    )


# --- segmentation -------------------------------------------------------------------------------


def runs(values: Sequence[int]) -> list[int]:
    """Number the runs of equal values: [3, 3, 5, 3] -> [0, 0, 1, 2]."""
    out: list[int] = []
    for i, value in enumerate(values):
        out.append(0 if i == 0 else out[-1] + (value != values[i - 1]))
    return out


def window_size(reference: Sequence[int], *, minimum: int = MIN_WINDOW) -> int:
    """Half the mean reference segment length, rounded half up, at least `minimum`."""
    n_segments = len(set(runs(reference))) or 1
    half = len(reference) / n_segments / 2
    # int(x + 0.5) rounds half up; round() would round 2.5 to 2 (banker's rounding).
    return max(minimum, int(half + 0.5))


def _windows(reference: Sequence[int], hypothesis: Sequence[int], k: int) -> tuple[int, int]:
    """The window width actually used for a dump of this length, and the number of windows."""
    if len(reference) != len(hypothesis):
        raise DataError(f"reference has {len(reference)} positions, hypothesis {len(hypothesis)}")
    # A dump shorter than k+1 lines has no full window: shrink k to span the whole dump, so a
    # two-line dump still asks "are these two lines in the same article?".
    k = min(k, len(reference) - 1)
    return k, len(reference) - k


def pk(reference: Sequence[int], hypothesis: Sequence[int], *, k: int) -> float:
    """Beeferman et al. (1999) Pk: share of position pairs k apart that are wrongly together/apart.

    Positions i and i+k, for i in 0..N-k-1, are "together" when no boundary lies between them; the
    error is the share of pairs where reference and hypothesis disagree. 0.0 for N <= 1.
    """
    k, n_windows = _windows(reference, hypothesis, k)
    if n_windows <= 0 or k <= 0:
        return 0.0
    ref, hyp = runs(reference), runs(hypothesis)
    errors = sum((ref[i] == ref[i + k]) != (hyp[i] == hyp[i + k]) for i in range(n_windows))
    return errors / n_windows


def window_diff(reference: Sequence[int], hypothesis: Sequence[int], *, k: int) -> float:
    """Pevzner & Hearst (2002) WindowDiff: share of k-wide windows whose boundary counts differ.

    Same windows as `pk`; a window errs when the number of boundaries between positions i and i+k
    differs between reference and hypothesis. 0.0 for N <= 1.
    """
    k, n_windows = _windows(reference, hypothesis, k)
    if n_windows <= 0 or k <= 0:
        return 0.0
    ref, hyp = runs(reference), runs(hypothesis)
    # runs() numbers segments consecutively, so the boundaries in (i, i+k] are run[i+k] - run[i].
    errors = sum((ref[i + k] - ref[i]) != (hyp[i + k] - hyp[i]) for i in range(n_windows))
    return errors / n_windows


# --- records ------------------------------------------------------------------------------------


def tokens(text: str) -> Counter[str]:
    """The lowercased word tokens of a text, as a multiset."""
    return Counter(_TOKEN.findall(text.lower()))


def token_prf(gold: Counter[str], predicted: Counter[str]) -> tuple[float, float, float]:
    """Token precision, recall, F1 of a predicted text against a gold one (multiset overlap)."""
    overlap = sum((gold & predicted).values())
    n_gold, n_predicted = sum(gold.values()), sum(predicted.values())
    return prf(overlap, n_predicted - overlap, n_gold - overlap)


def best_match(
    gold: Counter[str], candidates: Sequence[Counter[str]]
) -> tuple[float, float, float]:
    """(P, R, F1) of the candidate with the highest F1 (the first on ties); zeros if none."""
    best = (0.0, 0.0, 0.0)
    for candidate in candidates:
        scores = token_prf(gold, candidate)
        if scores[2] > best[2]:
            best = scores
    return best


def records(
    texts: Sequence[str], labels: Sequence[Label | None], groups: Sequence[int]
) -> dict[int, str]:
    """The records of a labelled, grouped dump: group -> body text, for groups with content lines.

    A record is a group (gold page or predicted segment) holding at least one headline, byline or
    body line; its text is its body lines joined with "\\n" (empty for a record without body).
    """
    # Every group with a content line is a record, even one whose only content is a headline.
    bodies: dict[int, list[str]] = {
        group: [] for label, group in zip(labels, groups, strict=True) if label in CONTENT_LABELS
    }
    for text, label, group in zip(texts, labels, groups, strict=True):
        if label is Label.BODY:
            bodies[group].append(text)
    return {group: "\n".join(lines) for group, lines in bodies.items()}


# --- per dump and pooled ------------------------------------------------------------------------


def score_dump(dump: AnnotatedDump, prediction: Prediction) -> DumpResult:
    """Everything one dump contributes to the scores."""
    if len(prediction.labels) != len(dump.lines):
        raise DataError(
            f"{dump.id}: {len(dump.lines)} lines but a prediction for {len(prediction.labels)}"
        )
    gold_labels = [line.label for line in dump.lines]
    if any(label is None for label in gold_labels):
        raise DataError(f"{dump.id}: a non-blank line has no gold label")
    texts = [line.text for line in dump.lines]
    k = window_size(dump.pages)
    gold_records = records(texts, gold_labels, dump.pages)
    predicted_records = records(texts, prediction.labels, prediction.segments)
    candidates = [tokens(text) for text in predicted_records.values()]
    article_scores = tuple(
        best_match(gold, candidates)
        for gold in (tokens(text) for text in gold_records.values())
        # Gold articles without body tokens have nothing to recover: LABELS.md skips them.
        if gold
    )
    return DumpResult(
        kind=dump.kind,
        n_lines=len(dump.lines),
        confusion=confusion_matrix([g for g in gold_labels if g is not None], prediction.labels),
        pk=pk(dump.pages, prediction.segments, k=k),
        window_diff=window_diff(dump.pages, prediction.segments, k=k),
        count_exact=len(gold_records) == len(predicted_records),
        records=article_scores,
    )


def combine(results: Sequence[DumpResult]) -> Scores:
    """Pool per-dump results: lines pooled, segmentation averaged by dump, records by article."""
    articles = [scores for result in results for scores in result.records]
    return Scores(
        n_dumps=len(results),
        n_lines=sum(result.n_lines for result in results),
        lines=line_scores(add_confusions(result.confusion for result in results)),
        segmentation=SegmentationScores(
            pk=_mean([result.pk for result in results]),
            window_diff=_mean([result.window_diff for result in results]),
            count_exact=_mean([float(result.count_exact) for result in results]),
        ),
        records=RecordScores(
            precision=_mean([p for p, _, _ in articles]),
            recall=_mean([r for _, r, _ in articles]),
            f1=_mean([f for _, _, f in articles]),
            n_articles=len(articles),
        ),
    )


def evaluate(pairs: Iterable[tuple[AnnotatedDump, Prediction]]) -> Scores:
    """The scores of LABELS.md over (gold dump, prediction) pairs, pooled over all dumps."""
    return combine([score_dump(dump, prediction) for dump, prediction in pairs])


def evaluate_by_kind(pairs: Iterable[tuple[AnnotatedDump, Prediction]]) -> dict[str, Scores]:
    """Scores per dump kind (page, extracted, concat, bare, ...) plus "all" for every dump."""
    results = [score_dump(dump, prediction) for dump, prediction in pairs]
    kinds = sorted({result.kind for result in results})
    by_kind = {kind: combine([r for r in results if r.kind == kind]) for kind in kinds}
    by_kind[ALL_KINDS] = combine(results)
    return by_kind


# --- the cleaner model as a system, and the score report -----------------------------------------

# Dumps labelled per model call when scoring a model (as `cleaner split` batches documents).
EVAL_BATCH = 64


def strip_gold(dump: AnnotatedDump) -> tuple[Line, ...]:
    """The dump's lines as a system may see them: text and layout, no label, no page."""
    return tuple(
        Line(number=line.number, text=line.text, blank_before=line.blank_before)
        for line in dump.lines
    )


def predict_lines(dumps: Sequence[Sequence[Line]], model: Model) -> list[Prediction]:
    """The model's labels and article segments for many dumps' lines, in one batch."""
    from cleaner.pipeline import label_and_segment

    labelled, segments = label_and_segment(dumps, model)
    return [
        Prediction(labels=tuple(line.label or Label.BOILERPLATE for line in lines),
                   segments=tuple(segs))
        for lines, segs in zip(labelled, segments, strict=True)
    ]


def evaluate_model(
    dumps: Sequence[AnnotatedDump], model: Model, *, by_kind: bool = False,
    batch_size: int = EVAL_BATCH,
) -> dict[str, Scores]:
    """Run a model over gold dumps (labels hidden) and score it: "all", and per kind if asked."""
    predictions: list[Prediction] = []
    for start in range(0, len(dumps), batch_size):
        batch = dumps[start : start + batch_size]
        predictions.extend(predict_lines([strip_gold(d) for d in batch], model))
    pairs = list(zip(dumps, predictions, strict=True))
    if by_kind:
        return evaluate_by_kind(pairs)
    return {ALL_KINDS: evaluate(pairs)}


def metric(scores: Mapping[str, Scores], name: str) -> float | None:
    """A score by 'kind.dotted.path' into Scores.to_dict(), e.g. 'concat.segmentation.pk'.

    None when no dump of that kind was scored, or the score is an average over nothing; a path
    that names no score is a DataError (a misspelt floor must not pass unchecked).
    """
    kind, _, path = name.partition(".")
    if kind not in scores:
        return None
    value: Any = scores[kind].to_dict()
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise DataError(f"{name!r} names no score")
        value = value[key]
    if value is not None and (isinstance(value, bool) or not isinstance(value, float | int)):
        raise DataError(f"{name!r} names no single score")
    return None if value is None else float(value)


@dataclass(frozen=True)
class Floors:
    """A floors file: the bounds by side ("min", "max") and score name, and the SHA-256 of the
    gold file they were set on, when it records one ("gate_sha256")."""

    bounds: dict[str, dict[str, float]]
    gold_sha256: str | None = None


def read_floors(text: str, *, source: str) -> Floors:
    """The floors of a file such as tests/quality_floors.json: {"min": {name: value}, "max":
    {name: value}, "gate_sha256": hex}, either side optional; other keys are notes."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise DataError(f"{source}: not JSON ({err})") from None
    if not isinstance(data, dict) or not ({"min", "max"} & set(data)):
        raise DataError(f'{source}: expected an object with "min" and/or "max"')
    bounds: dict[str, dict[str, float]] = {}
    for side in ("min", "max"):
        values = data.get(side, {})
        if not isinstance(values, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values.values()
        ):
            raise DataError(f'{source}: "{side}" must map score names to numbers')
        bounds[side] = {str(k): float(v) for k, v in values.items()}
    sha = data.get("gate_sha256")
    if sha is not None and not isinstance(sha, str):
        raise DataError(f'{source}: "gate_sha256" must be a hex string')
    return Floors(bounds, sha)


def missed_floors(scores: Mapping[str, Scores], floors: Mapping[str, Mapping[str, float]]
                  ) -> list[str]:
    """One line per floor ("min") or ceiling ("max") the scores miss; [] when all hold.

    A bound on a kind no dump was scored for is missed too: it was not shown to hold.
    """
    missed = []
    for side, holds, sign in (("min", operator.ge, ">="), ("max", operator.le, "<=")):
        for name, bound in sorted(floors.get(side, {}).items()):
            value = metric(scores, name)
            if value is None:
                missed.append(f"{name}: no score (no dump of that kind), wanted {sign} {bound:g}")
            elif not holds(value, bound):
                missed.append(f"{name}: {value:.3f}, wanted {sign} {bound:g}")
    return missed


def _num(value: float | None, width: int) -> str:
    """A score to three decimals, right-aligned; a dash for an average over nothing."""
    return ("-" if value is None else f"{value:.3f}").rjust(width)


def _label_table(scores: Scores) -> list[str]:
    """Per-label precision/recall/F1 with counts, then macro-F1, body-vs-rest and accuracy."""
    lines = scores.lines
    width = max(len("body-vs-rest"), *(len(label.value) for label in LABELS))
    out = [f"{'label':<{width}}  precision  recall      F1  support  predicted"]
    for name, s in lines.per_label.items():
        out.append(f"{name:<{width}}  {_num(s.precision, 9)}  {_num(s.recall, 6)}  "
                   f"{_num(s.f1, 6)}  {s.support:>7}  {s.predicted:>9}")
    out.append(f"{'body-vs-rest':<{width}}  {_num(lines.body_precision, 9)}  "
               f"{_num(lines.body_recall, 6)}  {_num(lines.body_f1, 6)}")
    out.append(f"{'macro-F1':<{width}}  {'':>9}  {'':>6}  {_num(lines.macro_f1, 6)}")
    out.append(f"{'accuracy':<{width}}  {'':>9}  {'':>6}  {_num(lines.accuracy, 6)}")
    return out


def _confusion_table(confusion: Confusion) -> list[str]:
    """The confusion matrix: a row per gold label, a column per predicted label."""
    names = [label.value for label in LABELS]
    corner = "gold \\ predicted"
    width = max(len(corner), *(len(name) for name in names))
    out = [f"{corner:<{width}}" + "".join(f"{n:>{len(n) + 2}}" for n in names)]
    for name, row in zip(names, confusion, strict=True):
        out.append(f"{name:<{width}}" + "".join(
            f"{count:>{len(n) + 2}}" for n, count in zip(names, row, strict=True)))
    return out


SUMMARY_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("body F1", lambda s: s.lines.body_f1),
    ("macro-F1", lambda s: s.lines.macro_f1),
    ("Pk", lambda s: s.segmentation.pk),
    ("WindowDiff", lambda s: s.segmentation.window_diff),
    ("count exact", lambda s: s.segmentation.count_exact),
    ("record P", lambda s: s.records.precision),
    ("record R", lambda s: s.records.recall),
    ("record F1", lambda s: s.records.f1),
)


def format_scores(scores: Mapping[str, Scores]) -> str:
    """The scores as text tables: one summary row per kind, then per-label tables and confusion."""
    width = max(len("kind"), *(len(kind) for kind in scores))
    header = (f"{'kind':<{width}}  dumps   lines  "
              + "  ".join(f"{name:>{max(len(name), 5)}}" for name, _ in SUMMARY_COLUMNS)
              + "  articles")
    rows = [header]
    for kind, s in scores.items():
        cells = "  ".join(_num(get(s), max(len(name), 5)) for name, get in SUMMARY_COLUMNS)
        rows.append(f"{kind:<{width}}  {s.n_dumps:>5}  {s.n_lines:>6}  {cells}  "
                    f"{s.records.n_articles:>8}")
    out = ["Scores (docs/LABELS.md): line labels pooled over lines; Pk, WindowDiff and count exact "
           "averaged over dumps; record P/R/F1 averaged over gold articles.", "", *rows]
    for kind, s in scores.items():
        out += ["", f"Line labels, {kind} ({s.n_dumps} dumps, {s.n_lines} lines)",
                *_label_table(s), "", f"Confusion, {kind}", *_confusion_table(s.lines.confusion)]
    return "\n".join(out) + "\n"


def scores_json(scores: Mapping[str, Scores], **about: Any) -> dict[str, Any]:
    """The scores as plain JSON data, after what they are about (model, gold files, ...)."""
    return {**about, "scores": {kind: _plain(s.to_dict()) for kind, s in scores.items()}}


def _plain(value: Any) -> Any:
    """Tuples as lists, all the way down: the data reads back from JSON unchanged."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
