"""`cleaner convert`, `train`, `eval` and `info`: thin commands over the library's model loop.

Annotated dumps come in two formats (cleaner.annotated): the JSON Lines of docs/LABELS.md and a
plain-text format for writing labels by hand. Each command parses its options and calls one
library function; heavy imports happen inside the commands, so `cleaner --help` stays light.
"""

from __future__ import annotations

import click

from cleaner.cli import CliError, cleaner
from cleaner.errors import CleanerError

FORMAT_CHOICE = click.Choice(["jsonl", "text"])


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
    from cleaner.annotated import annotated_format, convert, output_format

    try:
        fmt = fmt or output_format(output)
        count = convert(source, output, fmt=fmt)
        click.echo(f"cleaner: {count} dumps from {source} ({annotated_format(source)}) "
                   f"to {output} ({fmt})", err=True)
    except CleanerError as err:
        raise CliError(str(err)) from None
