"""bench.joins: concat and bare joins of page dumps, built like the corpus's own."""

from __future__ import annotations

from pathlib import Path

from bench.joins import held_out_joins
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
