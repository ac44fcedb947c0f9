"""The `cleaner` command line: `cleaner split` and `cleaner label`, thin wrappers of the library.

Each command turns its options into a cleaner.batch.Job and runs it. scikit-learn, scipy,
joblib, trafilatura, langdetect, pyarrow and dask are imported only when a command runs, so
`cleaner --help` does not pay for them (numpy still comes in with `import cleaner`).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Literal, cast

import click

from cleaner import __version__
from cleaner.batch import (
    BATCH_SIZE,
    STDIO,
    CleanSettings,
    ErrorEntry,
    Hooks,
    Job,
    OutputSpec,
    ReadOptions,
    Tally,
    quiet_gc,
    summary_line,
    tally_to_dict,
)
from cleaner.errors import CleanerError

if TYPE_CHECKING:
    from cleaner.label import Model

OUTPUT_HELP = (
    "Write to FILE instead of standard output. FILE is replaced atomically when the run ends; "
    "it is left untouched if the model cannot be loaded or no input could be read."
)
MODEL_HELP = "Model file (its .json model card must sit beside it). [default: the shipped model]"
# The progress bar is redrawn at most this often (seconds): drawing is not free.
PROGRESS_EVERY = 0.2
DASK_TIMEOUT = "10s"


class CliError(click.ClickException):
    """A fatal error, shown as one `error: ...` line on stderr (exit code 1)."""

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the one-line message to stderr."""
        click.echo(f"error: {self.format_message()}", file=file, err=file is None)


def load(model_path: str | None) -> Model:
    """The model, or a one-line CliError saying what is wrong and how to rebuild it."""
    from cleaner.label import load_model

    try:
        return load_model(model_path)
    except CleanerError as err:
        raise CliError(str(err)) from None


def preload(model_path: str | None) -> None:
    """Load the model into this process's cache, or raise a one-line CliError."""
    from cleaner.batch import cached_model

    try:
        cached_model(model_path)
    except CleanerError as err:
        raise CliError(str(err)) from None


def report(error: ErrorEntry) -> None:
    """Print a per-file error as one line on stderr; the run goes on with the other files."""
    where = f"{error.path}: " if error.path else ""
    click.echo(f"error: {where}{error.reason}", err=True)


def model_version() -> str:
    """The shipped model's version line, read from its model card without loading the model."""
    from cleaner.label import card_path, default_model_path

    card_file = card_path(default_model_path())
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"model: none ({card_file} missing or unreadable; build it with `make train`)"
    if not isinstance(card, dict):
        return f"model: none ({card_file} is not a model card; build it with `make train`)"
    sha = str(card.get("sha256", "?"))[:12]
    return (
        f"model: {default_model_path().name} built by cleaner {card.get('cleaner_version', '?')} "
        f"on {card.get('created', '?')} (sha256 {sha})"
    )


def print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """The --version callback: package version, then the model card's version line."""
    if not value or ctx.resilient_parsing:
        return
    click.echo(f"cleaner {__version__}")
    click.echo(model_version())
    ctx.exit()


def not_stdout(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Refuse "-" for a second output: it would mix into the records on standard output."""
    if value == STDIO:
        raise click.BadParameter("must be a file, not - (standard output holds the records)")
    return value


def finish(tally: Tally) -> None:
    """Exit with code 1 if any input failed, after everything else has been written."""
    if tally.errors:
        raise click.exceptions.Exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=print_version,
    help="Show the cleaner version and the shipped model's version, then exit.",
)
def cleaner() -> None:
    """Label every line of raw news/web scrapes and split them into one record per article.

    Every non-blank line gets one label: body, headline, byline, teaser, comment or
    boilerplate. An article record is a headline, its byline lines and its body lines.
    """


F = Callable[..., Any]


def batch_options(func: F) -> F:
    """The options split and label share: inputs, outputs, parallelism, resume, progress."""
    options = [
        click.argument("paths", nargs=-1, required=True, type=click.Path(), metavar="PATH..."),
        click.option("-o", "--output", default=STDIO, metavar="FILE", help=OUTPUT_HELP),
        click.option(
            "--format", "fmt", type=click.Choice(["jsonl", "parquet", "txt"]), default="jsonl",
            show_default=True,
            help="jsonl: JSON Lines; parquet: a Parquet file (needs -o FILE); txt: one .txt "
            "file per record in --out-dir (split only).",
        ),
        click.option("--out-dir", metavar="DIR", help="Where the .txt files go (--format txt)."),
        click.option(
            "--shard-size", type=click.IntRange(min=1), metavar="N",
            help="N rows per output file: FILE-00000.jsonl, FILE-00001.jsonl, ... (needs -o).",
        ),
        click.option(
            "--summary", "summary_file", type=click.Path(dir_okay=False), callback=not_stdout,
            metavar="FILE", help="Also write the run summary (with every error) as JSON to FILE.",
        ),
        click.option(
            "--glob", default="*", show_default=True, metavar="PATTERN",
            help="Which files of a directory PATH to read (at any depth, e.g. '*.html').",
        ),
        click.option("--text-field", default="text", show_default=True, metavar="NAME",
                     help="The field holding each document's text in .jsonl inputs."),
        click.option("--id-field", default="id", show_default=True, metavar="NAME",
                     help="The field holding each document's id in .jsonl inputs."),
        click.option("--model", "model_path", metavar="PATH", help=MODEL_HELP),
        click.option(
            "--batch-size", default=BATCH_SIZE, show_default=True, type=click.IntRange(min=1),
            help="Documents labelled per model call (one task of a worker).",
        ),
        click.option(
            "-j", "--jobs", default=1, show_default=True, type=click.IntRange(min=-1),
            help="Worker processes (-1: one per core). Output is the same for any number.",
        ),
        click.option(
            "--backend", type=click.Choice(["loky", "dask"]), default="loky", show_default=True,
            help="Where workers run: local processes, or a Dask cluster (--scheduler).",
        ),
        click.option("--scheduler", metavar="ADDRESS",
                     help="The Dask scheduler's address (with --backend dask)."),
        click.option(
            "--resume", is_flag=True,
            help="Continue a killed run: skip what its completed output parts hold (needs "
            "--shard-size or --format txt).",
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar, no summary line."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@cleaner.command()
@batch_options
@click.option(
    "--dropped",
    type=click.Path(dir_okay=False),
    callback=not_stdout,
    metavar="FILE",
    help="Also write every dropped line (teaser, comment, boilerplate) with its label to FILE "
    "(sharded like the output with --shard-size).",
)
@click.option("--no-lang", is_flag=True, help="Do not detect each record's language (faster).")
def split(**options: Any) -> None:
    """Split scrapes into article records, written as JSON Lines (or Parquet, or .txt files).

    PATH is a text file (one paragraph per line), an HTML page (its text is extracted first),
    a .jsonl or .warc(.gz) file of many documents, a directory (files matching --glob, at any
    depth), or - for standard input. Records come out in input order, one JSON object per
    line, with the keys id, source, url, title, byline, date, lang, text, lines.

    An input that cannot be read (missing, binary, not UTF-8) gets one `error: PATH: ...`
    line on stderr; the other inputs are still processed and the exit code is 1. An empty
    input gives no records. A bad model stops the run with exit code 1. Unless --quiet, a
    progress bar (on a terminal) and a summary line go to stderr.
    """
    tally = run_command("split", options)
    if not options["quiet"]:
        click.echo(summary_line(tally), err=True)
    finish(tally)


@cleaner.command()
@batch_options
def label(**options: Any) -> None:
    """Label every non-blank line of scrapes, written as JSON Lines (or Parquet).

    One object per line with the keys source (PATH as given), line (1-based), text, label,
    p (the label's probability) and article (the 0-based index of the record the line went
    into, null when it was dropped). PATH is read as by `cleaner split`.

    An input that cannot be read gets one `error: PATH: ...` line on stderr; the other
    inputs are still processed and the exit code is 1.
    """
    finish(run_command("label", {**options, "dropped": None, "no_lang": True}))


def job_of(kind: Literal["split", "label"], options: dict[str, Any]) -> Job:
    """The batch job the options describe; click.UsageError for options that do not fit."""
    fmt = options["fmt"]
    output, out_dir = options["output"], options["out_dir"]
    if fmt == "txt":
        if kind != "split":
            raise click.UsageError("--format txt is for split only (label writes lines)")
        if out_dir is None or output != STDIO:
            raise click.UsageError("--format txt writes to --out-dir DIR, not to -o")
        output = out_dir
    elif out_dir is not None:
        raise click.UsageError("--out-dir is for --format txt; use -o FILE")
    elif output == STDIO and (fmt == "parquet" or options["shard_size"]):
        what = "--format parquet" if fmt == "parquet" else "--shard-size"
        raise click.UsageError(f"{what} needs -o FILE (it cannot write to standard output)")
    if fmt == "parquet":
        _require("pyarrow", extra="parquet", what="--format parquet")
    spec = OutputSpec(kind, fmt, output, options["dropped"], options["shard_size"])
    if options["resume"]:
        _check_resume(spec, options)
    if (options["backend"] == "dask") != (options["scheduler"] is not None):
        raise click.UsageError("--backend dask and --scheduler ADDRESS go together")
    jobs = options["jobs"]
    if jobs == 0:
        raise click.BadParameter(
            "0 workers cannot run anything (-1: one per core)", param_hint="'--jobs'"
        )
    if options["backend"] == "dask" and jobs == 1:
        jobs = -1  # every worker of the cluster
    return Job(
        paths=tuple(options["paths"]),
        read=ReadOptions(options["glob"], options["text_field"], options["id_field"]),
        clean=CleanSettings(
            options["model_path"], options["batch_size"], jobs, not options["no_lang"]
        ),
        output=spec,
        resume=options["resume"],
        # A Dask cluster's workers may not see our files: send them the documents instead.
        workers_read=options["backend"] != "dask",
    )


def _require(module: str, *, extra: str, what: str) -> None:
    """Refuse an option whose optional dependency is not installed, saying how to install it."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise CliError(f"{what} needs {module}: pip install 'cleaner[{extra}]'")


def _check_resume(spec: OutputSpec, options: dict[str, Any]) -> None:
    """Refuse --resume where no completed part could survive a crash."""
    if not spec.resumable:
        raise click.UsageError(
            "--resume needs output in parts: --shard-size N with -o FILE, or --format txt"
        )
    if spec.dropped is not None and spec.shard_size is None:
        raise click.UsageError("--resume with --dropped needs --shard-size")
    if STDIO in options["paths"]:
        raise click.UsageError("--resume cannot skip what standard input gave: name files")


def run_command(kind: Literal["split", "label"], options: dict[str, Any]) -> Tally:
    """Run the job of a command's options; fatal errors become one-line CliErrors."""
    from cleaner.batch import run

    job = job_of(kind, options)
    if job.clean.jobs == 1:
        # The model first: if it is bad, no output file is even started. (With workers, each
        # loads it, and a bad one stops the run at the first batch, before any output too.)
        preload(options["model_path"])
    # click.open_file("-") gives the binary standard streams (CliRunner's in tests), kept open.
    stdin = cast(BinaryIO, click.open_file(STDIO, "rb"))
    stdout = cast(IO[bytes], click.open_file(STDIO, "wb"))
    try:
        with backend(options["backend"], options["scheduler"]), progress(job, options) as show:
            tally = run(job, hooks=Hooks(error=report, progress=show, stdin=stdin, stdout=stdout))
        if options["summary_file"]:
            write_summary(options["summary_file"], tally)
    except OSError as err:
        raise CliError(f"cannot write output: {err}") from None
    except CleanerError as err:
        raise CliError(str(err)) from None
    return tally


def write_summary(path: str, tally: Tally) -> None:
    """The run summary as a JSON object in FILE (atomically)."""
    from cleaner.write import atomic_output

    with atomic_output(path) as handle:
        text = json.dumps(tally_to_dict(tally), ensure_ascii=False, indent=1) + "\n"
        handle.write(text.encode("utf-8"))


@contextmanager
def backend(name: str, scheduler: str | None) -> Iterator[None]:
    """Run joblib's tasks on the named backend: local processes, or a Dask cluster."""
    if name != "dask" or scheduler is None:
        yield
        return
    _require("distributed", extra="dask", what="--backend dask")
    import joblib
    from dask.distributed import Client

    try:
        client = Client(scheduler, timeout=DASK_TIMEOUT)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as err:
        raise CliError(f"cannot reach the Dask scheduler at {scheduler} ({err})") from None
    with client, joblib.parallel_config(backend="dask"):
        yield


def stderr_is_terminal() -> bool:
    """Whether standard error is a terminal (a progress bar would only garble a log file)."""
    return sys.stderr.isatty()


@contextmanager
def progress(job: Job, options: dict[str, Any]) -> Iterator[Callable[[Tally, int], None]]:
    """A progress callback: a bar on stderr when it is a terminal (and not --quiet), else none."""
    if options["quiet"] or not stderr_is_terminal():
        yield lambda _tally, _inputs: None
        return
    from cleaner.batch import expand

    # One extra walk of the directories for the total, so the bar can show an ETA.
    total = sum(1 for _ in expand(job.paths, glob=job.read.glob))
    started = time.monotonic()
    shown = {"inputs": 0, "at": 0.0}
    with click.progressbar(
        length=total, label="cleaning", file=sys.stderr, show_pos=True, show_eta=True,
        item_show_func=lambda text: text,
    ) as bar:  # fmt: skip

        def show(tally: Tally, inputs: int) -> None:
            now = time.monotonic()
            if now - shown["at"] < PROGRESS_EVERY and inputs < total:
                return
            seconds = max(now - started, 1e-9)
            rates = f"{inputs / seconds:.1f} files/s, {tally.lines / seconds:,.0f} lines/s"
            bar.update(inputs - int(shown["inputs"]), rates)
            shown.update(inputs=inputs, at=now)

        yield show


def main() -> None:
    """Entry point of the `cleaner` script and of `python -m cleaner`."""
    quiet_gc()  # this process is ours (see batch.GC_YOUNG_OBJECTS)
    cleaner(prog_name="cleaner")
from cleaner import cli_model  # noqa: E402, F401  (registers train, convert, eval, info)

# isort: split
from cleaner import cli_review  # noqa: E402, F401  (registers weak-label, inspect)
