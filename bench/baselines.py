"""Baseline systems: each maps a dump's lines to a Prediction, never looking at gold labels.

Every baseline reads only `Line.text` and `Line.blank_before` of `AnnotatedDump.lines`, so the
bench can be sure that no gold label leaks into a prediction.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate

import justext
from nltk.tokenize.texttiling import TextTilingTokenizer

from cleaner.evaluate import Prediction
from cleaner.types import Label, Line

Baseline = Callable[[Sequence[Line]], Prediction]

# C4 (Raffel et al. 2020, "Exploring the Limits of Transfer Learning", section 2.2) keeps lines
# ending in a terminal punctuation mark; the word floor follows our brief (C4 itself uses 3).
C4_MIN_WORDS = 5
_C4_TERMINAL = re.compile(r"[.!?][\"'”’»]*$")
# Characters lxml refuses in a document (XML 1.0 forbids C0 controls other than tab/LF/CR).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# jusText names each paragraph by its XPath; the <p> index maps it back to our line.
_P_INDEX = re.compile(r"/p\[(\d+)\]$")
# TextTiling needs paragraphs separated by a blank line.
_PARAGRAPH_BREAK = "\n\n"

# NLTK's English stopword list (nltk_data corpora/stopwords/english, 179 words), written out
# because nltk data cannot be downloaded here; TextTiling drops these before comparing blocks.
_ENGLISH_STOPWORDS_TEXT = """
    i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself
    yourselves he him his himself she she's her hers herself it it's its itself they them their
    theirs themselves what which who whom this that that'll these those am is are was were be
    been being have has had having do does did doing a an the and but if or because as until
    while of at by for with about against between into through during before after above below
    to from up down in out on off over under again further then once here there when where why
    how all any both each few more most other some such no nor not only own same so than too
    very s t can will just don don't should should've now d ll m o re ve y ain aren aren't
    couldn couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma
    mightn mightn't mustn mustn't needn needn't shan shan't shouldn shouldn't wasn wasn't weren
    weren't won won't wouldn wouldn't
"""
ENGLISH_STOPWORDS: frozenset[str] = frozenset(_ENGLISH_STOPWORDS_TEXT.split())


def _one_segment(lines: Sequence[Line], labels: Sequence[Label]) -> Prediction:
    """A prediction that keeps the whole dump as one article."""
    return Prediction(labels=tuple(labels), segments=(0,) * len(lines))


def all_body(lines: Sequence[Line]) -> Prediction:
    """Every line body, one segment: the "keep everything, never cut" floor."""
    return _one_segment(lines, [Label.BODY] * len(lines))


def is_c4_line(text: str, *, min_words: int = C4_MIN_WORDS) -> bool:
    """C4's line filter: enough words, ending in . ! or ? (a closing quote may follow)."""
    stripped = text.strip()
    return len(stripped.split()) >= min_words and bool(_C4_TERMINAL.search(stripped))


def c4_rule(lines: Sequence[Line]) -> Prediction:
    """C4's line rule (Raffel et al. 2020): body if `is_c4_line`, else boilerplate; one segment."""
    labels = [Label.BODY if is_c4_line(line.text) else Label.BOILERPLATE for line in lines]
    return _one_segment(lines, labels)


def lines_to_html(texts: Sequence[str]) -> str:
    """One HTML document with each line as a <p>, escaped and cleared of XML-illegal characters."""
    paragraphs = "".join(f"<p>{html.escape(_CONTROL.sub(' ', text))}</p>" for text in texts)
    return f"<html><body>{paragraphs}</body></html>"


def justext_good(texts: Sequence[str]) -> list[bool]:
    """Which lines jusText (Pomikálek 2011; miso-belica/jusText) classifies as good paragraphs.

    Paragraphs are mapped back by the <p> index in their XPath, not by position, so a line that
    jusText drops (e.g. one left empty after cleaning) is simply not good instead of shifting the
    rest. Default jusText settings, English stoplist shipped with the package.
    """
    good = [False] * len(texts)
    if not texts:
        return good
    paragraphs = justext.justext(lines_to_html(texts), justext.get_stoplist("English"))
    for paragraph in paragraphs:
        match = _P_INDEX.search(paragraph.xpath)
        if match and not paragraph.is_boilerplate:
            index = int(match.group(1)) - 1  # XPath indices are 1-based
            if 0 <= index < len(texts):
                good[index] = True
    return good


def justext_lines(lines: Sequence[Line]) -> Prediction:
    """jusText on the lines as <p> paragraphs: good -> body, anything else -> boilerplate."""
    good = justext_good([line.text for line in lines])
    labels = [Label.BODY if g else Label.BOILERPLATE for g in good]
    return _one_segment(lines, labels)


def texttiling_segments(texts: Sequence[str]) -> list[int]:
    """A segment index per line from TextTiling (Hearst 1997) as implemented in nltk.

    Each line becomes a paragraph; a line belongs to the tile that holds its first character.
    nltk raises ValueError on texts too short to tile (no usable paragraph break): one segment.
    """
    if len(texts) < 2:
        return [0] * len(texts)
    text = _PARAGRAPH_BREAK.join(texts)
    tokenizer = TextTilingTokenizer(stopwords=ENGLISH_STOPWORDS)
    try:
        tiles: list[str] = tokenizer.tokenize(text)
    except ValueError:
        return [0] * len(texts)
    # nltk's tiles are consecutive slices of the input, so their ends are the cut offsets.
    cuts = list(accumulate(len(tile) for tile in tiles))[:-1]
    starts = accumulate((len(t) + len(_PARAGRAPH_BREAK) for t in texts[:-1]), initial=0)
    return [bisect_right(cuts, start) for start in starts]


def texttiling(lines: Sequence[Line]) -> Prediction:
    """TextTiling segmentation (Hearst 1997, nltk) with every line labelled body."""
    segments = texttiling_segments([line.text for line in lines])
    return Prediction(labels=(Label.BODY,) * len(lines), segments=tuple(segments))


BASELINES: dict[str, Baseline] = {
    "all_body": all_body,
    "c4_rule": c4_rule,
    "justext_lines": justext_lines,
    "texttiling": texttiling,
}
