"""Read inputs into Documents, and Documents into Lines."""

from __future__ import annotations

from cleaner.types import Line


def split_lines(text: str) -> list[Line]:
    """The non-blank lines of a text, numbered from 1, each with the blank-line run above it."""
    lines: list[Line] = []
    blank = 0
    # split("\n"), not splitlines(): form feeds and U+2028 must not shift line numbers.
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if not stripped:
            blank += 1
            continue
        lines.append(Line(number=number, text=stripped, blank_before=blank))
        blank = 0
    return lines
