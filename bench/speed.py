"""Speed and memory of `cleaner split`, measured side by side in one run (python -m bench.speed).

- throughput: non-blank lines per second over >= 100,000 lines of held-out corpus dumps, written
  as one .txt file per dump, on one core (taskset, one BLAS/OpenMP thread); median of runs;
- start-up: wall time of `cleaner split` on one small seed file, start-up included; median;
- memory: peak RSS of the same job on N files and on 10 x N files (same dumps repeated): flat
  memory means it is bounded by the largest dump, not by the number of files;
- stages: where the time of the pipeline goes, in this process, one thread, on the held-out
  dumps in batches of 64 (reading and writing files excluded): the map for the speed bar.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from cleaner.annotated import held_out, read_dumps

MIN_LINES = 100_000
RUNS = 3


def _env() -> dict[str, str]:
    """Environment pinning numeric libraries to one thread: we measure one core."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    return env


def _command(paths: Sequence[str], output: Path) -> list[str]:
    """`cleaner split` on one core, writing to a file."""
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    return [*pin, sys.executable, "-m", "cleaner", "split", "--quiet", "-o", str(output), *paths]


def _run(paths: Sequence[str], output: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one `cleaner split` run in a child process."""
    start = time.perf_counter()
    proc = subprocess.run(_command(paths, output), env=_env(), capture_output=True, text=True,
                          check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"cleaner split failed: {proc.stderr.strip()}")
    # RUSAGE_CHILDREN keeps the maximum over all children so far: run memory jobs small first.
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def write_inputs(
    corpus: Path, folder: Path, *, min_lines: int = MIN_LINES
) -> tuple[list[str], int]:
    """Held-out dumps as .txt files until at least `min_lines` non-blank lines; (paths, lines)."""
    dumps = list(read_dumps(corpus))
    held = [d for d, out in zip(dumps, held_out(dumps), strict=True) if out]
    paths: list[str] = []
    lines = 0
    while lines < min_lines:
        for dump in held:
            path = folder / f"{len(paths):05d}.txt"
            path.write_text(dump.text + "\n", encoding="utf-8")
            paths.append(str(path))
            lines += len(dump.lines)
            if lines >= min_lines:
                break
    return paths, lines


@contextmanager
def _clock(times: dict[str, float], name: str) -> Iterator[None]:
    """Add the seconds spent in the block to times[name]."""
    start = time.perf_counter()
    yield
    times[name] = times.get(name, 0.0) + time.perf_counter() - start


def stage_seconds(corpus: Path, *, batch: int = 64) -> tuple[int, dict[str, float]]:
    """Seconds spent in each stage of clean_documents over the held-out dumps; (lines, times)."""
    import numpy as np

    from cleaner import records, segment
    from cleaner.label import (
        CONTEXT_ROWS,
        apply_labels,
        best_labels,
        context_matrix,
        label_proba,
        line_inputs,
        load_model,
        stage1_matrix,
    )
    from cleaner.pipeline import one_thread
    from cleaner.read import split_lines

    dumps = list(read_dumps(corpus))
    texts = [d.text for d, out in zip(dumps, held_out(dumps), strict=True) if out]
    model = load_model()
    est = model.estimators
    records.detect_language("warm up langdetect's profiles")
    times: dict[str, float] = {}
    lines = 0
    with one_thread():
        for i in range(0, len(texts), batch):
            with _clock(times, "split lines"):
                split = [split_lines(t) for t in texts[i : i + batch]]
            sizes = [len(s) for s in split]
            if not sum(sizes):
                continue
            lines += sum(sizes)
            with _clock(times, "line features"):
                words, dense = line_inputs(split, model.vocab)
            with _clock(times, "stage 1 (matrix, predict)"):
                x1 = stage1_matrix(words, dense, est["scaler"])
                p1 = label_proba(est["lines"], x1)
            with _clock(times, "stage 2 features"):
                x2 = context_matrix(dense, p1, sizes)
            with _clock(times, "stage 2 predict"):
                p2 = label_proba(est["context"], x2, rows=CONTEXT_ROWS)
            bounds = np.cumsum([0, *sizes])
            probs = [p2[a:b] for a, b in itertools.pairwise(bounds)]
            with _clock(times, "decode labels"):
                best = best_labels(split, probs, model)
            with _clock(times, "apply labels"):
                labelled = [apply_labels(s, p, b)
                            for s, p, b in zip(split, probs, best, strict=True)]
            with _clock(times, "segment (gaps, boundary, cuts, position)"):
                segs = segment.segment_many(labelled, model=est["boundary"],
                                            position=est["position"], cuts=est.get("cuts"))
            with _clock(times, "records + langdetect"):
                for ls, sg in zip(labelled, segs, strict=True):
                    records.build_records(ls, sg, source="x")
    return lines, times


def main(argv: Sequence[str] | None = None) -> int:
    """Print the speed table."""
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--small", type=Path,
                        default=Path("fixtures/dumps/001_05a9c84b86114a5a.txt"))
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        out = folder / "out.jsonl"
        small_times = [_run([str(args.small)], out)[0] for _ in range(args.runs + 2)]
        (folder / "few").mkdir()
        few, _ = write_inputs(args.corpus, folder / "few", min_lines=2_000)
        _, rss_few = _run(few, out)
        many = few * 10
        _, rss_many = _run(many, out)
        (folder / "big").mkdir()
        paths, lines = write_inputs(args.corpus, folder / "big")
        big_times = [_run(paths, out)[0] for _ in range(args.runs)]
    median = statistics.median(big_times)
    print("## Speed (`cleaner split`, one core)\n")
    print("| measure | value |\n|---|---:|")
    print(f"| throughput, {lines:,} lines in {len(paths):,} files (median of {args.runs}) | "
          f"{lines / median:,.0f} lines/s ({median:.2f} s) |")
    print(f"| one small file ({args.small.name}), start-up included (median of "
          f"{len(small_times)}) | {statistics.median(small_times):.2f} s |")
    print(f"| peak RSS, {len(few)} files | {rss_few / 1024:.0f} MiB |")
    print(f"| peak RSS, {len(many)} files (10x) | {rss_many / 1024:.0f} MiB "
          f"({rss_many / rss_few:.2f}x) |")
    lines, times = stage_seconds(args.corpus)
    total = sum(times.values())
    print(f"\n### Where the time goes ({lines:,} held-out lines in batches of 64, one thread, "
          f"in-process: {lines / total:,.0f} lines/s)\n")
    print("| stage | s | share |\n|---|---:|---:|")
    for name, seconds in times.items():
        print(f"| {name} | {seconds:.2f} | {seconds / total:.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
