"""`cleaner weak-label` and `cleaner inspect`: thin commands registered on the cleaner group."""

from __future__ import annotations

from typing import cast

import click

from cleaner.cli import MODEL_HELP, CliError, cleaner, load
from cleaner.errors import CleanerError, InputError

STDIO = "-"
WEAK_OUTPUT_HELP = (
    "Write the annotated dumps (JSON Lines) to FILE instead of standard output. FILE is "
    "replaced atomically at the end, and left untouched when no page could be labelled."
)
REVIEW_OUTPUT_HELP = "Write the review page to FILE (atomically) instead of standard output."


@cleaner.command("weak-label")
@click.argument("paths", nargs=-1, required=True, type=click.Path(), metavar="PAGE...")
@click.option("-o", "--output", default=STDIO, metavar="FILE", help=WEAK_OUTPUT_HELP)
@click.option(
    "--min-body",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="Skip a page with fewer body lines than this: its structure is not trusted.",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["page", "extracted"]),
    default=("page", "extracted"),
    show_default=True,
    help="Dumps to write per page: its block-level lines (page), and its text as `cleaner "
    "split` reads HTML (extracted), labelled alike. Repeat for both.",
)
@click.option(
    "--use-model",
    is_flag=True,
    help="Let the model's labels decide the lines the markup leaves open (pages with little "
    "markup): headline or byline inside the main text, a non-body label outside it, and any "
    "label the model gives with p >= 0.9.",
)
@click.option("--model", "model_path", metavar="PATH", help=MODEL_HELP + " Only with --use-model.")
def weak_label(
    paths: tuple[str, ...],
    output: str,
    min_body: int,
    kinds: tuple[str, ...],
    use_model: bool,
    model_path: str | None,
) -> None:
    """Label saved HTML pages from their structure, as annotated dumps (JSON Lines).

    Each PAGE's block-level lines are labelled with no hand work: the title and h1 are
    headlines, the main text trafilatura finds is body, comment sections are comments,
    related/read-more blocks are teasers, author and time elements are bylines, the rest is
    boilerplate. Give several pages of one site: body lines repeated on many of them are
    labelled boilerplate. Each page gives a `page` dump and an `extracted` dump (its text as
    `cleaner split` reads HTML), for `cleaner train`. A page where too little is found is
    skipped, with one line on stderr naming it; a page that cannot be read is an error
    (exit code 1).
    """
    from cleaner.annotated import dump_to_json
    from cleaner.weak import WeakLabelError, weak_label_paths
    from cleaner.write import atomic_output, write_rows

    if model_path is not None and not use_model:
        raise click.BadParameter("--model needs --use-model", param_hint="--model")
    model = load(model_path) if use_model else None
    dumps, errors = weak_label_paths(list(paths), min_body=min_body, model=model, kinds=kinds)
    for err in errors:
        prefix = "skipped" if isinstance(err, WeakLabelError) else "error"
        click.echo(f"{prefix}: {err}", err=True)
    if not dumps:
        raise CliError("no page could be weak-labelled; nothing written")
    try:
        with atomic_output(output, stdout=click.open_file(STDIO, "wb")) as out:
            write_rows(out, (dump_to_json(dump) for dump in dumps))
    except OSError as err:
        raise CliError(f"cannot write output: {err}") from None
    click.echo(f"weak-label: {len(dumps)} dumps of {len(paths) - len(errors)} pages, "
               f"{sum(len(d.lines) for d in dumps)} lines, {len(errors)} skipped", err=True)
    if any(not isinstance(err, WeakLabelError) for err in errors):
        raise click.exceptions.Exit(1)


@cleaner.command("inspect")
@click.argument("path", type=click.Path(), metavar="FILE")
@click.option("-o", "--output", default=STDIO, metavar="FILE", help=REVIEW_OUTPUT_HELP)
@click.option("--model", "model_path", metavar="PATH", help=MODEL_HELP)
@click.option(
    "--review-below",
    default=0.6,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Flag lines whose label probability is below this for review.",
)
def inspect_command(path: str, output: str, model_path: str | None, review_below: float) -> None:
    """Write a self-contained HTML page to review how FILE was labelled and split.

    Every line is coloured by its label, with its probability; records are marked where they
    start, with their title, byline, date and language; unsure lines are flagged. The page
    lets you change labels and export them in the text annotation format (for `cleaner
    train`). It loads nothing from the network. FILE is read as by `cleaner split`.
    """
    from typing import BinaryIO

    from cleaner.pipeline import clean_documents
    from cleaner.read import read_document
    from cleaner.review import review_page
    from cleaner.write import atomic_output

    model = load(model_path)
    try:
        document = read_document(path, stdin=cast(BinaryIO, click.open_file(STDIO, "rb")))
        page = review_page(clean_documents([document], model=model)[0],
                           review_below=review_below)
    except InputError as err:
        raise CliError(str(err)) from None
    except CleanerError as err:
        raise CliError(f"{path}: {err}") from None
    try:
        with atomic_output(output, stdout=click.open_file(STDIO, "wb")) as out:
            out.write(page.encode("utf-8"))
    except OSError as err:
        raise CliError(f"cannot write output: {err}") from None
