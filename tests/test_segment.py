"""cleaner.segment: gap features, boundary picking, cut positions and title blocks between stories.

The boundary model is replaced by a stub with fixed probabilities, so every expectation here
follows from the rules of the module, not from a trained model.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.segment import (
    BOUNDARY_THRESHOLD,
    GAP_NAMES,
    HEADINGLESS_THRESHOLD,
    POSITION_NAMES,
    TITLED_MIN_P,
    _Occurrences,
    boundary_proba,
    cut_position,
    dump_boundary_proba,
    fit_boundaries,
    fit_positions,
    gap_features,
    gap_features_many,
    heading_cuts,
    learned_positions,
    pick_boundaries,
    place_cuts,
    position_features,
    position_truth,
    segment,
    segment_many,
    titled,
)
from cleaner.types import CONTENT_LABELS, LABELS, AnnotatedDump, Label, Line

B, H, Y, T, C, P = (Label.BODY, Label.HEADLINE, Label.BYLINE, Label.TEASER, Label.COMMENT,
                    Label.BOILERPLATE)


class StubModel:
    """A boundary model whose probability for gap k (over the whole batch) is probs[k].

    With `names=POSITION_NAMES` it stands for a position model: candidate row k scores probs[k].
    """

    def __init__(self, probs: Sequence[float] = (), *, names: Sequence[str] = GAP_NAMES) -> None:
        self.probs = list(probs)
        self.names = names
        self.calls = 0

    def predict_proba(self, x: Any) -> np.ndarray:
        self.calls += 1
        assert x.shape[1] == len(self.names)
        p = np.resize(np.asarray(self.probs or [0.0], dtype=np.float64), x.shape[0])
        return np.column_stack([1.0 - p, p])


def make(items: Sequence[tuple[Label, str] | tuple[Label, str, int]], *, p: float = 1.0
         ) -> list[Line]:
    """Lines from (label, text[, blank lines before]) triples, each label given with p."""
    return [Line(number=i + 1, text=item[1], label=item[0],
                 blank_before=item[2] if len(item) == 3 else 0, p=p)
            for i, item in enumerate(items)]


def body(n: int) -> list[tuple[Label, str]]:
    return [(B, f"Paragraph {k} of the story, with ordinary words in it.") for k in range(n)]


def test_gap_features_shape() -> None:
    lines = make([(P, "Menu"), (H, "Title"), (Y, "By Jane"), *body(3), (T, "Read more")])
    content, x = gap_features(lines)
    assert content == [1, 2, 3, 4, 5]
    assert x.shape == (4, len(GAP_NAMES))
    assert x.dtype == np.float32


@pytest.mark.parametrize("labels", [[], [P, T], [B], [P, H, C]], ids=["empty", "no-content",
                                                                    "one-body", "one-headline"])
def test_gap_features_without_gaps(labels: list[Label]) -> None:
    content, x = gap_features(make([(lab, "Some text here") for lab in labels]))
    assert content == [i for i, lab in enumerate(labels) if lab in CONTENT_LABELS]
    assert x.shape == (0, len(GAP_NAMES))


def test_gap_features_count_unbroken_runs_and_dropped_comments() -> None:
    # A comment taken for body sits alone in its thread; a story after the thread runs on.
    lines = make([(H, "Title"), *body(3), (C, "2 Comments"), (B, "Lovely, thanks!"),
                  (C, "Reply"), (C, "Sam"), *body(4)])
    content, x = gap_features(lines)
    col = {name: GAP_NAMES.index(name) for name in
           ("log_clean_before", "log_clean_after", "log_dropped_comments")}
    # Gaps: title|b, b|b, b|b, b|"Lovely" (1 comment between), "Lovely"|b (2 between), 3 x b|b.
    assert content == [0, 1, 2, 3, 5, 8, 9, 10, 11]
    np.testing.assert_allclose(x[:, col["log_clean_before"]],
                               np.log1p([1, 2, 3, 4, 1, 1, 2, 3]), rtol=1e-6)
    np.testing.assert_allclose(x[:, col["log_clean_after"]],
                               np.log1p([3, 2, 1, 1, 4, 3, 2, 1]), rtol=1e-6)
    np.testing.assert_allclose(x[:, col["log_dropped_comments"]],
                               np.log1p([0, 0, 0, 1, 2, 0, 0, 0]), rtol=1e-6)


words = st.sampled_from(["ferry", "harbour", "council", "orchard", "frost", "apples", "pier",
                         "mayor", "the", "and", "12", "-", "•", "!", "growers", "Ünïcödé", "中文"])
labelled = st.lists(st.tuples(st.sampled_from(LABELS),
                              st.lists(words, min_size=1, max_size=8).map(" ".join),
                              st.integers(0, 3)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(labelled)
def test_gap_features_finite(items: list[tuple[Label, str, int]]) -> None:
    lines = make(items)
    content, x = gap_features(lines)
    assert content == [i for i, ln in enumerate(lines) if ln.label in CONTENT_LABELS]
    assert x.shape == (max(len(content) - 1, 0), len(GAP_NAMES))
    assert np.isfinite(x).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(labelled, max_size=5))
def test_gap_features_of_a_batch_are_its_dumps_one_by_one(batch: list[list[Any]]) -> None:
    # Bit for bit: the batch's similarities come from one block-diagonal product, and a dump's
    # features (so its cuts) must not depend on the dumps it is batched with.
    dumps = [make(items) for items in batch]
    together = gap_features_many(dumps)
    assert len(together) == len(dumps)
    for (content, x), lines in zip(together, dumps, strict=True):
        alone_content, alone = gap_features(lines)
        assert content == alone_content
        np.testing.assert_array_equal(x, alone)


def _naive_shares(bags: list[Counter[str]], window: int) -> tuple[list[float], list[float]]:
    """Novelty and orphan shares one gap at a time, from lists of words (the definition)."""
    first = {w: j for j in reversed(range(len(bags))) for w in bags[j]}
    last = {w: j for j in range(len(bags)) for w in bags[j]}
    novel, orphan = [], []
    for g in range(len(bags) - 1):
        after = [w for bag in bags[g + 1 : g + 1 + window] for w in bag]
        before = [w for bag in bags[max(0, g + 1 - window) : g + 1] for w in bag]
        novel.append(sum(first[w] > g for w in after) / len(after) if after else 0.0)
        orphan.append(sum(last[w] <= g for w in before) / len(before) if before else 0.0)
    return novel, orphan


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=5), min_size=2, max_size=12),
       st.integers(1, 7))
def test_novelty_shares_of_all_gaps_at_once_are_the_per_gap_ones(
    words: list[list[str]], window: int
) -> None:
    bags = [Counter(w) for w in words]
    first = {w: j for j in reversed(range(len(bags))) for w in bags[j]}
    last = {w: j for j in range(len(bags)) for w in bags[j]}
    novel, orphan = _Occurrences.of(bags, first, last).shares(window)
    expected_novel, expected_orphan = _naive_shares(bags, window)
    # Exactly equal: the features, so the cuts, must not move with the way they are computed.
    assert novel.tolist() == expected_novel
    assert orphan.tolist() == expected_orphan


@pytest.mark.parametrize(
    ("probs", "kwargs", "expected"),
    [
        pytest.param([], {}, [], id="no-gaps"),
        pytest.param([0.1, 0.2, 0.1], {}, [], id="all-below"),
        pytest.param([0.1, 0.5, 0.1], {}, [1], id="one-peak"),
        pytest.param([0.29, 0.3], {"reach": 0}, [1], id="threshold-inclusive"),
        pytest.param([0.4, 0.6], {"threshold": 0.5}, [1], id="custom-threshold"),
        pytest.param([0.9, 0.5, 0.1, 0.8], {}, [0], id="suppressed-within-reach"),
        pytest.param([0.9, 0.5, 0.1, 0.1, 0.8], {}, [0, 4], id="kept-beyond-reach"),
        pytest.param([0.5, 0.1, 0.9], {"reach": 1}, [0, 2], id="reach-one"),
        pytest.param([0.8, 0.9, 0.8, 0.1, 0.1, 0.1, 0.7], {}, [1, 6], id="two-stories"),
    ],
)
def test_pick_boundaries(probs: list[float], kwargs: dict[str, Any], expected: list[int]) -> None:
    assert pick_boundaries(np.asarray(probs, dtype=np.float64), **kwargs) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), max_size=30), st.floats(0.05, 0.95), st.integers(0, 4))
def test_pick_boundaries_invariants(probs: list[float], threshold: float, reach: int) -> None:
    p = np.asarray(probs, dtype=np.float64)
    picked = pick_boundaries(p, threshold=threshold, reach=reach)
    assert picked == sorted(set(picked))
    for g in range(len(p)):
        near = p[max(0, g - reach) : g + reach + 1]
        assert (g in picked) == (p[g] >= threshold and p[g] >= near.max())


@pytest.mark.parametrize(
    ("blanks", "expected"),
    [
        pytest.param([0], 1, id="adjacent-no-dropped"),
        pytest.param([0, 0, 0], 3, id="no-blank-goes-right"),
        pytest.param([0, 2, 0], 2, id="blank-run-inside"),
        pytest.param([1, 3, 0], 2, id="longest-blank-run"),
        pytest.param([2, 0, 2], 1, id="tie-takes-first"),
        pytest.param([0, 0, 4], 3, id="blank-before-right"),
    ],
)
def test_cut_position(blanks: list[int], expected: int) -> None:
    # left content line at 0, dropped lines in between, right content line last.
    labels = [B, *([T] * (len(blanks) - 1)), B]
    lines = make([(lab, "text", b) for lab, b in zip(labels, [0, *blanks], strict=True)])
    assert cut_position(lines, 0, len(lines) - 1) == expected


def segments_ok(lines: Sequence[Line], segs: Sequence[int]) -> None:
    """0-based, non-decreasing by steps of one, one per line, a body line in every segment."""
    assert len(segs) == len(lines)
    if not segs:
        return
    assert segs[0] == 0
    assert all(b - a in (0, 1) for a, b in itertools.pairwise(segs))
    if any(ln.label is B for ln in lines):
        for s in set(segs):
            assert any(ln.label is B for ln, k in zip(lines, segs, strict=True) if k == s), s


@pytest.mark.parametrize(
    ("labels", "probs", "expected"),
    [
        pytest.param([H, B, B, H, B, B], [0, 0, 0.9, 0, 0], [0, 0, 0, 1, 1, 1], id="clean-cut"),
        pytest.param([H, H, B, B, B, B, B], [0.9, 0, 0, 0, 0, 0], [0] * 7,
                     id="lone-first-title-joins-next"),
        pytest.param([B, B, B, B, H], [0, 0, 0, 0.9], [0] * 5, id="lone-last-title-joins-prev"),
        pytest.param([B] * 5 + [H] * 5 + [B], [0, 0, 0, 0, 0.9, 0, 0, 0, 0, 0.9],
                     [0] * 10 + [1], id="bodyless-middle-joins-prev"),
        pytest.param([H, Y, P, C], [0.9, 0.9], [0] * 4, id="no-body-at-all"),
    ],
)
def test_segment_drops_bodyless_segments(
    labels: list[Label], probs: list[float], expected: list[int]
) -> None:
    lines = make([(lab, f"line {i}") for i, lab in enumerate(labels)])
    segs = segment(lines, model=StubModel(probs))
    assert segs == expected
    segments_ok(lines, segs)


def test_a_dump_without_a_headline_is_cut_from_a_lower_threshold() -> None:
    p = (HEADINGLESS_THRESHOLD + BOUNDARY_THRESHOLD) / 2
    bare = make(body(8))
    # Gap 3 (between body lines 3 and 4) scores p; the others 0.
    assert segment(bare, model=StubModel([0, 0, 0, p, 0, 0, 0])) == [0] * 4 + [1] * 4
    # With a headline the same score is below the threshold: no cut.
    titled = make([(H, "Council approves the new library"), *body(8)])
    assert segment(titled, model=StubModel([0, 0, 0, 0, p, 0, 0, 0])) == [0] * 9
    # Both thresholds are settings; in one batch each dump gets its own.
    assert segment(bare, model=StubModel([0, 0, 0, p, 0, 0, 0]),
                   headingless_threshold=BOUNDARY_THRESHOLD) == [0] * 8
    both = segment_many([bare, titled], model=StubModel([0, 0, 0, p, 0, 0, 0] + [0] * 8))
    assert both == [[0] * 4 + [1] * 4, [0] * 9]


def test_titled_min_p_decides_which_threshold_a_dump_gets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # By default any headline makes a dump titled; with a bar, a headline below it leaves the
    # dump headingless, so the same gap is cut as in a dump with none.
    from cleaner import segment as module

    p = (HEADINGLESS_THRESHOLD + BOUNDARY_THRESHOLD) / 2
    gaps = StubModel([0, 0, 0, 0, p, 0, 0, 0])
    assert titled(make([(H, "A short line"), *body(3)], p=TITLED_MIN_P))
    monkeypatch.setattr(module, "TITLED_MIN_P", 0.9)
    unsure = make([(H, "A short line"), *body(8)], p=0.89)
    sure = make([(H, "A short line"), *body(8)], p=0.9)
    assert (titled(unsure), titled(sure)) == (False, True)
    assert segment(unsure, model=gaps) == [0] * 5 + [1] * 4
    assert segment(sure, model=gaps) == [0] * 9
    # Lines without a probability (gold labels, as when training) count as sure.
    assert titled([replace(line, p=None) for line in unsure])
    assert not titled(make(body(3)))


def test_thresholds_are_read_when_segmenting(monkeypatch: pytest.MonkeyPatch) -> None:
    # As the fit settings: bench.recipe's --set must reach the thresholds the pipeline cuts from.
    from cleaner import segment as module

    p = (HEADINGLESS_THRESHOLD + BOUNDARY_THRESHOLD) / 2
    bare = make(body(8))
    monkeypatch.setattr(module, "HEADINGLESS_THRESHOLD", BOUNDARY_THRESHOLD)
    assert segment(bare, model=StubModel([0, 0, 0, p, 0, 0, 0])) == [0] * 8
    monkeypatch.setattr(module, "BOUNDARY_THRESHOLD", p / 2)
    titled = make([(H, "Council approves the new library"), *body(8)])
    assert segment(titled, model=StubModel([0, 0, 0, 0, p, 0, 0, 0])) == [0] * 5 + [1] * 4


@settings(max_examples=60, deadline=None)
@given(st.lists(labelled, min_size=1, max_size=4), st.lists(st.floats(0, 1), max_size=40))
def test_segment_many_invariants(dumps: list[list[tuple[Label, str, int]]],
                                 probs: list[float]) -> None:
    batch = [make(items) for items in dumps]
    stub = StubModel(probs)
    out = segment_many(batch, model=stub)
    assert stub.calls <= 1  # one boundary-model call for the whole batch
    assert len(out) == len(batch)
    for lines, segs in zip(batch, out, strict=True):
        segments_ok(lines, segs)



def test_dump_boundary_proba_gives_each_dump_its_own_gaps_in_one_call() -> None:
    dumps = [make(body(3)), make(body(1)), make(body(4))]
    gaps = gap_features_many(dumps)
    stub = StubModel([0.1, 0.2, 0.3, 0.4, 0.5])
    per_dump = dump_boundary_proba(stub, gaps)
    assert stub.calls == 1
    assert [p.tolist() for p in per_dump] == [[0.1, 0.2], [], [0.3, 0.4, 0.5]]


def test_place_cuts_starts_a_segment_after_each_picked_gap() -> None:
    lines = make([*body(2), (P, "Share this", 1), *body(3)])
    content = [0, 1, 3, 4, 5]
    # Gap 1 lies between content lines 1 and 3, the share button between them: the blank run
    # before it (cut_position's rule, no position model) makes it the new segment's first line.
    assert place_cuts([lines], [content], [[1]]) == [[0, 0, 1, 1, 1, 1]]
    assert place_cuts([lines], [content], [[3]]) == [[0, 0, 0, 0, 0, 1]]
    # A cut that would leave a segment without body text is undone.
    lonely = make([(H, "A title"), *body(3)])
    assert place_cuts([lonely], [[0, 1, 2, 3]], [[0]]) == [[0, 0, 0, 0]]
    assert place_cuts([], [], []) == []

STORY_A = [
    (B, "The harbour ferry resumed its crossings on Monday after the pier was rebuilt."),
    (B, "Harbour pilots guided the ferry past the rebuilt pier at dawn."),
    (B, "Ferry passengers queued along the harbour wall before the pier gates opened."),
    (B, "The harbour master said the ferry timetable would expand in spring."),
]
STORY_B = [
    (B, "Growers across the valley lost most of their apple blossom to frost overnight."),
    (B, "Orchard owners lit burners between the rows, but the frost still settled."),
    (B, "Apple growers expect a smaller harvest, and cider makers worry about prices."),
    (B, "The frost was the earliest in twenty years, orchard records show."),
]
TITLE_A = (H, "Harbour ferry returns to rebuilt pier")
BULLETS_A = [(B, "- Crossings every two hours"), (B, "- Tickets unchanged until autumn")]
TITLE_B = (H, "Frost ruins orchard blossom across apple valley")


@pytest.mark.parametrize(
    ("items", "first_of_b"),
    [
        pytest.param([*STORY_A, TITLE_A, *BULLETS_A, TITLE_B, *STORY_B], 7,
                     id="title-block-after-its-story"),
        pytest.param([*STORY_A, TITLE_B, *STORY_B], 4, id="title-opens-next-story"),
        pytest.param([*STORY_A, TITLE_B, (Y, "By Ann Lee"), *STORY_B], 4,
                     id="title-and-byline-open-next-story"),
    ],
)
def test_heading_cuts_between_stories(
    items: list[tuple[Label, str]], first_of_b: int
) -> None:
    lines = make(items)
    content, x = gap_features(lines)
    cuts = heading_cuts(lines, content, x, [])
    assert [cut_position(lines, content[g], content[g + 1]) for g in cuts] == [first_of_b]
    segs = segment(lines, model=StubModel([0.0]))
    assert segs == [0] * first_of_b + [1] * (len(lines) - first_of_b)


@pytest.mark.parametrize(
    "items",
    [
        pytest.param([TITLE_A, *STORY_A, *STORY_A], id="title-on-top"),
        pytest.param([TITLE_A, (Y, "By Jane Doe"), *BULLETS_A, *STORY_A], id="title-byline-top"),
        pytest.param([*STORY_A, TITLE_A, *BULLETS_A], id="title-block-at-the-end"),
        pytest.param([*STORY_A[:1], TITLE_B, *STORY_B], id="too-little-body-before"),
        pytest.param([*STORY_A, (Y, "► Author: Ann Lee | Date: 8 August 2019 | Permalink"),
                      *STORY_A[:2]], id="closing-author-line-is-no-title"),
    ],
)
def test_heading_cuts_leave_single_story(items: list[tuple[Label, str]]) -> None:
    lines = make(items)
    content, x = gap_features(lines)
    assert heading_cuts(lines, content, x, []) == []
    assert set(segment(lines, model=StubModel([0.0]))) == {0}


@pytest.mark.parametrize(("p", "cut"), [(0.5, False), (0.89, False), (0.9, True), (0.99, True)])
def test_heading_cuts_only_for_a_confident_heading(p: float, cut: bool) -> None:
    # An in-article subhead the labeller takes for a headline, unsure, must not split the story:
    # the rule overrules the boundary model only on a heading it is sure of.
    lines = make([*STORY_A, TITLE_B, *STORY_B])
    lines[4] = replace(lines[4], p=p)
    content, x = gap_features(lines)
    assert heading_cuts(lines, content, x, []) == ([3] if cut else [])
    assert heading_cuts(lines, content, x, [], min_p=p) == [3]


def test_heading_cuts_a_two_paragraph_story() -> None:
    # Seed 004's second story: a headline, then two paragraphs.
    lines = make([*STORY_A, TITLE_B, *STORY_B[:2]])
    content, x = gap_features(lines)
    assert heading_cuts(lines, content, x, []) == [3]


def test_heading_cuts_keep_model_cuts() -> None:
    lines = make([*STORY_A, TITLE_B, *STORY_B])
    content, x = gap_features(lines)
    assert heading_cuts(lines, content, x, [3]) == [3]  # already cut beside the block


# --- where the cut goes among the dropped lines between two stories ------------------------------


def stub_position(scores: Sequence[float]) -> StubModel:
    """A position model whose score for candidate row k (over the whole call) is scores[k]."""
    return StubModel(scores, names=POSITION_NAMES)


furniture = st.tuples(st.sampled_from([T, C, P]),
                      st.sampled_from(["Home | News", "© 2024 Site", "Read more", "", "a b c"]),
                      st.integers(0, 3))


@settings(max_examples=60, deadline=None)
@given(st.lists(furniture, max_size=8))
def test_position_features_one_finite_row_per_candidate(run: list[tuple[Label, str, int]]) -> None:
    lines = make([*body(2), *run, (H, "Next story"), *body(2)])
    left, right = 1, 2 + len(run)
    x = position_features(lines, left, right)
    assert x.shape == (right - left, len(POSITION_NAMES))
    assert np.isfinite(x).all()


def test_learned_positions_take_the_best_candidate_in_one_call() -> None:
    lines = make([*body(2), (P, "a"), (P, "b"), (P, "c"), *body(2), (P, "d"), *body(1)])
    # Runs: three dropped lines between lines 1 and 5 (candidates 2..5), none between 3 and 4
    # of the second dump, one dropped line between 6 and 8 (candidates 7..8).
    runs = [(lines, 1, 5), (lines, 5, 6), (lines, 6, 8)]
    stub = stub_position([0.1, 0.9, 0.2, 0.3, 0.8, 0.1])
    assert learned_positions(runs, model=stub) == [3, 6, 7]
    assert stub.calls == 1
    assert learned_positions([(lines, 5, 6)], model=stub_position([])) == [6]


def test_position_truth_marks_the_first_line_of_the_next_page() -> None:
    lines = tuple(make([*body(2), (P, "footer"), (P, "header"), (H, "Next"), *body(2)]))
    dump = AnnotatedDump("concat:a-1+b-2", "concat", "test", lines, (0, 0, 0, 1, 1, 1, 1))
    x, y = position_truth(dump)
    assert x.shape == (3, len(POSITION_NAMES))
    assert y.tolist() == [0, 1, 0]


def test_fit_positions_learns_where_pages_meet() -> None:
    # The next page starts right after the footer line, whatever the blank lines say: a rule
    # the blank-run heuristic gets wrong and the learned model must pick up.
    def dump(n: int, header: int, blanks: int) -> AnnotatedDump:
        head = [(P, f"Menu item {k} of site {n}") for k in range(header)]
        items = [*body(3), (P, "© 2024 Old Site, all rights reserved"), *head,
                 (H, f"Story {n}"), *body(3)]
        lines = make([(lab, text, blanks if k == 4 + header // 2 else 0)
                      for k, (lab, text) in enumerate(items)])
        pages = tuple(0 if k < 4 else 1 for k in range(len(lines)))
        return AnnotatedDump(f"concat:x-{n}+y-{n}", "concat", "test", tuple(lines), pages)

    train = [dump(n, header=2 + n % 4, blanks=1 + n % 3) for n in range(60)]
    model = fit_positions(train, seed=0)
    test = dump(99, header=4, blanks=3)
    content = [i for i, ln in enumerate(test.lines) if ln.label in CONTENT_LABELS]
    left, right = content[2], content[3]
    assert learned_positions([(test.lines, left, right)], model=model) == [4]
    assert cut_position(test.lines, left, right) != 4  # the blank-run rule would miss it


@settings(max_examples=60, deadline=None)
@given(st.lists(labelled, min_size=1, max_size=4), st.lists(st.floats(0, 1), max_size=40),
       st.lists(st.floats(0, 1), max_size=40))
def test_segment_many_with_a_position_model(dumps: list[list[tuple[Label, str, int]]],
                                            probs: list[float], scores: list[float]) -> None:
    batch = [make(items) for items in dumps]
    position = stub_position(scores)
    out = segment_many(batch, model=StubModel(probs), position=position)
    assert position.calls <= 1
    for lines, segs in zip(batch, out, strict=True):
        segments_ok(lines, segs)


def test_fit_positions_without_page_joins_is_none() -> None:
    lines = tuple(make([(H, "Only story"), *body(3), (P, "footer")]))
    single = AnnotatedDump("x-1", "page", "test", lines, (0,) * len(lines))
    assert fit_positions([single], seed=0) is None
    assert fit_positions([], seed=0) is None


def two_story_dump(n: int) -> AnnotatedDump:
    """A concat dump of two short stories with their headlines (page 0, then page 1)."""
    items = [(H, f"First story {n}"), *body(2 + n % 3), (H, f"Second story {n}"), *body(3)]
    lines = tuple(make(items))
    cut = 3 + n % 3
    return AnnotatedDump(f"concat:a-{n}+b-{n}", "concat", "test", lines,
                         tuple(0 if k < cut else 1 for k in range(len(lines))))


def test_fit_boundaries_bags_models_on_resampled_dumps() -> None:
    train = [two_story_dump(n) for n in range(30)]
    models = fit_boundaries(train, seed=3, bags=5)
    again = fit_boundaries(train, seed=3, bags=5)
    other = fit_boundaries(train, seed=4, bags=5)
    assert isinstance(models, list) and len(models) == 5
    x = np.vstack([gap_features(list(d.lines))[1] for d in train])
    # Seeded: the same dumps and seed give the same models; each bag saw other dumps.
    assert np.array_equal(boundary_proba(models, x), boundary_proba(again, x))
    assert not np.array_equal(boundary_proba(models, x), boundary_proba(other, x))
    assert len({model.predict_proba(x)[:, 1].tobytes() for model in models}) > 1
    # And they learn where the stories meet: the gap before the second headline scores highest.
    test = two_story_dump(7)
    for model in (models, fit_boundaries(train, seed=3, bags=1)):
        probs = boundary_proba(model, gap_features(list(test.lines))[1])
        assert int(np.argmax(probs)) == test.pages.index(1) - 1


def test_one_bag_is_one_model_on_every_dump() -> None:
    # One bag is the model as shipped: one estimator, fit on the whole pool, not on a resample.
    train = [two_story_dump(n) for n in range(30)]
    one = fit_boundaries(train, seed=3, bags=1)
    assert not isinstance(one, list)
    x = np.vstack([gap_features(list(d.lines))[1] for d in train])
    probs = one.predict_proba(x)[:, 1]
    assert np.array_equal(boundary_proba(one, x), probs)
    resampled = fit_boundaries(train, seed=3, bags=2)[0]
    assert not np.array_equal(resampled.predict_proba(x)[:, 1], probs)
    with pytest.raises(ValueError, match="bags"):
        fit_boundaries(train, seed=3, bags=0)


def test_segmenter_settings_are_read_when_fitting(monkeypatch: pytest.MonkeyPatch) -> None:
    # bench.recipe's --set changes module constants after import: a default argument fixed at
    # definition would ignore them, and a recipe comparison would silently train the shipped one.
    from cleaner import segment

    train = [two_story_dump(n) for n in range(12)]
    monkeypatch.setattr(segment, "BOUNDARY_BAGS", 3)
    monkeypatch.setattr(segment, "BOUNDARY_ROUNDS", 7)
    monkeypatch.setattr(segment, "BOUNDARY_LEAVES", 4)
    monkeypatch.setattr(segment, "BOUNDARY_L2", 2.5)
    models = segment.fit_boundaries(train, seed=3)
    assert isinstance(models, list) and len(models) == 3
    for model in models:
        assert (model.max_iter, model.max_leaf_nodes, model.l2_regularization) == (7, 4, 2.5)
        assert model.n_iter_ == 7
    monkeypatch.setattr(segment, "POSITION_ROUNDS", 5)
    monkeypatch.setattr(segment, "POSITION_LEAVES", 3)
    monkeypatch.setattr(segment, "POSITION_L2", 4.0)
    joined = [AnnotatedDump(f"concat:a-{n}+b-{n}", "concat", "test",
                            tuple(make([*body(2), (P, f"footer {n}"), (P, "header"), (H, "Next"),
                                        *body(2)])),
                            (0, 0, 0, 1, 1, 1, 1)) for n in range(6)]
    position = segment.fit_positions(joined, seed=3)
    assert (position.max_iter, position.max_leaf_nodes, position.l2_regularization) == (5, 3, 4.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.floats(0, 1), min_size=3, max_size=3), min_size=1, max_size=5))
def test_boundary_proba_is_the_mean_of_the_models(rows: list[list[float]]) -> None:
    models = [StubModel(probs) for probs in rows]
    x = np.zeros((3, len(GAP_NAMES)), dtype=np.float32)
    expected = np.mean([np.asarray(probs) for probs in rows], axis=0)
    np.testing.assert_allclose(boundary_proba(models, x), expected, rtol=1e-12, atol=1e-15)
    # One model, in a sequence or alone, is that model's probability.
    assert np.array_equal(boundary_proba(models[0], x), boundary_proba(models[:1], x))
