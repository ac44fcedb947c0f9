"""Bars of the batch tool, measured on generated inputs (python -m bench.batch; make bench).

- scaling: `cleaner split --jobs 1` and `--jobs J` over >= 200,000 non-blank lines in many .txt
  files (the texts of fixtures/dumps/*.txt and of FIXTURE_FILES, repeated); throughput
  (lines/s) of each, their ratio (bar: >= 1.7 for J = 2), and whether the outputs are identical;
- memory: peak RSS of the `cleaner split` process (os.wait4, that process alone) on N files and
  on 10 x N files (bar: grows < 20%);
- dask: the same job through `--backend dask` on a dask.distributed.LocalCluster, byte-compared
  with `--jobs 1` (bar: identical);
- WARC: a generated WARC of 1,000 HTML responses (warcio's writer, pages built from the same
  texts) through `cleaner split`, end to end (bar: every page read, no error, every record
  carries its page's URL).

It prints one markdown table. Everything runs in child processes, so the numbers include
start-up, as a user would see them.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cleaner.annotated import read_dumps
from cleaner.read import split_lines

ROOT = Path(__file__).resolve().parent.parent
MIN_LINES = 200_000
MEMORY_FILES = 300
MEMORY_FACTOR = 10
DASK_LINES = 20_000
WARC_PAGES = 1_000
JOBS = 2
RUNS = 1
SPEEDUP_BAR = 1.7
MEMORY_BAR = 1.20
# The annotated fixture files whose texts the inputs are made of, named, so that a fixture file
# added later does not change this benchmark's input (these are the five there on 2026-12-05).
FIXTURE_FILES = ("blogs.jsonl", "gate.jsonl", "layouts.jsonl", "misses.jsonl", "train.jsonl")


@dataclass(frozen=True)
class Row:
    """One line of the result table."""

    measure: str
    value: str
    bar: str = ""
    met: bool | None = None


def fixture_texts() -> list[str]:
    """The dump texts of the fixtures: seed dumps and annotated dumps."""
    dumps = sorted((ROOT / "fixtures" / "dumps").glob("*.txt"))
    texts = [path.read_text(encoding="utf-8") for path in dumps]
    for name in FIXTURE_FILES:
        texts.extend(dump.text for dump in read_dumps(ROOT / "fixtures/annotated" / name))
    return [t for t in texts if split_lines(t)]


def write_files(folder: Path, texts: Sequence[str], *, count: int) -> int:
    """`count` .txt files cycling through the texts (100 per folder); their non-blank lines."""
    lines = 0
    for k in range(count):
        text = texts[k % len(texts)]
        path = folder / f"{k // 100:04d}" / f"{k:07d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        lines += len(split_lines(text))
    return lines


def files_for(texts: Sequence[str], *, min_lines: int) -> int:
    """How many files of write_files hold at least `min_lines` non-blank lines."""
    per_text = [len(split_lines(t)) for t in texts]
    count = lines = 0
    while lines < min_lines:
        lines += per_text[count % len(texts)]
        count += 1
    return count


@dataclass(frozen=True)
class Run:
    """What one `cleaner` run in a child process took."""

    seconds: float  # wall
    rss_kib: int  # peak resident memory of the cleaner process
    cpu: float  # user + system seconds, with the worker processes it waited for
    stderr: str


def cleaner(*args: str) -> Run:
    """Run `cleaner ARGS...` in a child process and measure it."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cleaner", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode("utf-8", "replace")
    # wait4: the resources of this child alone (RUSAGE_CHILDREN would keep the maximum of all).
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"cleaner {' '.join(args[:4])}... failed: {stderr.strip()[-500:]}")
    return Run(seconds, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, stderr)


def scaling(
    work: Path, texts: Sequence[str], *, min_lines: int, jobs: int, runs: int = 1
) -> list[Row]:
    """Throughput of --jobs 1 and --jobs J on the same files, and whether the outputs match."""
    # Runs are taken in turns, so that a busy spell of the machine falls on both; medians.
    folder = work / "scaling"
    n_files = files_for(texts, min_lines=min_lines)
    lines = write_files(folder, texts, count=n_files)
    out1, out2 = work / "jobs1.jsonl", work / f"jobs{jobs}.jsonl"
    ones, manys = [], []
    load = os.getloadavg()[0]
    for _ in range(runs):
        ones.append(cleaner("split", "-q", "--jobs", "1", "-o", str(out1), str(folder)))
        manys.append(cleaner("split", "-q", "--jobs", str(jobs), "-o", str(out2), str(folder)))
    one = statistics.median(r.seconds for r in ones)
    many = statistics.median(r.seconds for r in manys)
    cpu_one = statistics.median(r.cpu for r in ones)
    cpu_many = statistics.median(r.cpu for r in manys)
    same = out1.read_bytes() == out2.read_bytes()
    ratio = one / many
    # CPU seconds tell a busy machine (other work took the cores) from overhead of ours.
    return [
        Row("load average (1 min) before the scaling runs", f"{load:.2f}"),
        Row(f"--jobs 1: {lines:,} lines in {n_files:,} files (median of {runs})",
            f"{lines / one:,.0f} lines/s ({one:.1f} s)"),
        Row(f"--jobs {jobs}: same files", f"{lines / many:,.0f} lines/s ({many:.1f} s)"),
        # Three decimals, here and for memory: at two, a ratio of 1.697 printed as "1.70x" beside
        # "no".
        Row(f"speed-up --jobs {jobs} / --jobs 1", f"{ratio:.3f}x", f">= {SPEEDUP_BAR}x",
            ratio >= SPEEDUP_BAR),
        Row(f"CPU seconds --jobs 1 / --jobs {jobs} (workers included)",
            f"{cpu_one:.1f} / {cpu_many:.1f}"),
        Row(f"--jobs {jobs} output identical to --jobs 1", str(same), "identical", same),
    ]  # fmt: skip


def memory(work: Path, texts: Sequence[str], *, files: int) -> list[Row]:
    """Peak RSS of one `cleaner split` process on N files and on 10 x N files."""
    small, large = work / "mem-small", work / "mem-large"
    write_files(small, texts, count=files)
    write_files(large, texts, count=files * MEMORY_FACTOR)
    rss_small = cleaner("split", "-q", "-o", str(work / "mem-small.jsonl"), str(small)).rss_kib
    rss_large = cleaner("split", "-q", "-o", str(work / "mem-large.jsonl"), str(large)).rss_kib
    growth = rss_large / rss_small
    return [
        Row(f"peak RSS, {files:,} files", f"{rss_small / 1024:.0f} MiB"),
        Row(f"peak RSS, {files * MEMORY_FACTOR:,} files ({MEMORY_FACTOR}x)",
            f"{rss_large / 1024:.0f} MiB ({growth:.3f}x)", f"< {MEMORY_BAR:.2f}x",
            growth < MEMORY_BAR),
    ]  # fmt: skip


def dask_backend(work: Path, texts: Sequence[str], *, min_lines: int) -> list[Row]:
    """The same job on a LocalCluster (two worker processes) against --jobs 1, byte for byte."""
    from dask.distributed import LocalCluster

    folder = work / "dask"
    lines = write_files(folder, texts, count=files_for(texts, min_lines=min_lines))
    local, remote = work / "dask-jobs1.jsonl", work / "dask.jsonl"
    cleaner("split", "-q", "-o", str(local), str(folder))
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        seconds = cleaner("split", "-q", "--backend", "dask", "--scheduler", address,
                          "-o", str(remote), str(folder)).seconds  # fmt: skip
    same = local.read_bytes() == remote.read_bytes()
    return [
        Row(f"dask LocalCluster (2 workers), {lines:,} lines", f"{lines / seconds:,.0f} lines/s"),
        Row("dask records identical to --jobs 1", str(same), "identical", same),
    ]


def html_page(text: str, *, url: str) -> bytes:
    """An HTML page of a dump: its first line as title and heading, the others as paragraphs."""
    lines = [line.text for line in split_lines(text)]
    title = html.escape(lines[0])
    body = "\n".join(f"<p>{html.escape(line)}</p>" for line in lines[1:])
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<link rel='canonical' href='{html.escape(url)}'></head>"
        f"<body><article><h1>{title}</h1>\n{body}\n</article></body></html>"
    )
    return page.encode("utf-8")


def write_warc(path: Path, texts: Sequence[str], *, pages: int) -> list[str]:
    """A gzipped WARC of `pages` HTML responses (warcio's writer); the pages' URLs."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    urls = []
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for k in range(pages):
            url = f"https://news.example/{k // 100}/story-{k}.html"
            urls.append(url)
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                       protocol="HTTP/1.1")  # fmt: skip
            record = writer.create_warc_record(
                url, "response", payload=BytesIO(html_page(texts[k % len(texts)], url=url)),
                http_headers=headers,
            )  # fmt: skip
            writer.write_record(record)
    return urls


def warc(work: Path, texts: Sequence[str], *, pages: int) -> list[Row]:
    """A generated WARC of HTML responses through `cleaner split`: pages read, records' URLs."""
    path = work / "pages.warc.gz"
    urls = set(write_warc(path, texts, pages=pages))
    out, summary = work / "warc.jsonl", work / "warc-summary.json"
    run = cleaner("split", "-q", "-o", str(out), "--summary", str(summary), str(path))
    seconds, stderr = run.seconds, run.stderr
    if not summary.exists():
        return [Row(f"WARC of {pages:,} HTML responses", f"failed: {stderr.strip()[-200:]}",
                    "all pages, URLs", False)]  # fmt: skip
    tally = json.loads(summary.read_text(encoding="utf-8"))
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    with_url = sum(r.get("url") in urls for r in records)
    pages_seen = len({r.get("url") for r in records} & urls)
    met = tally["documents"] == pages and not tally["errors"] and with_url == len(records)
    errors = tally["errors"][:1]
    detail = f"; first error: {errors[0]['reason']}" if errors else ""
    return [
        Row(f"WARC of {pages:,} HTML responses",
            f"{tally['documents']:,} documents, {len(tally['errors'])} errors, {len(records):,} "
            f"records from {pages_seen:,} pages, {with_url:,} with their URL ({seconds:.1f} s)"
            f"{detail}", "all pages, every record its URL", met),
    ]  # fmt: skip


def table(rows: Sequence[Row]) -> Iterator[str]:
    """The rows as a markdown table."""
    yield "| measure | value | bar | met |"
    yield "|---|---:|---|---|"
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        yield f"| {row.measure} | {row.value} | {row.bar} | {met} |"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the cases and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=MIN_LINES, help="lines for the scaling run")
    parser.add_argument("--jobs", type=int, default=JOBS)
    parser.add_argument("--runs", type=int, default=RUNS, help="scaling runs (median)")
    parser.add_argument("--memory-files", type=int, default=MEMORY_FILES)
    parser.add_argument("--dask-lines", type=int, default=DASK_LINES)
    parser.add_argument("--warc-pages", type=int, default=WARC_PAGES)
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["scaling", "memory", "dask", "warc"])  # fmt: skip
    args = parser.parse_args(argv)
    texts = fixture_texts()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="cleaner-bench-batch-") as tmp:
        work = Path(tmp)
        if "memory" not in args.skip:
            rows += memory(work, texts, files=args.memory_files)
        if "scaling" not in args.skip:
            rows += scaling(work, texts, min_lines=args.lines, jobs=args.jobs, runs=args.runs)
        if "dask" not in args.skip:
            rows += dask_backend(work, texts, min_lines=args.dask_lines)
        if "warc" not in args.skip:
            rows += warc(work, texts, pages=args.warc_pages)
    print(f"### Batch runs (`python -m bench.batch`, {os.cpu_count()} cores)\n")
    print("\n".join(table(rows)))


if __name__ == "__main__":
    main()
