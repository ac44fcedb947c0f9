"""More concat and bare dumps to score segmentation on, joined from held-out page dumps.

The held-out corpus has 36 concat and 18 bare dumps: too few for segmentation scores to tell
two models apart (a retrain whose features moved at float-rounding level moved four concat
record counts and Pk bare by 0.05). These joins are built the way the corpus README says its own
are, from held-out pages only: `concat` joins 2-5 raw pages with a blank line between all, some
or none of them; `bare` joins only the body lines of 2-5 pages with no separator. Pages are
reused across joins, so the joins are not independent samples; they are a second, larger view.

Briefs are the other way round: one story's headline (and byline) over its first one to three
paragraphs, or those paragraphs alone, cut from the held-out `extracted` pages by the function
that makes the training briefs (cleaner.augment.brief_dumps), as news APIs and JSON exports hand
out short items; the corpus has almost no dump that short.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

from cleaner.augment import brief_dumps
from cleaner.types import AnnotatedDump, Label, Line

JOINS_SEED = 20261202
BRIEFS_SEED = 20261207


def _join(parts: Sequence[Sequence[Line]], blanks: Sequence[int], ids: Sequence[str], kind: str,
          number: int) -> AnnotatedDump:
    """One dump of the parts' lines, part k's first line after blanks[k] blank lines."""
    lines: list[Line] = []
    pages: list[int] = []
    for page, (part, blank) in enumerate(zip(parts, blanks, strict=True)):
        for k, line in enumerate(part):
            lines.append(replace(line, number=len(lines) + 1,
                                 blank_before=blank if k == 0 else line.blank_before))
            pages.append(page)
    return AnnotatedDump(f"joins-{kind}-{number}:" + "+".join(ids), kind, "bench.joins",
                         tuple(lines), tuple(pages))


def held_out_joins(
    pages: Sequence[AnnotatedDump], *, concat: int = 150, bare: int = 100, seed: int = JOINS_SEED
) -> list[AnnotatedDump]:
    """`concat` and `bare` joins of the given page dumps (see the module docstring)."""
    rng = random.Random(seed)
    whole = [p for p in pages if p.kind == "page" and p.lines]
    bodies = [p for p in whole if sum(line.label is Label.BODY for line in p.lines) >= 2]
    out = []
    for n in range(concat if len(whole) >= 5 else 0):
        parts = rng.sample(whole, rng.randint(2, 5))
        mode = rng.choice(("all", "some", "none"))
        blanks = [0] + [int(mode == "all" or (mode == "some" and rng.random() < 0.5))
                        for _ in parts[1:]]
        out.append(_join([p.lines for p in parts], blanks, [p.id for p in parts], "concat", n))
    for n in range(bare if len(bodies) >= 5 else 0):
        parts = rng.sample(bodies, rng.randint(2, 5))
        body = [[replace(line, blank_before=0) for line in p.lines if line.label is Label.BODY]
                for p in parts]
        out.append(_join(body, [0] * len(parts), [p.id for p in parts], "bare", n))
    return out


def held_out_briefs(
    pages: Sequence[AnnotatedDump], *, count: int = 300, seed: int = BRIEFS_SEED
) -> list[AnnotatedDump]:
    """`count` briefs of the given `extracted` page dumps, of kind `brief` (module docstring)."""
    return [replace(d, id=f"briefs-{d.id}", kind="brief", origin="bench.joins")
            for d in brief_dumps(pages, count=count, seed=seed)]
