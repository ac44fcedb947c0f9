"""`cleaner convert`, `train`, `eval` and `info`: thin commands over the library's model loop.

Annotated dumps come in two formats (cleaner.annotated): the JSON Lines of docs/LABELS.md and a
plain-text format for writing labels by hand. Each command parses its options and calls one
library function; heavy imports happen inside the commands, so `cleaner --help` stays light.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cleaner.annotated import FORMATS, HOLDOUT_PERCENT
from cleaner.cli import MODEL_HELP, CliError, cleaner
from cleaner.errors import CleanerError
from cleaner.features import PAIR_MAX_WORDS
from cleaner.train import DEFAULT_SEED, FIXTURE_WEIGHT, FOLDS, file_sha256

if TYPE_CHECKING:
    from cleaner.label import Model
    from cleaner.types import AnnotatedDump

FORMAT_CHOICE = click.Choice(FORMATS)


@cleaner.command()
@click.argument("source", type=click.Path(dir_okay=False), metavar="IN")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), metavar="OUT",
              help="The converted file, written atomically.")
@click.option("--to", "fmt", type=FORMAT_CHOICE,
              help="Output format. [default: from OUT's suffix: .jsonl, or .txt/.ann for text]")
def convert(source: str, output: str, fmt: str | None) -> None:
    """Convert annotated dumps between JSON Lines and the text annotation format.

    IN's format comes from its suffix (.jsonl/.json, .txt/.ann) or, failing that, from its
    content. Every dump's id, kind and origin and every line's text, label and article are
    kept, and so are the blank lines between lines; converting back gives the same dumps.
    """
    from cleaner.annotated import annotated_format, output_format
    from cleaner.annotated import convert as convert_file

    try:
        fmt = fmt or output_format(output)
        count = convert_file(source, output, fmt=fmt)
        click.echo(f"cleaner: {count} dumps from {source} ({annotated_format(source)}) "
                   f"to {output} ({fmt})", err=True)
    except CleanerError as err:
        raise CliError(str(err)) from None


class Progress:
    """Training progress on stderr: a bar that redraws in place on a terminal, else silence."""

    WIDTH = 24

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.enabled = enabled
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        """Advance one step and show the step's message."""
        self.done = min(self.done + 1, self.total)
        if not self.enabled:
            return
        filled = self.WIDTH * self.done // self.total
        elapsed = int(time.monotonic() - self.started)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        # \r and erase-line: the bar stays on one line and redraws itself (written as is:
        # click.echo would strip the escape code from a stream it does not take for a terminal).
        sys.stderr.write(f"\r\x1b[K[{bar}] {self.done}/{self.total} "
                         f"{elapsed // 60}:{elapsed % 60:02d} {message}")
        sys.stderr.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled and self.done:
            sys.stderr.write("\n")
            sys.stderr.flush()


def stderr_is_tty() -> bool:
    """Whether standard error is a terminal (progress bars are for people, not log files)."""
    return sys.stderr.isatty()


def _a_file(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Refuse "-" where only a file makes sense (the report waits for the model to be saved)."""
    if value == "-":
        raise click.BadParameter("must be a file, not -")
    return value


@cleaner.command()
@click.argument("data", nargs=-1, required=True, type=click.Path(dir_okay=False),
                metavar="DATA...")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), metavar="MODEL",
              help="The model file to write; its model card goes beside it as MODEL with .json.")
@click.option("--seed", default=DEFAULT_SEED, show_default=True, type=int,
              help="Random seed: the same data and seed give the same model and scores.")
@click.option("--holdout/--no-holdout", default=False, show_default=True,
              help=f"Hold out {HOLDOUT_PERCENT}% of the page groups of the first DATA file "
                   "(never trained on; score them with `cleaner eval --held-out`).")
@click.option("--folds", default=FOLDS, show_default=True, type=click.IntRange(min=2),
              help="Cross-validation folds (grouped by page) for the model card's scores.")
@click.option("--extra-weight", default=FIXTURE_WEIGHT, show_default=True,
              type=click.FloatRange(min=0, min_open=True),
              help="Weight of each line of the DATA files after the first.")
@click.option("--word-pairs", default=PAIR_MAX_WORDS, show_default=True, metavar="N",
              type=click.IntRange(min=0),
              help="Also give stage 1 the adjacent word pairs of lines of at most N words "
                   "(0: none), recorded in the model card: a phrase such as \"click here to "
                   "read more\" says more than its words (docs/recipes.md, \"Word pairs\").")
@click.option("--licence", metavar="TEXT",
              help="The licence of your training data, recorded in the model card.")
@click.option("--drop-contradicted", is_flag=True,
              help="Give no weight to lines whose label cross-validation confidently "
                   "contradicts, and fit again (for noisy labels; twice the time).")
@click.option("--contradicted", "contradicted_report", type=click.Path(dir_okay=False),
              metavar="FILE", callback=_a_file,
              help="List the lines whose label cross-validation confidently contradicts "
                   "(likely annotation mistakes) in FILE as JSON Lines.")
@click.option("--exclude", type=click.Path(dir_okay=False), metavar="FILE",
              help="Leave out of training every dump in the page group of a page id listed "
                   "in FILE (one a line, # comments): pages whose gold is wrong as a whole.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary line.")
def train(
    data: tuple[str, ...],
    output: str,
    seed: int,
    holdout: bool,
    folds: int,
    extra_weight: float,
    word_pairs: int,
    licence: str | None,
    drop_contradicted: bool,
    contradicted_report: str | None,
    exclude: str | None,
    quiet: bool,
) -> None:
    """Train a model on annotated dumps and write it with its model card.

    DATA are annotated files, JSON Lines (docs/LABELS.md) or the text annotation format (see
    `cleaner convert`). The first is the base data; each line of the files after it weighs
    --extra-weight, so your own dumps can count more than a large corpus they are added to.
    Every label must occur in the data.

    The model card (MODEL with .json) records the data's hashes and sizes, the seed, the
    library versions, the labels, and cross-validated per-label precision/recall/F1 and the
    confusion matrix (folds grouped by page, never by line). A progress bar goes to stderr
    on a terminal. On an error nothing is written and an older MODEL stays as it was.

    Annotations have mistakes: --contradicted FILE lists the lines whose label the
    cross-validated model confidently contradicts, to review (it changes nothing in the
    model); --drop-contradicted also fits again without them. Where a whole page's gold is
    wrong (a comment thread labelled body), --exclude FILE leaves its page group out.
    """
    from cleaner.train import progress_steps, summary
    from cleaner.train import train as train_model

    progress = Progress(progress_steps(folds, find_contradicted=contradicted_report is not None,
                                       drop_contradicted=drop_contradicted),
                        enabled=not quiet and stderr_is_tty())
    try:
        card = train_model(
            Path(data[0]), [Path(p) for p in data[1:]], Path(output), seed=seed,
            holdout=holdout, folds=folds, extra_weight=extra_weight, licence=licence,
            drop_contradicted=drop_contradicted, pair_max_words=word_pairs,
            contradicted_report=Path(contradicted_report) if contradicted_report else None,
            exclude=Path(exclude) if exclude else None, log=progress,
        )
    except CleanerError as err:
        progress.close()
        raise CliError(str(err)) from None
    progress.close()
    if not quiet:
        click.echo(summary(card, Path(output)), err=True)


def load_verified(model_path: str | None) -> Model:
    """The model, verified before unpickling: a fault is an `error:` line, a doubt a `warning:`."""
    from cleaner.label import load_model

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = load_model(model_path)
        except CleanerError as err:
            raise CliError(str(err)) from None
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    return model


def read_gold(
    paths: Sequence[str], *, held: bool
) -> tuple[list[AnnotatedDump], list[dict[str, Any]], int]:
    """The gold dumps of every readable file, what each file gave, and how many files failed."""
    from cleaner.annotated import held_out, read_annotated

    dumps: list[AnnotatedDump] = []
    files: list[dict[str, Any]] = []
    failed = 0
    for path in paths:
        try:
            found = list(read_annotated(path))
        except CleanerError as err:
            click.echo(f"error: {err}", err=True)
            failed += 1
            continue
        if held:
            found = [d for d, out in zip(found, held_out(found), strict=True) if out]
        dumps.extend(found)
        files.append({"path": path, "dumps": len(found)})
    return dumps, files, failed


@cleaner.command("eval")
@click.argument("gold", nargs=-1, required=True, type=click.Path(dir_okay=False),
                metavar="GOLD...")
@click.option("--model", "model_path", metavar="PATH", help=MODEL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@click.option("--by-kind", is_flag=True,
              help="Scores per dump kind (page, extracted, concat, bare, ...) as well as for all.")
@click.option("--held-out", "held", is_flag=True,
              help=f"Score only the held-out {HOLDOUT_PERCENT}% of page groups of each GOLD file "
                   "(those `cleaner train --holdout` never trains on).")
@click.option("--floors", "floors_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Check the scores against the floors and ceilings of FILE (JSON, as "
                   "tests/quality_floors.json): exit 1 naming each one missed.")
def evaluate(
    gold: tuple[str, ...], model_path: str | None, as_json: bool, by_kind: bool, held: bool,
    floors_path: str | None,
) -> None:
    """Score a model on annotated dumps (the scores of docs/LABELS.md).

    GOLD are annotated files, JSON Lines or the text format. The model sees only each line's
    text and layout; its labels and article segments are scored against the gold ones:
    per-label precision/recall/F1, macro-F1, body-vs-rest F1, Pk and WindowDiff, the share of
    dumps with the right number of records, and record token F1. A GOLD file that cannot be
    read gets an `error:` line and the exit code is 1; the other files are still scored.
    """
    from cleaner.evaluate import evaluate_model, format_scores, missed_floors, scores_json
    from cleaner.label import default_model_path

    model = load_verified(model_path)
    shown = model_path or str(default_model_path())
    floors = read_floors_for(floors_path, gold) if floors_path else None
    dumps, files, failed = read_gold(gold, held=held)
    if files:
        if not dumps:
            raise CliError("no dumps to score" + (" (none held out)" if held else ""))
        try:
            # Floors name a kind ("concat.segmentation.pk"), so they need the scores by kind.
            scores = evaluate_model(dumps, model, by_kind=by_kind or floors is not None)
        except CleanerError as err:
            raise CliError(str(err)) from None
        about = {"model": {"path": shown,
                           "sha256": model.card.get("sha256"),
                           "created": model.card.get("created")},
                 "gold": files, "held_out_only": held}
        if as_json:
            click.echo(json.dumps(scores_json(scores, **about), indent=1))
        else:
            sha = str(model.card.get("sha256", "?"))[:12]
            click.echo(f"model: {shown} (sha256 {sha}, created "
                       f"{model.card.get('created', '?')}); gold: "
                       + ", ".join(f"{f['path']} ({f['dumps']} dumps)" for f in files)
                       + (", held-out page groups only" if held else ""))
            click.echo(format_scores(scores), nl=False)
        if floors is not None:
            try:
                missed = missed_floors(scores, floors)
            except CleanerError as err:
                raise CliError(f"{floors_path}: {err}") from None
            for line in missed:
                click.echo(f"floor missed: {line}", err=True)
            bounds = sum(len(v) for v in floors.values())
            click.echo(f"floors: {bounds - len(missed)} of {bounds} in {floors_path} hold",
                       err=True)
            failed += bool(missed)
    if failed:
        raise click.exceptions.Exit(1)


def read_floors_for(path: str, gold: Sequence[str]) -> dict[str, dict[str, float]]:
    """A floors file's bounds; when it records the SHA-256 of the gold file they were set on,
    one of the GOLD files must be that file."""
    from cleaner.evaluate import read_floors

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CliError(f"{path}: cannot read floors ({err})") from None
    try:
        floors = read_floors(text, source=path)
    except CleanerError as err:
        raise CliError(str(err)) from None
    if floors.gold_sha256 is not None:
        hashes = set()
        for name in gold:
            try:
                hashes.add(file_sha256(Path(name)))
            except OSError:
                continue  # read_gold reports it
        if floors.gold_sha256 not in hashes:
            raise CliError(f"{path}: its bounds were set on the gold file with SHA-256 "
                           f"{floors.gold_sha256[:12]}..., and no GOLD file is that file")
    return floors.bounds


@cleaner.command()
@click.option("--model", "model_path", metavar="PATH", help=MODEL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the model card as it is stored.")
def info(model_path: str | None, as_json: bool) -> None:
    """Show a model's card: what it is, what it was trained on, and how it scored.

    The model file is verified first (its SHA-256 against the card, then the labels and
    features it was built for), exactly as `cleaner split` verifies it before using it.
    """
    from cleaner.label import default_model_path
    from cleaner.train import describe_card

    model = load_verified(model_path)
    if as_json:
        click.echo(json.dumps(model.card, indent=2, ensure_ascii=False))
    else:
        click.echo(describe_card(model.card, path=model_path or str(default_model_path())),
                   nl=False)
