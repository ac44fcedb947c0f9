"""The `cleaner` command line: `cleaner split` and `cleaner label`, thin wrappers of the library.

scikit-learn, scipy, joblib, trafilatura and langdetect are imported only when a command runs,
so `cleaner --help` does not pay for them (numpy still comes in with `import cleaner`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Literal, TypeVar, cast

import click

from cleaner import __version__
from cleaner.errors import CleanerError, InputError
from cleaner.types import CONTENT_LABELS, LABELS, Label

if TYPE_CHECKING:
    from cleaner.label import Model
    from cleaner.pipeline import Cleaned

# Documents labelled per model call: one call over many documents is much faster than one each,
# and memory stays bounded by one batch of documents.
BATCH_SIZE = 64
DROPPED_LABELS: tuple[Label, ...] = tuple(label for label in LABELS if label not in CONTENT_LABELS)
STDIO = "-"
T = TypeVar("T")

OUTPUT_HELP = (
    "Write to FILE instead of standard output. FILE is replaced atomically when the run ends; "
    "it is left untouched if the model cannot be loaded or no input could be read."
)
MODEL_HELP = "Model file (its .json model card must sit beside it). [default: the shipped model]"


class CliError(click.ClickException):
    """A fatal error, shown as one `error: ...` line on stderr (exit code 1)."""

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the one-line message to stderr."""
        click.echo(f"error: {self.format_message()}", file=file, err=file is None)


@dataclass(frozen=True)
class Tally:
    """What a run has done so far, for the summary line."""

    files: int = 0
    lines: int = 0
    records: int = 0
    dropped: dict[Label, int] = field(default_factory=dict)
    errors: int = 0

    def add(self, cleaned: Cleaned) -> Tally:
        """This tally with one more cleaned document counted."""
        dropped = dict(self.dropped)
        for line in cleaned.dropped:
            if line.label is not None:
                dropped[line.label] = dropped.get(line.label, 0) + 1
        return replace(
            self,
            files=self.files + 1,
            lines=self.lines + len(cleaned.lines),
            records=self.records + len(cleaned.records),
            dropped=dropped,
        )

    def failed(self) -> Tally:
        """This tally with one more input that could not be read."""
        return replace(self, errors=self.errors + 1)


def summary_line(tally: Tally) -> str:
    """The one-line summary of a split run."""
    dropped = ", ".join(f"{label} {tally.dropped.get(label, 0)}" for label in DROPPED_LABELS)
    total = sum(tally.dropped.values())
    return (
        f"cleaner: {tally.files} files, {tally.lines} lines, {tally.records} records, "
        f"{total} dropped lines ({dropped}), {tally.errors} errors"
    )


def batched(items: Iterable[T], *, size: int = BATCH_SIZE) -> Iterator[list[T]]:
    """Consecutive lists of up to `size` items (itertools.batched arrives with Python 3.12)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def clean_paths(
    paths: Sequence[str],
    *,
    model: Model,
    batch_size: int = BATCH_SIZE,
    detect_language: bool = True,
) -> Iterator[Cleaned | InputError]:
    """Clean inputs batch by batch, yielding per path, in input order, a result or its error."""
    from cleaner.pipeline import clean_documents
    from cleaner.read import read_document
    from cleaner.types import Document

    # click.open_file("-") gives the binary standard stream (CliRunner's in tests), kept open.
    stdin = cast(BinaryIO, click.open_file(STDIO, "rb"))
    for batch in batched(paths, size=batch_size):
        read: list[Document | InputError] = []
        for path in batch:
            try:
                read.append(read_document(path, stdin=stdin))
            except InputError as err:
                read.append(err)
        documents = [doc for doc in read if isinstance(doc, Document)]
        cleaned = iter(
            clean_documents(documents, model=model, detect_language=detect_language)
        )
        for item in read:
            yield item if isinstance(item, InputError) else next(cleaned)


def load(model_path: str | None) -> Model:
    """The model, or a one-line CliError saying what is wrong and how to rebuild it."""
    from cleaner.label import load_model

    try:
        return load_model(model_path)
    except CleanerError as err:
        raise CliError(str(err)) from None


def report(err: InputError) -> None:
    """Print a per-file error as one line on stderr; the run goes on with the other files."""
    click.echo(f"error: {err}", err=True)


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


def rows(kind: Literal["split", "label"], cleaned: Cleaned) -> Iterator[dict[str, Any]]:
    """The output objects of one cleaned document: its records, or its labelled lines."""
    from cleaner.write import label_line_to_dict, record_to_dict

    if kind == "split":
        yield from (record_to_dict(record) for record in cleaned.records)
        return
    for line, article in zip(cleaned.lines, cleaned.articles, strict=True):
        yield label_line_to_dict(line, source=cleaned.source, article=article)


def dropped_rows(cleaned: Cleaned) -> Iterator[dict[str, Any]]:
    """The dropped lines of one cleaned document, as output objects."""
    from cleaner.write import dropped_line_to_dict

    yield from (dropped_line_to_dict(line, source=cleaned.source) for line in cleaned.dropped)


def run_output(
    kind: Literal["split", "label"],
    paths: Sequence[str],
    *,
    output: str = STDIO,
    dropped: str | None = None,
    model_path: str | None = None,
    batch_size: int = BATCH_SIZE,
    detect_language: bool = True,
) -> Tally:
    """Clean the inputs and write records (split) or labelled lines (label); return the tally."""
    from cleaner.write import atomic_output, write_rows

    # The model first: if it is bad, no output file is even started.
    model = load(model_path)
    tally = Tally()
    results = clean_paths(
        paths, model=model, batch_size=batch_size, detect_language=detect_language
    )
    try:
        with (
            atomic_output(output, stdout=click.open_file(STDIO, "wb")) as out,
            atomic_output(dropped) if dropped else contextlib.nullcontext() as drop,
        ):
            for result in results:
                if isinstance(result, InputError):
                    report(result)
                    tally = tally.failed()
                    continue
                tally = tally.add(result)
                write_rows(out, rows(kind, result))
                if drop is not None:
                    write_rows(drop, dropped_rows(result))
            if tally.files == 0:
                # Nothing could be read: keep what FILE held (a mistyped glob must not empty it).
                raise _NothingReadError
    except _NothingReadError:
        pass
    except OSError as err:
        raise CliError(f"cannot write output: {err}") from None
    except CleanerError as err:
        raise CliError(str(err)) from None
    return tally


class _NothingReadError(Exception):
    """Raised inside the output block to discard the outputs when no input could be read."""


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


# Shared by split and label: how many documents go through the model in one call.
batch_size_option = click.option(
    "--batch-size",
    default=BATCH_SIZE,
    show_default=True,
    type=click.IntRange(min=1),
    help="Documents labelled per model call.",
)


@cleaner.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(), metavar="PATH...")
@click.option("-o", "--output", default=STDIO, metavar="FILE", help=OUTPUT_HELP)
@click.option(
    "--dropped",
    type=click.Path(dir_okay=False),
    callback=not_stdout,
    metavar="FILE",
    help="Also write every dropped line (teaser, comment, boilerplate) with its label to FILE.",
)
@click.option("--model", "model_path", metavar="PATH", help=MODEL_HELP)
@click.option("--no-lang", is_flag=True, help="Do not detect each record's language (faster).")
@batch_size_option
@click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr.")
def split(
    paths: tuple[str, ...],
    output: str,
    dropped: str | None,
    model_path: str | None,
    no_lang: bool,
    batch_size: int,
    quiet: bool,
) -> None:
    """Split scrapes into article records, written as JSON Lines.

    PATH is a text file (one paragraph per line), an HTML page (its text is extracted first),
    or - for standard input. Records come out in input order, one JSON object per line, with
    the keys id, source, title, byline, date, lang, text, lines.

    An input that cannot be read (missing, a directory, binary, not UTF-8) gets one
    `error: PATH: ...` line on stderr; the other inputs are still processed and the exit
    code is 1. An empty input gives no records. A bad model stops the run with exit code 1.
    Unless --quiet, a summary line goes to stderr at the end.
    """
    tally = run_output(
        "split",
        paths,
        output=output,
        dropped=dropped,
        model_path=model_path,
        batch_size=batch_size,
        detect_language=not no_lang,
    )
    if not quiet:
        click.echo(summary_line(tally), err=True)
    finish(tally)


@cleaner.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(), metavar="PATH...")
@click.option("-o", "--output", default=STDIO, metavar="FILE", help=OUTPUT_HELP)
@click.option("--model", "model_path", metavar="PATH", help=MODEL_HELP)
@batch_size_option
def label(
    paths: tuple[str, ...], output: str, model_path: str | None, batch_size: int
) -> None:
    """Label every non-blank line of scrapes, written as JSON Lines.

    One object per line with the keys source (PATH as given), line (1-based), text, label,
    p (the label's probability) and article (the 0-based index of the record the line went
    into, null when it was dropped). PATH is read as by `cleaner split`.

    An input that cannot be read gets one `error: PATH: ...` line on stderr; the other
    inputs are still processed and the exit code is 1.
    """
    tally = run_output(
        "label",
        paths,
        output=output,
        model_path=model_path,
        batch_size=batch_size,
        detect_language=False,
    )
    finish(tally)


def main() -> None:
    """Entry point of the `cleaner` script and of `python -m cleaner`."""
    cleaner(prog_name="cleaner")
from cleaner import cli_model  # noqa: E402, F401  (registers train, convert, eval, info)

# isort: split
from cleaner import cli_review  # noqa: E402, F401  (registers weak-label, inspect)
