"""How much of the held-out body-vs-rest error sits on lines whose gold label looks wrong?

    python -m bench.noise --corpus ../shared/corpus/train.jsonl [--model models/cleaner.joblib]

The shipped model labels the held-out corpus (pages it never trained on). Two views of the
gold's share in its errors, neither of them a score to quote instead of the real one:
- the lines the model confidently contradicts, by `cleaner train --contradicted`'s rule
  (cleaner.train.contradicted: p < 0.05 for the gold label, >= 0.9 for another): body-vs-rest F1
  without them;
- the page group (a page and every dump that holds it) with the most body-vs-rest errors:
  its share of the errors, and body F1 without it.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from cleaner.annotated import held_out, page_groups, read_dumps
from cleaner.errors import CleanerError
from cleaner.evaluate import strip_gold
from cleaner.label import Model, best_labels, default_model_path, load_model, predict_proba_many
from cleaner.train import contradicted
from cleaner.types import LABELS, AnnotatedDump, Label

_BODY = LABELS.index(Label.BODY)


@dataclass(frozen=True)
class NoiseReport:
    """Body-vs-rest F1 of a model on gold dumps, whole and without the suspect lines."""

    lines: int
    errors: int
    body_f1: float
    contradicted: int
    contradicted_errors: int
    body_f1_without_contradicted: float
    worst_group: str
    worst_group_dumps: int
    worst_group_lines: int
    worst_group_errors: int
    body_f1_without_worst_group: float


def body_f1(gold: NDArray[np.int64], pred: NDArray[np.int64]) -> float:
    """F1 of body against every other label (0.0 when there is no body on either side)."""
    from sklearn.metrics import f1_score

    return float(f1_score(gold == _BODY, pred == _BODY, zero_division=0.0))


def noise_report(dumps: Sequence[AnnotatedDump], model: Model) -> NoiseReport:
    """The model's body-vs-rest errors on the dumps, and how many sit on suspect gold lines."""
    lines = [strip_gold(d) for d in dumps]
    probs = predict_proba_many(lines, model)
    proba = np.vstack(probs)
    gold = np.array([LABELS.index(line.label or Label.BOILERPLATE)
                     for d in dumps for line in d.lines], dtype=np.int64)
    pred = np.concatenate(best_labels(lines, probs, model))
    wrong = (gold == _BODY) != (pred == _BODY)
    noisy = contradicted(gold, proba)
    group_of_dump = page_groups(dumps)
    group = np.array([g for d, g in zip(dumps, group_of_dump, strict=True) for _ in d.lines])
    # Ties go to the group that comes first in sorted order: the report must not depend on
    # the order of the dumps.
    counts = Counter(group[wrong].tolist())
    worst = min(counts, key=lambda g: (-counts[g], g)) if counts else ""
    keep = group != worst
    return NoiseReport(
        lines=len(gold), errors=int(wrong.sum()), body_f1=body_f1(gold, pred),
        contradicted=int(noisy.sum()), contradicted_errors=int((wrong & noisy).sum()),
        body_f1_without_contradicted=body_f1(gold[~noisy], pred[~noisy]),
        worst_group=worst, worst_group_dumps=group_of_dump.count(worst),
        worst_group_lines=int((~keep).sum()), worst_group_errors=int((wrong & ~keep).sum()),
        body_f1_without_worst_group=body_f1(gold[keep], pred[keep]),
    )


def table(report: NoiseReport) -> str:
    """The report as a markdown table."""
    r = report
    return "\n".join([
        "| lines | body-vs-rest errors | body F1 | contradicted lines (errors on them) "
        "| body F1 without them | page group with most errors: dumps, lines, errors "
        "| body F1 without it |",
        "|---:|---:|---:|---:|---:|---|---:|",
        f"| {r.lines:,} | {r.errors:,} | {r.body_f1:.3f} | {r.contradicted:,} "
        f"({r.contradicted_errors:,}) | {r.body_f1_without_contradicted:.3f} | {r.worst_group}: "
        f"{r.worst_group_dumps}, {r.worst_group_lines:,}, {r.worst_group_errors:,} "
        f"| {r.body_f1_without_worst_group:.3f} |",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report for the held-out corpus."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        corpus = list(read_dumps(args.corpus))
        model = load_model(args.model or default_model_path())
    except CleanerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    held = [d for d, out in zip(corpus, held_out(corpus), strict=True) if out]
    print(f"\n### Suspect gold labels in the held-out corpus ({len(held)} dumps; bench.noise)\n")
    print(table(noise_report(held, model)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
