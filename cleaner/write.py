"""Write results as JSON Lines: records, labelled lines and dropped lines; files atomically.

Key order is fixed (evaluation tools and diffs rely on it), text stays readable UTF-8
(`ensure_ascii=False`) and every object ends with "\\n", so equal input gives equal bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from cleaner.types import Line, Record

STDOUT = "-"
ENCODING = "utf-8"
# Mode of a new output file before the umask, as open() would create it.
NEW_FILE_MODE = 0o666

RECORD_KEYS = ("id", "source", "url", "title", "byline", "date", "lang", "text", "lines")
LABEL_LINE_KEYS = ("source", "line", "text", "label", "p", "article")
DROPPED_LINE_KEYS = ("source", "line", "text", "label", "p")


def record_to_dict(record: Record) -> dict[str, Any]:
    """A record as a JSON object: id, source, url, title, byline, date, lang, text, lines."""
    return {
        "id": record.id,
        "source": record.source,
        "url": record.url,
        "title": record.title,
        "byline": record.byline,
        "date": record.date,
        "lang": record.lang,
        "text": record.text,
        "lines": list(record.lines),
    }


def label_line_to_dict(line: Line, *, source: str, article: int | None = None) -> dict[str, Any]:
    """A labelled line as a JSON object; `article` is its 0-based record index, None if dropped."""
    return {
        "source": source,
        "line": line.number,
        "text": line.text,
        "label": _label_value(line),
        "p": line.p,
        "article": article,
    }


def dropped_line_to_dict(line: Line, *, source: str) -> dict[str, Any]:
    """A dropped line (in no record) as a JSON object, with the label that dropped it."""
    # The labelled-line object without "article": a dropped line belongs to no record.
    labelled = label_line_to_dict(line, source=source)
    return {key: labelled[key] for key in DROPPED_LINE_KEYS}


def _label_value(line: Line) -> str | None:
    """The label's string, None for a line the labeller has not seen."""
    return line.label.value if line.label is not None else None


def json_line(obj: dict[str, Any]) -> str:
    """One JSON Lines row: the object in its own key order, non-ASCII kept, ending in a newline."""
    return json.dumps(obj, ensure_ascii=False) + "\n"


def write_rows(handle: IO[bytes], rows: Iterable[dict[str, Any]]) -> int:
    """Write objects as UTF-8 JSON Lines to a binary stream; return how many were written."""
    count = 0
    for row in rows:
        handle.write(json_line(row).encode(ENCODING))
        count += 1
    return count


@contextlib.contextmanager
def atomic_output(path: str, *, stdout: IO[bytes] | None = None) -> Iterator[IO[bytes]]:
    """A binary stream for `path` ("-" = standard output) that only appears if the block succeeds.

    A file is written to a temporary file beside it and renamed over `path` when the block ends
    without an exception; on any exception the temporary file is removed, so a reader never sees
    a partial file and an older file at `path` stays as it was.
    """
    if path == STDOUT:
        stream = stdout if stdout is not None else sys.stdout.buffer
        yield stream
        stream.flush()
        return
    target = Path(path)
    # Same directory as the target: os.replace is only atomic within one file system.
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file 0600; give it the mode a plain open() would have given it.
        tmp.chmod(_output_mode(target))
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _output_mode(target: Path) -> int:
    """Permission bits for an output file: those of the file it replaces, else 0666 less umask."""
    with contextlib.suppress(OSError):
        return target.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return NEW_FILE_MODE & ~umask
