"""bench.joins: concat and bare joins of page dumps, built like the corpus's own."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bench.joins import held_out_briefs, held_out_joins
from cleaner.annotated import read_dumps
from cleaner.types import Label

PAGES = [d for d in read_dumps(Path(__file__).resolve().parent.parent / "fixtures" / "annotated"
                               / "train.jsonl") if d.kind == "page"]


def test_joins_are_built_from_whole_pages() -> None:
    joins = held_out_joins(PAGES, concat=20, bare=10, seed=1)
    assert [d.kind for d in joins] == ["concat"] * 20 + ["bare"] * 10
    by_text = {tuple(line.text for line in p.lines): p for p in PAGES}
    for dump in joins:
        assert [line.number for line in dump.lines] == list(range(1, len(dump.lines) + 1))
        assert list(dump.pages) == sorted(dump.pages)  # pages one after the other
        n_pages = len(set(dump.pages))
        assert 2 <= n_pages <= 5
        parts = [tuple(ln for ln, page in zip(dump.lines, dump.pages, strict=True) if page == k)
                 for k in range(n_pages)]
        if dump.kind == "concat":
            # Each part is one page, whole, labels kept; only the first line's blanks may change.
            for part in parts:
                page = by_text[tuple(line.text for line in part)]
                assert [ln.label for ln in part] == [ln.label for ln in page.lines]
                assert part[0].blank_before in (0, 1)
        else:
            assert all(line.label is Label.BODY and line.blank_before == 0
                       for line in dump.lines)


def test_joins_are_seeded() -> None:
    assert held_out_joins(PAGES, concat=5, bare=5, seed=3) == held_out_joins(PAGES, concat=5,
                                                                             bare=5, seed=3)
    assert held_out_joins(PAGES, concat=5, bare=5, seed=3) != held_out_joins(PAGES, concat=5,
                                                                             bare=5, seed=4)


def test_too_few_pages_give_no_joins() -> None:
    assert held_out_joins(PAGES[:4], concat=5, bare=5) == []


def test_briefs_are_short_single_stories_of_the_pages() -> None:
    extracted = [replace(d, kind="extracted") for d in PAGES]
    briefs = held_out_briefs(extracted, count=30, seed=2)
    assert len(briefs) == 30 and len({d.id for d in briefs}) == 30
    assert held_out_briefs(extracted, count=30, seed=2) == briefs
    texts = {line.text for page in PAGES for line in page.lines}
    for brief in briefs:
        assert brief.kind == "brief" and set(brief.pages) == {0}
        assert 1 <= sum(line.label is Label.BODY for line in brief.lines) <= 3
        assert all(line.text in texts for line in brief.lines)
    assert held_out_briefs(PAGES, count=5) == []  # `page` dumps are not cut into briefs
