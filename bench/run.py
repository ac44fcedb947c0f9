"""Score every system on the held-out corpus and on the seeds (python -m bench.run --help).

Prints one markdown table per dump set (rows = systems) and, with --json, writes every score of
every kind. Systems only ever see the lines' text and blank_before (gold labels are stripped).
The cleaner row is scored exactly as `cleaner eval` scores a model (cleaner.evaluate).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.baselines import BASELINES
from bench.joins import held_out_briefs, held_out_joins
from cleaner.annotated import held_out, read_dumps
from cleaner.errors import CleanerError
from cleaner.evaluate import (
    ALL_KINDS,
    Prediction,
    Scores,
    evaluate_by_kind,
    predict_lines,
    strip_gold,
)
from cleaner.types import AnnotatedDump, Line

System = Callable[[Sequence[Line]], Prediction]
SEEDS_FILE = "seeds.jsonl"
# Scores shown in the table, in column order: (header, dump kind, how to read it off Scores).
COLUMNS: tuple[tuple[str, str, Callable[[Scores], float | None]], ...] = (
    ("body F1 (all)", ALL_KINDS, lambda s: s.lines.body_f1),
    ("macro-F1 (all)", ALL_KINDS, lambda s: s.lines.macro_f1),
    ("Pk concat", "concat", lambda s: s.segmentation.pk),
    ("Pk bare", "bare", lambda s: s.segmentation.pk),
    ("WD concat", "concat", lambda s: s.segmentation.window_diff),
    ("count exact concat", "concat", lambda s: s.segmentation.count_exact),
    ("record F1 concat", "concat", lambda s: s.records.f1),
)


@dataclass(frozen=True, slots=True)
class SystemRun:
    """One system's scores on one dump set, and how long it took per dump."""

    scores: dict[str, Scores]
    seconds: tuple[float, ...]  # per dump, in dump order


def cleaner_system(model_path: str | None = None) -> tuple[System | None, str]:
    """The cleaner model as a system, or None and the reason when it cannot be loaded."""
    from cleaner.label import load_model

    try:
        model = load_model(model_path)
    except CleanerError as err:
        return None, f"cleaner not benchmarked: {err}"

    def predict(lines: Sequence[Line]) -> Prediction:
        """The same prediction `cleaner eval` scores (one dump per call, so it can be timed)."""
        return predict_lines([lines], model)[0]

    return predict, f"cleaner: {model_path or 'shipped model'}"


def systems(model_path: str | None = None) -> tuple[dict[str, System], list[str]]:
    """Every system to benchmark by name, and notes about the ones left out."""
    found: dict[str, System] = dict(BASELINES)
    cleaner, note = cleaner_system(model_path)
    if cleaner is not None:
        found["cleaner"] = cleaner
    return found, [note]


def run_system(system: System, dumps: Sequence[AnnotatedDump]) -> SystemRun:
    """Run a system on every dump, timing each, and score the predictions per kind."""
    predictions: list[Prediction] = []
    seconds: list[float] = []
    for dump in dumps:
        lines = strip_gold(dump)
        start = time.perf_counter()
        predictions.append(system(lines))
        seconds.append(time.perf_counter() - start)
    scores = evaluate_by_kind(zip(dumps, predictions, strict=True))
    return SystemRun(scores=scores, seconds=tuple(seconds))


def limit_per_kind(dumps: Sequence[AnnotatedDump], *, limit: int | None) -> list[AnnotatedDump]:
    """At most `limit` dumps of each kind (all when None), keeping file order."""
    if limit is None:
        return list(dumps)
    taken: dict[str, int] = {}
    out: list[AnnotatedDump] = []
    for dump in dumps:
        if taken.get(dump.kind, 0) < limit:
            taken[dump.kind] = taken.get(dump.kind, 0) + 1
            out.append(dump)
    return out


def _cell(value: float | None) -> str:
    """A score to three decimals, or a dash when there was nothing to score."""
    return "–" if value is None else f"{value:.3f}"


def table(runs: dict[str, SystemRun]) -> str:
    """The markdown table: one row per system, score columns then timing."""
    headers = [
        "system",
        *(name for name, _, _ in COLUMNS),
        "ms/dump (median)",
        "total s",
    ]
    rows = ["| " + " | ".join(headers) + " |", "|---" + "|---:" * (len(headers) - 1) + "|"]
    for name, run in runs.items():
        cells = [
            _cell(get(run.scores[kind])) if kind in run.scores else "–" for _, kind, get in COLUMNS
        ]
        median_ms = 1000 * statistics.median(run.seconds) if run.seconds else 0.0
        cells += [f"{median_ms:.1f}", f"{sum(run.seconds):.1f}"]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def kind_counts(dumps: Sequence[AnnotatedDump]) -> str:
    """'page 205, concat 30, ...': how many dumps of each kind a table is over."""
    counts: dict[str, int] = {}
    for dump in dumps:
        counts[dump.kind] = counts.get(dump.kind, 0) + 1
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))


def bench(
    title: str, dumps: Sequence[AnnotatedDump], found: dict[str, System]
) -> tuple[str, dict[str, Any]]:
    """Run every system on one dump set: the printed section and its JSON."""
    runs = {name: run_system(system, dumps) for name, system in found.items()}
    text = f"## {title}: {len(dumps)} dumps ({kind_counts(dumps)})\n\n{table(runs)}\n"
    data = {
        name: {
            "scores": {kind: scores.to_dict() for kind, scores in run.scores.items()},
            "median_seconds_per_dump": statistics.median(run.seconds) if run.seconds else None,
            "total_seconds": sum(run.seconds),
        }
        for name, run in runs.items()
    }
    return text, {"n_dumps": len(dumps), "systems": data}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line of python -m bench.run."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True, help="annotated corpus (JSONL)")
    parser.add_argument("--seeds", type=Path, required=True, help=f"directory with {SEEDS_FILE}")
    parser.add_argument(
        "--limit", type=int, default=None, help="at most N held-out dumps of each kind"
    )
    parser.add_argument("--json", type=Path, default=None, help="write all scores here")
    parser.add_argument("--no-joins", action="store_true",
                        help="skip the tables of joins and briefs of held-out pages")
    parser.add_argument("--model", default=None, help="cleaner model file (default: shipped)")
    parser.add_argument("--gate", type=Path, default=Path("fixtures/annotated/gate.jsonl"),
                        help="our hand-annotated quality-gate dumps (never trained on)")
    parser.add_argument("--misses", type=Path,
                        default=Path("fixtures/annotated/misses.jsonl"),
                        help="our hand-annotated dumps the shipped model is known to miscount")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Benchmark every system on the held-out corpus and on the seeds; print markdown tables."""
    args = parse_args(argv)
    try:
        corpus = list(read_dumps(args.corpus))
        seeds_path = args.seeds / SEEDS_FILE
        seeds = list(read_dumps(seeds_path)) if seeds_path.exists() else None
    except CleanerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    held = [dump for dump, out in zip(corpus, held_out(corpus), strict=True) if out]
    held = limit_per_kind(held, limit=args.limit)
    found, notes = systems(args.model)
    for note in notes:
        print(f"note: {note}")
    print()
    text, results = bench("Held-out corpus", held, found)
    report: dict[str, Any] = {"corpus": {"path": str(args.corpus), **results}}
    print(text)
    if not args.no_joins:
        joins = held_out_joins(held)
        text, results = bench("Joins of held-out pages (bench/joins.py)", joins, found)
        report["joins"] = results
        print(text)
        text, results = bench("Briefs of held-out pages (bench/joins.py)", held_out_briefs(held),
                              found)
        report["briefs"] = results
        print(text)
    if seeds is None:
        print(f"note: no seeds at {seeds_path}; seed table skipped")
    else:
        text, results = bench("Seeds", seeds, found)
        report["seeds"] = {"path": str(seeds_path), **results}
        print(text)
    # Our own dumps: the quality gate, then the layouts it does not hold because the shipped
    # model fails them (tests/test_quality.py keeps them as strict xfails), shown so that the
    # benchmark says what is not handled.
    for key, title, path in (("gate", "Gate fixtures", args.gate),
                             ("misses", "Known misses", args.misses)):
        if path.exists():
            text, results = bench(title, list(read_dumps(path)), found)
            report[key] = {"path": str(path), **results}
            print(text)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
