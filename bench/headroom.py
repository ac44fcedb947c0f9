"""How much of the segmentation error is the number of cuts (python -m bench.headroom).

The segmenter scores every gap between content lines and cuts those above a threshold. This
step asks what it would score if it knew how many stories each dump holds: the same labels,
boundary scores and cut-position model, but exactly the gold number of cuts, taken at the
highest-scoring gaps (no two within SUPPRESS_REACH gaps, as the segmenter's own rule). The gap
between the two rows is the share of the error that lies in deciding how many stories a dump
holds rather than where they meet; what is left in the second row is the ranking of the gaps.
A diagnostic, not a system: it reads the gold page count.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bench.joins import held_out_joins
from cleaner import segment
from cleaner.annotated import held_out, read_dumps
from cleaner.evaluate import Prediction, evaluate_by_kind, strip_gold
from cleaner.label import Model, label_many, load_model
from cleaner.pipeline import one_thread
from cleaner.types import AnnotatedDump, Label, Line

KINDS = ("concat", "bare")
BATCH = 64


def top_gaps(probs: NDArray[np.float64], count: int, *,
             reach: int = segment.SUPPRESS_REACH) -> list[int]:
    """The `count` highest-scoring gaps, none within `reach` gaps of a higher one; sorted."""
    picked: list[int] = []
    for g in np.argsort(-probs, kind="stable").tolist():
        if len(picked) == count:
            break
        if all(abs(g - q) > reach for q in picked):
            picked.append(int(g))
    return sorted(picked)


def gold_cuts(dump: AnnotatedDump) -> int:
    """Boundaries between the gold pages of a dump."""
    return len(set(dump.pages)) - 1


def _prediction(lines: Sequence[Line], segments: Sequence[int]) -> Prediction:
    return Prediction(labels=tuple(line.label or Label.BOILERPLATE for line in lines),
                      segments=tuple(segments))


def predictions(
    dumps: Sequence[AnnotatedDump], model: Model
) -> tuple[list[Prediction], list[Prediction]]:
    """The shipped segmentation of each dump, and the one told its gold number of cuts."""
    est = model.estimators
    shipped: list[Prediction] = []
    told: list[Prediction] = []
    with one_thread():
        for start in range(0, len(dumps), BATCH):
            batch = dumps[start : start + BATCH]
            split = [strip_gold(d) for d in batch]
            labelled = label_many(split, model)
            ours = segment.segment_many(labelled, model=est["boundary"], position=est["position"],
                                        cuts=est.get("cuts"))
            gaps = segment.gap_features_many(labelled)
            probs = segment.dump_boundary_proba(est["boundary"], gaps)
            picked = [top_gaps(p, gold_cuts(d)) for p, d in zip(probs, batch, strict=True)]
            theirs = segment.place_cuts(labelled, [c for c, _ in gaps], picked,
                                        position=est["position"])
            shipped += [_prediction(lines, s) for lines, s in zip(labelled, ours, strict=True)]
            told += [_prediction(lines, s) for lines, s in zip(labelled, theirs, strict=True)]
    return shipped, told


def table(name: str, dumps: Sequence[AnnotatedDump], model: Model) -> str:
    """One markdown table: Pk and exact counts per kind, shipped and told the count."""
    shipped, told = predictions(dumps, model)
    rows = []
    for system, preds in (("cleaner", shipped), ("cleaner, told the gold number of stories", told)):
        scores = evaluate_by_kind(list(zip(dumps, preds, strict=True)))
        cells = []
        for kind in KINDS:
            s = scores[kind].segmentation if kind in scores else None
            cells += [f"{s.pk:.3f}" if s and s.pk is not None else "–",
                      f"{s.count_exact:.3f}" if s and s.count_exact is not None else "–"]
        rows.append(f"| {system} | " + " | ".join(cells) + " |")
    counts = ", ".join(f"{kind} {sum(d.kind == kind for d in dumps)}" for kind in KINDS)
    return "\n".join([
        f"### {name}: {counts}", "",
        "| segmenter | Pk concat | count exact concat | Pk bare | count exact bare |",
        "|---|---:|---:|---:|---:|", *rows, "",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args(argv)
    model = load_model(args.model)
    dumps = list(read_dumps(args.corpus))
    held = [d for d, out in zip(dumps, held_out(dumps), strict=True) if out]
    print(table("Held-out corpus", [d for d in held if d.kind in KINDS], model))
    print(table("Joins of held-out pages (bench/joins.py)", held_out_joins(held), model))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
