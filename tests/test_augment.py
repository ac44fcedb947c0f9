"""cleaner.augment: synthetic joins are deterministic, ordered, and made only of source lines."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.annotated import read_dumps
from cleaner.augment import brief_dumps, synthetic_dumps
from cleaner.types import AnnotatedDump, Label

TRAIN = Path(__file__).resolve().parent.parent / "fixtures" / "annotated" / "train.jsonl"
# Single-page training dumps, all marked `extracted` so that enough of them are usable (10+).
SOURCE: list[AnnotatedDump] = [
    replace(d, kind="extracted") for d in read_dumps(TRAIN) if set(d.pages) == {0}
]
SOURCE_BODIES = [ln.text for d in SOURCE for ln in d.lines if ln.label is Label.BODY]
SOURCE_LABELS: dict[str, set[Label]] = defaultdict(set)
for _dump in SOURCE:
    for _line in _dump.lines:
        assert _line.label is not None
        SOURCE_LABELS[_line.text].add(_line.label)


def is_word_prefix(text: str, of: str) -> bool:
    """Is `text` the first k whitespace-separated words of `of` (k >= 1)?"""
    words, full = text.split(), of.split()
    return 0 < len(words) <= len(full) and full[: len(words)] == words and " ".join(words) == text


def origin_ok(text: str, label: Label) -> bool:
    """A synthetic line is a source line with its label, a teaser or a bullet cut from a body."""
    if label in SOURCE_LABELS.get(text, set()):
        return True
    if label is Label.TEASER:
        return any(is_word_prefix(text, b) for b in SOURCE_BODIES)
    if label is Label.BODY and text.startswith("- "):
        return any(b.startswith(text[2:]) and text[2:] for b in SOURCE_BODIES)
    return False


def test_fixture_pool_is_large_enough() -> None:
    assert len(SOURCE) >= 10
    assert synthetic_dumps(SOURCE, count=3, seed=0)


@pytest.mark.parametrize("seed", [0, 1, 20261122], ids=["seed-0", "seed-1", "default-seed"])
def test_deterministic_for_a_seed(seed: int) -> None:
    first = synthetic_dumps(SOURCE, count=12, seed=seed)
    assert synthetic_dumps(SOURCE, count=12, seed=seed) == first
    assert synthetic_dumps(SOURCE, count=12, seed=seed + 1) != first


@pytest.mark.parametrize(
    ("dumps", "count"),
    [
        pytest.param(SOURCE[:9], 5, id="pool-too-small"),
        pytest.param([replace(d, kind="page") for d in SOURCE], 5, id="no-extracted"),
        pytest.param(SOURCE, 0, id="count-zero"),
    ],
)
def test_nothing_to_make(dumps: list[AnnotatedDump], count: int) -> None:
    assert synthetic_dumps(dumps, count=count, seed=3) == []


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 8))
def test_synthetic_dump_invariants(seed: int, count: int) -> None:
    out = synthetic_dumps(SOURCE, count=count, seed=seed)
    assert len(out) == count
    assert len({d.id for d in out}) == count
    for dump in out:
        assert dump.kind in {"concat", "bare"}
        assert len(dump.lines) == len(dump.pages) > 0
        assert [ln.number for ln in dump.lines] == list(range(1, len(dump.lines) + 1))
        pages = list(dump.pages)
        assert pages == sorted(pages)
        assert set(pages) == set(range(pages[-1] + 1))
        assert 2 <= len(set(pages)) <= 4
        if dump.kind == "bare":
            assert {ln.label for ln in dump.lines} == {Label.BODY}
        for k, line in enumerate(dump.lines):
            assert line.label is not None
            assert origin_ok(line.text, line.label), (line.label, line.text)
            starts_page = k > 0 and pages[k] != pages[k - 1]
            assert line.blank_before in ({0, 1, 3} if starts_page else {0, 1})


def labels_of(dumps: list[AnnotatedDump], label: Label) -> list[str]:
    return [ln.text for d in dumps for ln in d.lines if ln.label is label]


def test_labels_carried_along() -> None:
    out = synthetic_dumps(SOURCE, count=40, seed=7)
    source_headlines = {t for t, labels in SOURCE_LABELS.items() if labels == {Label.HEADLINE}}
    headlines = labels_of(out, Label.HEADLINE)
    assert headlines
    assert set(headlines) <= {t for t, labels in SOURCE_LABELS.items() if Label.HEADLINE in labels}
    # A source headline never comes back under another label.
    for dump in out:
        for line in dump.lines:
            if line.text in source_headlines:
                assert line.label is Label.HEADLINE
    # Teaser runs are other stories' opening body paragraphs (maybe cut), labelled teaser.
    made = [t for t in labels_of(out, Label.TEASER) if Label.TEASER not in SOURCE_LABELS.get(t, ())]
    assert made
    assert all(any(is_word_prefix(t, b) for b in SOURCE_BODIES) for t in made)
    bullets = [t for t in labels_of(out, Label.BODY) if t not in SOURCE_LABELS]
    assert bullets
    assert all(t.startswith("- ") for t in bullets)


def test_title_after_layout_occurs() -> None:
    """Some joins put a story's headline after its first body line (the title-after layout)."""
    out = synthetic_dumps(SOURCE, count=40, seed=11)
    moved = 0
    for dump in out:
        for page in set(dump.pages):
            labels = [ln.label for ln, p in zip(dump.lines, dump.pages, strict=True) if p == page]
            if Label.HEADLINE in labels and Label.BODY in labels:
                moved += labels.index(Label.HEADLINE) > labels.index(Label.BODY)
    assert moved > 0


def headless_parts(dumps: list[AnnotatedDump]) -> tuple[int, int]:
    """(parts of concat joins with no headline or byline line but some body, all such parts)."""
    headless = parts = 0
    for dump in dumps:
        if dump.kind != "concat":
            continue
        for page in set(dump.pages):
            labels = {ln.label for ln, p in zip(dump.lines, dump.pages, strict=True) if p == page}
            parts += 1
            headless += Label.BODY in labels and not labels & {Label.HEADLINE, Label.BYLINE}
    return headless, parts


def test_headless_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Some stories keep no headline or byline: the layout of seed 000's first story."""
    # Joins use only dumps with a headline, so a headless part can only come from the layout.
    headless, parts = headless_parts(synthetic_dumps(SOURCE, count=40, seed=11))
    assert 0 < headless < parts
    monkeypatch.setattr("cleaner.augment.HEADLESS_SHARE", 0.0)
    assert headless_parts(synthetic_dumps(SOURCE, count=40, seed=11))[0] == 0
    monkeypatch.setattr("cleaner.augment.TITLE_AFTER_SHARE", 0.0)
    monkeypatch.setattr("cleaner.augment.HEADLESS_SHARE", 1.0)
    headless, parts = headless_parts(synthetic_dumps(SOURCE, count=40, seed=11))
    assert headless == parts > 0


def test_summary_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Summary bullets under a story's opening title block: seed 000's second story."""
    monkeypatch.setattr("cleaner.augment.TITLE_AFTER_SHARE", 0.0)
    monkeypatch.setattr("cleaner.augment.HEADLESS_SHARE", 0.0)
    monkeypatch.setattr("cleaner.augment.SUMMARY_SHARE", 1.0)
    opened = 0
    for dump in synthetic_dumps(SOURCE, count=30, seed=5):
        if dump.kind != "concat":
            continue
        for page in set(dump.pages):
            lines = [ln for ln, p in zip(dump.lines, dump.pages, strict=True) if p == page]
            # made bullets: body lines "- " + a body line's first sentence, not a source line
            bullets = [k for k, ln in enumerate(lines) if ln.label is Label.BODY
                       and ln.text.startswith("- ") and ln.text not in SOURCE_LABELS]
            if bullets:
                # one run, right under the opening title block's last heading line
                assert bullets == list(range(bullets[0], bullets[0] + len(bullets)))
                assert lines[bullets[0] - 1].label in {Label.HEADLINE, Label.BYLINE}
                assert bullets[0] <= 5 + len(bullets)
                opened += 1
    assert opened > 0


def test_short_bare_stories(monkeypatch: pytest.MonkeyPatch) -> None:
    """BARE_STORY_LINES cuts each bare story to its first 3 to N body lines; 0 keeps them whole."""
    monkeypatch.setattr("cleaner.augment.BARE_SHARE", 1.0)
    bodies = [[ln.text for ln in d.lines if ln.label is Label.BODY] for d in SOURCE]

    def story_lengths() -> list[int]:
        out = synthetic_dumps(SOURCE, count=20, seed=5)
        assert {d.kind for d in out} == {"bare"}
        return [list(d.pages).count(p) for d in out for p in set(d.pages)]

    whole = story_lengths()
    assert max(whole) > 5
    monkeypatch.setattr("cleaner.augment.BARE_STORY_LINES", 5)
    short = story_lengths()
    assert all(3 <= n <= 5 for n in short)
    # A story is a source page's opening body lines, in order, never lines from its middle.
    for dump in synthetic_dumps(SOURCE, count=20, seed=5):
        for page in set(dump.pages):
            texts = [ln.text for ln, p in zip(dump.lines, dump.pages, strict=True) if p == page]
            assert any(b[: len(texts)] == texts for b in bodies)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 12))
def test_brief_invariants(seed: int, count: int) -> None:
    out = brief_dumps(SOURCE, count=count, seed=seed)
    assert out == brief_dumps(SOURCE, count=count, seed=seed)
    assert len(out) == count and len({d.id for d in out}) == count
    for dump in out:
        assert dump.kind == "extracted" and set(dump.pages) == {0}
        assert [ln.number for ln in dump.lines] == list(range(1, len(dump.lines) + 1))
        labels = [ln.label for ln in dump.lines]
        bodies = [ln.text for ln in dump.lines if ln.label is Label.BODY]
        assert 1 <= len(bodies) <= 3
        # A title block (one headline, then bylines) or nothing, then body lines only.
        head = labels[: len(labels) - len(bodies)]
        assert head == [] or (head[0] is Label.HEADLINE and set(head[1:]) <= {Label.BYLINE})
        assert labels[len(head) :] == [Label.BODY] * len(bodies)
        # One source page's opening paragraphs, under lines of that page with their labels.
        assert any(
            [ln.text for ln in d.lines if ln.label is Label.BODY][: len(bodies)] == bodies
            and {(ln.text, ln.label) for ln in dump.lines} <= {(x.text, x.label) for x in d.lines}
            for d in SOURCE
        )
        assert dump.lines[0].blank_before == 0
        assert {ln.blank_before for ln in dump.lines[1:]} <= {0, 1}


def test_briefs_come_in_every_shape() -> None:
    out = brief_dumps(SOURCE, count=80, seed=11)
    shapes = {(ln.label is Label.HEADLINE, sum(x.label is Label.BODY for x in d.lines))
              for d in out for ln in d.lines[:1]}
    assert shapes == {(True, 1), (True, 2), (True, 3), (False, 1), (False, 2), (False, 3)}
    assert any(ln.label is Label.BYLINE for d in out for ln in d.lines)
    assert brief_dumps([replace(d, kind="page") for d in SOURCE], count=5, seed=1) == []
