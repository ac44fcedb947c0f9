"""Planted gold-label errors, for tests of what finds them (cleaner.train, bench.noise)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from cleaner.types import AnnotatedDump, Label


def plant_comment_errors(
    dumps: Sequence[AnnotatedDump], chosen: Callable[[int], bool]
) -> tuple[list[AnnotatedDump], list[int]]:
    """The dumps with the longest body line of each chosen one (by index) relabelled as a
    comment, and the rows of those lines among all labelled lines: a long paragraph is body
    beyond doubt, so the label is plainly wrong."""
    out, rows, row = [], [], 0
    for k, dump in enumerate(dumps):
        body = [i for i, line in enumerate(dump.lines) if line.label is Label.BODY]
        if chosen(k) and body:
            i = max(body, key=lambda i: len(dump.lines[i].text))
            lines = list(dump.lines)
            lines[i] = replace(lines[i], label=Label.COMMENT)
            dump = replace(dump, lines=tuple(lines))
            rows.append(row + sum(1 for line in dump.lines[:i] if line.label))
        out.append(dump)
        row += sum(1 for line in dump.lines if line.label)
    return out, rows
