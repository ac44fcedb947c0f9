"""The vocabulary every stage takes and returns: Label, Line, Record, Document, AnnotatedDump."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Label(StrEnum):
    """The six line labels of docs/LABELS.md, in a fixed order (the model's class order)."""

    BODY = "body"
    HEADLINE = "headline"
    BYLINE = "byline"
    TEASER = "teaser"
    COMMENT = "comment"
    BOILERPLATE = "boilerplate"

    def __str__(self) -> str:
        return self.value


LABELS: tuple[Label, ...] = tuple(Label)
# Lines with these labels make up an article record; the others are dropped (and reported).
CONTENT_LABELS: frozenset[Label] = frozenset({Label.BODY, Label.HEADLINE, Label.BYLINE})


@dataclass(frozen=True, slots=True)
class Line:
    """One non-blank line of a dump, with its label once the labeller has run."""

    number: int  # 1-based line number in the source text
    text: str
    blank_before: int = 0  # blank lines directly above this one
    label: Label | None = None
    p: float | None = None  # the labeller's probability for `label`


@dataclass(frozen=True, slots=True)
class Document:
    """One raw dump: where it came from and its text (one paragraph per line)."""

    source: str
    text: str
    url: str | None = None  # the page's URL, when its container gives one (a WARC record's)
    date: str | None = None  # YYYY-MM-DD when the container dates the page (a WARC-Date)
    # The 1-based line where an HTML page's comment section starts (trafilatura's <comments>,
    # the page's last lines): none of them is article text.
    comments_from: int | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """One clean article cut from a dump."""

    id: str
    source: str
    title: str | None
    byline: str | None
    date: str | None  # ISO 8601, when one can be read from the byline lines
    lang: str | None
    text: str  # the body lines joined with "\n"
    lines: tuple[int, ...]  # 1-based source line numbers of every line in the record
    url: str | None = None  # the URL of the document it was cut from, when known


@dataclass(frozen=True, slots=True)
class AnnotatedDump:
    """A dump with gold labels and page indices (the JSONL format of docs/LABELS.md)."""

    id: str
    kind: str
    origin: str
    lines: tuple[Line, ...]  # non-blank lines, each with its gold label
    pages: tuple[int, ...]  # gold page index of each line in `lines`

    @property
    def text(self) -> str:
        """The raw dump text, blank lines restored."""
        out: list[str] = []
        for line in self.lines:
            out.extend([""] * line.blank_before)
            out.append(line.text)
        return "\n".join(out)
