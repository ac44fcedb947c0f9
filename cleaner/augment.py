"""Synthetic training dumps: real single-page dumps rearranged into layouts the corpus lacks.

The corpus comes from 2008/2012 pages: its concatenations always start a story with its
headline, and its related-story blocks are link lists. Today's scrapes (the user's seeds among
them) also put a story's title block after its body (title, repeated title, summary bullets),
start the next story right after the previous one's last paragraph, often with no headline of
its own at all, open a story with summary bullets under its headline, and follow an article
with a run of other stories' opening paragraphs, often cut off mid-sentence. These joins rebuild
those layouts from real labelled lines, labels carried along, so both the labeller and the
segmenter see them. No text is invented: every line is a corpus line (teasers and bullets are
cut from real body lines).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import replace

from cleaner.types import AnnotatedDump, Label, Line

_HEADINGS = frozenset({Label.HEADLINE, Label.BYLINE})
# The share of a join's stories (its parts) that get each layout; one of the first three at most.
TITLE_AFTER_SHARE = 0.35
# A story with no headline or byline at all, its furniture and comments kept: the corpus's concat
# dumps always open a story with its headline, so the models never saw a story start without one
# in the middle of a dump (seed 000 opens with body text; a scraper may keep only an article's
# text and its comments).
HEADLESS_SHARE = 0.2
# A title block with its summary bullets under it, the story below (seed 000's second story): the
# bullets were only ever seen at the end of a story, in the title-after layout.
SUMMARY_SHARE = 0.2
TEASER_RUN_SHARE = 0.35
BARE_SHARE = 0.2
# A bare join's stories cut to their first 3 to this many body lines (0: whole bodies): scrapes
# often keep only a story's opening paragraphs, and the corpus's pages, whole, are long enough
# that a topic change always has many lines of evidence on each side.
BARE_STORY_LINES = 0
# Briefs (brief_dumps) per real dump: one story's headline (and byline) and its first one to
# three paragraphs, or those paragraphs alone, as news APIs and JSON exports hand out short
# items. The corpus has almost no dump that short, and the labeller, reading a dump's first
# and last lines as a page's furniture, lost a third of the body lines of one-paragraph briefs
# cut from held-out pages (docs/recipes.md, "Briefs").
BRIEF_SHARE = 0.0
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _usable(dump: AnnotatedDump) -> bool:
    """An extracted single-page dump (the seeds' kind) with a headline and some body lines."""
    labels = [line.label for line in dump.lines]
    return (dump.kind == "extracted" and Label.HEADLINE in labels
            and labels.count(Label.BODY) >= 4)


def _bodies(dump: AnnotatedDump) -> list[Line]:
    """The body lines of a dump."""
    return [line for line in dump.lines if line.label is Label.BODY]


def _title_after(lines: list[Line], rng: random.Random) -> list[Line]:
    """Move the opening title block after the body, maybe repeating the title, adding bullets."""
    head = [line for line in lines[:5] if line.label in _HEADINGS]
    if not head:
        return lines
    rest = [line for line in lines if line not in head]
    block = list(head)
    if rng.random() < 0.5:
        title = next((line for line in head if line.label is Label.HEADLINE), head[0])
        block.insert(block.index(title) + 1, title)
    block += _bullets(rest, rng, fewest=0)
    return rest + block


def _bullets(lines: list[Line], rng: random.Random, *, fewest: int) -> list[Line]:
    """`fewest` to 2 summary bullets: the first sentences of some long body lines, "- " first."""
    bodies = [line for line in lines if line.label is Label.BODY and len(line.text) > 80]
    return [replace(line, text="- " + _SENTENCE_END.split(line.text)[0].rstrip("."))
            for line in rng.sample(bodies, min(len(bodies), rng.randint(fewest, 2)))]


def _summary(lines: list[Line], rng: random.Random) -> list[Line]:
    """Summary bullets right under the opening title block (headline and byline lines)."""
    start = next((k for k, line in enumerate(lines[:5]) if line.label in _HEADINGS), None)
    if start is None:
        return lines
    end = start
    while end < len(lines) and lines[end].label in _HEADINGS:
        end += 1
    return lines[:end] + _bullets(lines, rng, fewest=1) + lines[end:]


def _teasers(pool: Sequence[AnnotatedDump], rng: random.Random) -> list[Line]:
    """A run of other stories' opening paragraphs, some cut off mid-sentence, as teasers."""
    out = []
    for dump in rng.sample(list(pool), rng.randint(3, 8)):
        bodies = [line for line in _bodies(dump) if len(line.text.split()) >= 12]
        if not bodies:
            continue
        words = bodies[0].text.split()
        if rng.random() < 0.5:
            words = words[: rng.randint(8, len(words) - 1)]
        out.append(replace(bodies[0], text=" ".join(words), label=Label.TEASER))
    return out


def synthetic_dumps(
    dumps: Sequence[AnnotatedDump], *, count: int, seed: int
) -> list[AnnotatedDump]:
    """`count` joins of 2-4 single-page dumps in today's layouts (see the module docstring)."""
    rng = random.Random(seed)
    pool = [d for d in dumps if _usable(d)]
    if len(pool) < 10:
        return []
    out = []
    for n in range(count):
        parts = rng.sample(pool, rng.randint(2, 4))
        bare = rng.random() < BARE_SHARE
        lines: list[Line] = []
        pages: list[int] = []
        for page, part in enumerate(parts):
            if bare:
                body = _bodies(part)
                if BARE_STORY_LINES:
                    body = body[: rng.randint(3, max(3, BARE_STORY_LINES))]
            else:
                body = list(part.lines)
                roll = rng.random()
                if roll < TITLE_AFTER_SHARE:
                    body = _title_after(body, rng)
                elif roll < TITLE_AFTER_SHARE + HEADLESS_SHARE:
                    body = [line for line in body if line.label not in _HEADINGS]
                elif roll < TITLE_AFTER_SHARE + HEADLESS_SHARE + SUMMARY_SHARE:
                    body = _summary(body, rng)
                if page < len(parts) - 1 and rng.random() < TEASER_RUN_SHARE:
                    body += _teasers(pool, rng)
            blank = rng.choice([0, 0, 1, 3]) if page else 0
            for k, line in enumerate(body):
                lines.append(replace(line, blank_before=blank if k == 0 else
                                     min(line.blank_before, 1)))
                pages.append(page)
        renumbered = tuple(replace(line, number=i + 1) for i, line in enumerate(lines))
        kind = "bare" if bare else "concat"
        out.append(AnnotatedDump(f"synthetic-{n}", kind, "cleaner.augment", renumbered,
                                 tuple(pages)))
    return out


def brief_dumps(
    dumps: Sequence[AnnotatedDump], *, count: int, seed: int
) -> list[AnnotatedDump]:
    """`count` one-story briefs: a page's title block (3 times in 4) over its first 1-3 body lines.

    The title block is the page's first headline with the byline lines right after it (each
    kept half the time); the paragraphs are separated by a blank line half the time.
    """
    rng = random.Random(seed)
    pool = [d for d in dumps if _usable(d)]
    if not pool:
        return []
    out = []
    for n in range(count):
        part = rng.choice(pool)
        lines: list[Line] = []
        if rng.random() < 0.75:
            at = next(k for k, line in enumerate(part.lines) if line.label is Label.HEADLINE)
            lines.append(part.lines[at])
            for line in part.lines[at + 1 :]:
                if line.label is not Label.BYLINE:
                    break
                if rng.random() < 0.5:
                    lines.append(line)
        lines += _bodies(part)[: rng.choice([1, 1, 2, 3])]
        gap = rng.choice([0, 1])
        brief = tuple(replace(line, number=k + 1, blank_before=gap if k else 0)
                      for k, line in enumerate(lines))
        out.append(AnnotatedDump(f"brief-{n}:{part.id}", "extracted", "cleaner.augment", brief,
                                 (0,) * len(brief)))
    return out
