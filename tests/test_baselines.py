"""Baselines of bench.baselines on hand-made dumps."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.baselines import (
    BASELINES,
    all_body,
    c4_rule,
    is_c4_line,
    justext_good,
    justext_lines,
    lines_to_html,
    texttiling,
    texttiling_segments,
)
from cleaner.types import Label, Line

B, P = Label.BODY, Label.BOILERPLATE

PROSE = (
    "The city council met on Tuesday evening to discuss the new budget, and after a long debate "
    "the members agreed that the money for the schools should be increased by ten percent, "
    "which the mayor said was the most important decision the council had made in years."
)
POLITICS = [
    "The senator said the election would be decided by turnout, as voters in the state queued "
    "at polling stations to cast ballots for the parliament.",
    "Officials counted the ballots overnight and the governor called the vote result a victory "
    "for the party and its candidates in the election.",
]
SPORTS = [
    "The football team won the match after the striker scored two goals in the second half and "
    "the coach praised the defence of the players on the pitch.",
    "Fans of the football club cheered in the stadium as the goalkeeper saved a penalty late in "
    "the match and the team kept the lead.",
]


def make_lines(texts: Sequence[str]) -> list[Line]:
    """Unlabelled lines, as the bench passes them to a system."""
    return [Line(number=i, text=text) for i, text in enumerate(texts, start=1)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("This is a full sentence here.", True, id="sentence"),
        pytest.param("Is this a real question here?", True, id="question"),
        pytest.param('He said the result was "fine."', True, id="straight-quote"),
        pytest.param("He said the result was “fine!”  ", True, id="curly-quote-trailing-space"),
        pytest.param("Too short a line.", False, id="four-words"),
        pytest.param("Share this story on Facebook and Twitter", False, id="no-punctuation"),
        pytest.param("Read more about the vote here: link", False, id="colon-word"),
        pytest.param("Posted in news, politics, world (3 comments)", False, id="paren"),
    ],
)
def test_is_c4_line(text: str, expected: bool) -> None:
    assert is_c4_line(text) is expected


def test_c4_rule_labels_lines_one_segment() -> None:
    prediction = c4_rule(
        make_lines(["Home", "The vote was counted again on Friday night.", "Menu"])
    )
    assert prediction.labels == (P, B, P)
    assert prediction.segments == (0, 0, 0)


def test_all_body() -> None:
    prediction = all_body(make_lines(["Home", "Text."]))
    assert prediction.labels == (B, B)
    assert prediction.segments == (0, 0)


def test_lines_to_html_escapes_markup_and_control_characters() -> None:
    document = lines_to_html(["a <b>bold</b> & co", "bell\x07"])
    assert "<p>a &lt;b&gt;bold&lt;/b&gt; &amp; co</p>" in document
    assert "\x07" not in document


def test_justext_keeps_prose_and_drops_navigation() -> None:
    texts = ["Home", "News", PROSE, PROSE.replace("council", "board"), "Share this", "© 2019"]
    assert justext_good(texts) == [False, False, True, True, False, False]


def test_justext_maps_lines_by_index_when_a_line_is_dropped() -> None:
    # The control-only line becomes an empty <p>, which jusText drops: the prose after it must
    # still map to its own line, not shift up by one.
    texts = ["\x01\x02", "Home", PROSE, PROSE.replace("council", "board")]
    assert justext_lines(make_lines(texts)).labels == (P, P, B, B)


def test_justext_on_empty_dump() -> None:
    assert justext_lines([]).labels == ()


def test_texttiling_segments_cover_every_line_in_order() -> None:
    texts = (POLITICS * 6) + (SPORTS * 6)
    segments = texttiling_segments(texts)
    assert len(segments) == len(texts)
    assert segments[0] == 0
    assert all(0 <= b - a <= 1 for a, b in itertools.pairwise(segments))
    # On this text nltk does cut (the exact places are TextTiling's business).
    assert segments[-1] > 0


@pytest.mark.parametrize(
    "texts",
    [
        pytest.param([], id="empty"),
        pytest.param(["Just one line."], id="one-line"),
        pytest.param(["Short.", "Also short."], id="too-short-for-nltk"),
        pytest.param(["123", "456", "789"], id="no-words"),
    ],
)
def test_texttiling_short_texts_fall_back_to_one_segment(texts: list[str]) -> None:
    assert texttiling_segments(texts) == [0] * len(texts)


def test_texttiling_labels_all_body() -> None:
    prediction = texttiling(make_lines(POLITICS + SPORTS))
    assert set(prediction.labels) == {B}


line_texts = st.lists(
    st.lists(
        st.sampled_from(["vote", "match", "the", "senator", "goal", "rain", "of", "2019", "!"]),
        min_size=1,
        max_size=25,
    ).map(" ".join),
    max_size=40,
)


@settings(max_examples=40, deadline=None)
@given(texts=line_texts)
def test_every_baseline_gives_a_valid_prediction_per_line(texts: list[str]) -> None:
    lines = make_lines(texts)
    for name, baseline in BASELINES.items():
        prediction = baseline(lines)
        assert len(prediction.labels) == len(texts), name
        assert len(prediction.segments) == len(texts), name
        assert not prediction.segments or prediction.segments[0] == 0, name


def test_baselines_ignore_gold_labels() -> None:
    texts = ["Home", *POLITICS, *SPORTS, PROSE]
    bare = make_lines(texts)
    labelled = [
        Line(number=line.number, text=line.text, label=Label.COMMENT, p=1.0) for line in bare
    ]
    for name, baseline in BASELINES.items():
        assert baseline(bare) == baseline(labelled), name
