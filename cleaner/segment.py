"""Cut a labelled dump into articles: a learned boundary score on every gap between content lines.

A gap is the space between two consecutive content lines (body, headline, byline), with the
dropped lines that sit in it. Its features say what the labels around it are, how much furniture
and blank space lies in it, and how lexically alike the text before and after it is (cosine of
in-dump TF-IDF windows, TextTiling's idea, with a depth score relative to nearby gaps). A headline
is compared with the text before and after it, so a title block that a scraper put after its own
story stays with that story. A gradient-boosted classifier (or several, bagged: BOUNDARY_BAGS)
turns the features into a boundary probability; a second one, the cut model, decides which of
each dump's strongest gaps to cut, from their scores side by side and the words on either side
(a model without one cuts gaps above BOUNDARY_THRESHOLD, HEADINGLESS_THRESHOLD in a dump without
a headline).
"""

from __future__ import annotations

import itertools
import math
import operator
import re
import statistics
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cleaner.features import STOPWORDS
from cleaner.types import CONTENT_LABELS, AnnotatedDump, Label, Line

BOUNDARY_THRESHOLD = 0.3
# A dump in which the labeller finds no headline (a `bare` dump, stories that lost their titles)
# gives the boundary model body text alone, and the model, which learns mostly from stories
# that come with title blocks, scores the boundaries of such dumps low: they are cut from this
# lower threshold. The model is the same; only its threshold moves, and only for those dumps.
# Chosen like HEADING_MIN_P below, on joins of held-out pages (mean Pk of the concat and bare
# dumps of bench.joins and of 300 synthetic joins), with the shipped model: 0.1173 at 0.3 (no
# rule), 0.1182 at 0.2, 0.1166 at 0.15, 0.1145 at 0.1, 0.1150 at 0.075, 0.1185 at 0.05, 0.1207
# at 0.03. A separate boundary model for headingless dumps (trained on the 229 such dumps of the
# training pool, 0.1155 at best) did no better and over-cut headingless `page` dumps.
HEADINGLESS_THRESHOLD = 0.1
# A dump counts as titled (cut from BOUNDARY_THRESHOLD) when it holds a headline at p >= this;
# 0: any headline. Bare dumps are body text alone, but the labeller takes a few of their short
# lines for headlines (10 of the 18 held-out bare dumps, 12 of those 20 lines at p < 0.9), which
# sends them to the higher threshold. 0.9 (HEADING_MIN_P's bar) won on bare and concat dumps in
# cross-validation on the training pool (folds' boundary models fit on the other two folds'
# out-of-fold labels; seed 20261122: Pk real bare 0.150 -> 0.136, concat 0.102 -> 0.100) and on
# the held-out bare dumps over four seeds (mean Pk 0.187 -> 0.157), but it over-cut single pages
# whose headline the labeller is unsure of: exact counts 0.973 -> 0.960 on the folds' `page`
# dumps, 0.975 -> 0.969 on `extracted` ones (and 4 more of the 443 held-out single pages cut in
# two), and mean Pk over all the folds' dumps rose 0.024 -> 0.029. Counting a dump whose first
# content line is a headline as titled too kept most of the bare gain (0.141) and lost less
# (0.970, 0.972), still 0.026 over all dumps. Left at 0 (docs/recipes.md, 2026-12-03).
TITLED_MIN_P = 0.0
# Body lines needed on both sides of a title block before it is taken to separate two stories
# (seed 004's second story has two paragraphs under its headline).
MIN_BODY_AROUND_HEADING = 2
# ... and a headline in it the labeller is sure of (an author line alone, like the "► Author: ..."
# line that closes a blog post, is no title block). The rule overrules the boundary model, so it
# acts only on confident labels: an in-article subhead taken for a headline at p 0.5 split its
# story in two. Chosen on joins of held-out pages (bench.joins, 250 dumps, and 300 synthetic
# joins in cleaner.augment's layouts), with the model shipped before the current one: mean Pk of
# their concat and bare dumps 0.153 without a floor, 0.144 at 0.6, 0.140 at 0.8 and 0.9,
# 0.137-0.139 at 0.93-0.97, 0.139 at 0.99 (which lost a seed's title block); 0.9 keeps a margin
# below the seeds' title blocks (0.96-0.99 with the last two shipped models).
HEADING_MIN_P = 0.9
_BULLETS = frozenset("-•*·–—►▶")
# Boundary models to bag: above 1, each is fit on a bootstrap resample (by dump) of the training
# pool and their probabilities are averaged (bagging, Breiman 1996); 1 is one model fit on the
# whole pool, as shipped. Which dumps the one model saw moves its held-out Pk more than most
# recipe changes: five resamples of the shipped pool gave concat Pk 0.060-0.092 on the held-out
# corpus and 0.106-0.124 on bench.joins (the whole pool: 0.065, 0.117). Twenty bags, in one draw
# on the shipped pool, were at or better than the shipped model on every segmentation column;
# five and ten still varied with the draw, and twenty predicts per gap cost about 0.76 s per
# 60,000 lines (docs/recipes.md). The L2 penalty below steadied the one model at no
# cost per gap, and twenty bags beside it did no better (one seed). Compare it over seeds with
# `bench.recipe --segment --set cleaner.segment.BOUNDARY_BAGS=20`.
BOUNDARY_BAGS = 1
# The boundary model's gradient boosting. Read when a model is fit, not when a function is
# defined, so that bench.recipe's --set reaches them.
BOUNDARY_ROUNDS = 150
BOUNDARY_LEAVES = 15
BOUNDARY_LEARNING_RATE = 0.1
# An L2 penalty on the leaf values: the model varied with which dumps it saw (above), the sign
# of a fit that is too free, and shrinking its leaves did what bagging did at no cost per gap.
# Over four training seeds (20261122, 7, 1, 2; the labeller fixed per seed), 10 against none
# improved the mean of every segmentation column: held-out concat Pk 0.092 -> 0.089, count
# exact 0.729 -> 0.750, bare Pk 0.202 -> 0.187; joins of held-out pages concat Pk 0.119 ->
# 0.116, count exact 0.672 -> 0.693, bare Pk 0.157 -> 0.142; the gate's concat Pk 0.177 ->
# 0.134. 3 gained less; 30 and 100 gained on bare dumps and lost on concat ones; 300 rounds of
# 7 leaves won with two seeds and lost with the third (docs/recipes.md).
BOUNDARY_L2 = 10.0
# Within this many gaps of a stronger candidate a boundary is suppressed: articles are longer.
SUPPRESS_REACH = 3
# Content lines on each side whose words make the lexical windows (short and long).
NEAR_WINDOW = 2
FAR_WINDOW = 6
# How many gaps to each side a depth score looks at for the surrounding peak of similarity.
DEPTH_REACH = 4
_WORD = re.compile(r"[^\W\d_]{3,}")
# Distinct lines whose content words are remembered: the lines around a cut are read by several
# features, and a site's furniture recurs on every page (about half the words the segmenter
# reads on the held-out dumps). A tuple per line, a few MB at most.
TOKEN_CACHE = 2**15
_HEADINGS = frozenset({Label.HEADLINE, Label.BYLINE})

GAP_NAMES = (
    "left_body", "left_headline", "left_byline", "right_body", "right_headline", "right_byline",
    "log_dropped", "log_blank", "log_max_blank", "sim_near", "sim_far", "depth_near", "depth_far",
    "head_sim_before", "head_sim_after", "head_sim_diff", "right_repeats_next",
    "log_left_run", "log_right_run", "rel_pos", "right_after_head_run", "dropped_teaser",
    "dropped_comment", "dropped_boilerplate", "near_vs_median", "far_vs_median", "far_rank",
    "far_local_min", "log_content", "novel_after", "orphan_before", "novel_orphan",
    "novel_after_far", "orphan_before_far", "log_body_before", "log_body_after",
    "log_clean_before", "log_clean_after", "log_dropped_comments",
)
# Content lines on each side whose words are checked for novelty (never seen before the gap)
# and for orphanhood (never seen after it): a new story brings new names and topics.
NOVELTY_WINDOW = 3

# Where, among the dropped lines of a cut gap, the next article starts: one page's footer and
# the next page's header lie between two stories, and a cut in the wrong place there costs Pk
# as much as a missed story. A second model scores each line of such a run as the first of the
# new segment (POSITION_NAMES); without it, cut_position's blank-run rule decides.
POSITION_NAMES = (
    "log_blank_before", "blank_share_of_max", "is_longest_blank", "rel_pos", "log_from_left",
    "log_to_right", "log_run", "is_right", "p_line",
    *(f"line_{label}" for label in Label), *(f"prev_{label}" for label in Label),
    "prev_footer_cue", "line_header_cue", "log_words", "log_prev_words", "seen_before",
    "prev_seen_after", "affinity_line", "affinity_split",
)
# Lines on each side of a run whose words stand for the story before and the story after.
POSITION_CONTEXT = 30
# The cut-position model's gradient boosting, read when it is fit (as the boundary model's).
# Its L2 penalty, as the boundary model's: with each training seed's labeller and penalised
# boundary model fixed (seeds 20261122, 7, 1, 2), 10 against none moved held-out concat Pk
# 0.066/0.105/0.090/0.093 -> 0.069/0.068/0.078/0.082 and bench.joins' concat Pk
# 0.109/0.118/0.123/0.114 -> 0.106/0.106/0.115/0.102, counts unchanged (it only moves where a
# cut lands); 3 gained less, 30 about as much but lost a gate cut with seed 7.
POSITION_ROUNDS = 100
POSITION_LEAVES = 15
POSITION_LEARNING_RATE = 0.1
POSITION_L2 = 10.0
# How many cuts a dump gets: a third model decides which candidate gaps to cut. The boundary
# model ranks the gaps of a dump well but its probabilities, fit over every kind of dump, do not
# say how many of them are boundaries: told the gold number of cuts, the same scores halve the
# Pk of bare dumps (bench.headroom). A candidate is a gap whose boundary probability is at least
# CUT_CANDIDATE_MIN_P and the highest within SUPPRESS_REACH gaps; the cut model sees its score
# beside the dump's other candidates' (how far below the strongest, how far above the next), the
# dump's layout, and how unlike each other the whole text before and after it is (cosine of the
# two sides' TF-IDF, and the gain of a two-topic over a one-topic word model, Utiyama and
# Isahara 2001), and cuts where it gives CUT_THRESHOLD or more. It learns from out-of-fold
# boundary probabilities (fit_cuts), the scores it will see on unseen dumps. It replaced
# BOUNDARY_THRESHOLD / HEADINGLESS_THRESHOLD / TITLED_MIN_P, which a model without it still uses.
CUT_CANDIDATE_MIN_P = 0.02
CUT_THRESHOLD = 0.5
CUT_ROUNDS = 100
CUT_LEAVES = 7
CUT_LEARNING_RATE = 0.1
CUT_L2 = 10.0
CUT_NAMES = (
    "logit_p", "logit_below_top", "logit_above_next", "log_rank", "log_strong", "log_gaps",
    "log_content", "has_headline", "max_headline_p", "dropped_share", "blank_share", "rel_pos",
    "global_cosine", "split_gain", *(f"gap_{name}" for name in GAP_NAMES),
)
# Candidates at or above this probability count as strong ("log_strong").
_STRONG_P = 0.1
_FOOTER = re.compile(r"©|\(c\)|copyright|all rights reserved|privacy|terms of|contact us"
                     r"|back to top", re.IGNORECASE)
_HEADER = re.compile(r"^\W*(home|menu|skip|sign in|log in|login|subscribe|search|navigation"
                     r"|register|main menu)\b", re.IGNORECASE)


@lru_cache(maxsize=TOKEN_CACHE)
def _tokens(text: str) -> tuple[str, ...]:
    """Content words of a line: lowercased, letters only, stopwords out."""
    return tuple([w for w in _WORD.findall(text.lower()) if w not in STOPWORDS])


def _weights(bags: Sequence[Counter[str]]) -> list[dict[str, float]]:
    """TF-IDF weight vectors of the content lines, IDF taken within the dump."""
    df: Counter[str] = Counter()
    for bag in bags:
        df.update(bag.keys())
    n = len(bags) + 1
    idf = {w: math.log(n / c) + 0.1 for w, c in df.items()}
    return [{w: c * idf[w] for w, c in bag.items()} for bag in bags]


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine similarity of two sparse vectors."""
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    # map() instead of generators: the same products summed in the same order, at C speed.
    dot = sum(map(operator.mul, a.values(), map(b.get, a, itertools.repeat(0.0))))
    norm = math.sqrt(sum(map(operator.mul, a.values(), a.values()))
                     * sum(map(operator.mul, b.values(), b.values())))
    return dot / norm if norm else 0.0


def _window(vectors: Sequence[dict[str, float]], start: int, stop: int) -> dict[str, float]:
    """Sum of the vectors in [start, stop), clipped to the sequence."""
    part = vectors[max(start, 0) : max(min(stop, len(vectors)), 0)]
    if not part:
        return {}
    # A copy of the first vector is the sum so far: 0.0 + v is v for every weight but -0.0,
    # and TF-IDF weights are positive. Words then keep the order they are first met in.
    out = dict(part[0])
    get = out.get
    for vec in part[1:]:
        for w, v in vec.items():
            out[w] = get(w, 0.0) + v
    return out


def _sparse_rows(dumps: Sequence[Sequence[dict[str, float]]]) -> Any:
    """The weight vectors of many dumps as rows of one block-diagonal CSR matrix.

    Each dump has its own vocabulary (its own block of columns), so rows of different dumps
    never share a column and a window sum never mixes dumps.
    """
    from scipy import sparse

    vectors = [vec for dump in dumps for vec in dump]
    # The same (row, column, value) entries in the same order as one append per entry gave:
    # a dump's words are numbered in the order they are first met, after the dumps before it.
    cols: list[NDArray[np.int64]] = []
    col = 0
    for dump in dumps:
        words = [w for vec in dump for w in vec]
        index = {w: k for k, w in enumerate(dict.fromkeys(words))}
        cols.append(col + np.fromiter(map(index.__getitem__, words), np.int64, len(words)))
        col += max(len(index), 1)
    sizes = [len(vec) for vec in vectors]
    vals = np.fromiter(itertools.chain.from_iterable(vec.values() for vec in vectors),
                       np.float64, sum(sizes))
    rows = np.repeat(np.arange(len(vectors), dtype=np.int64), sizes)
    return sparse.csr_matrix((vals, (rows, np.concatenate([np.zeros(0, np.int64), *cols]))),
                             shape=(len(vectors), max(col, 1)))


def _window_similarities(matrix: Any, sizes: Sequence[int], width: int) -> list[list[float]]:
    """Per dump (of `sizes` rows each), the cosine of the summed `width` rows before and after
    each gap between its consecutive rows.

    Band matrices turn every window sum of a whole batch of dumps into one sparse product,
    instead of a dict merge per gap and window; the band stops at each dump's edges.
    """
    from scipy import sparse

    rows = np.asarray(sizes, dtype=np.int64)
    starts = np.cumsum(rows) - rows
    gaps_of = np.maximum(rows - 1, 0)
    # Per gap: its dump's first and past-the-end rows, and the row just above it.
    first = np.repeat(starts, gaps_of)
    end = first + np.repeat(rows, gaps_of)
    above = np.concatenate([np.arange(o, o + k, dtype=np.int64)
                            for o, k in zip(starts.tolist(), gaps_of.tolist(), strict=True)]
                           or [np.zeros(0, np.int64)])
    n_gaps, n_rows = len(above), matrix.shape[0]
    offsets = np.arange(width)
    left = (above[:, None] - offsets[None, :]).ravel()
    right = (above[:, None] + 1 + offsets[None, :]).ravel()
    owner = np.repeat(np.arange(n_gaps), width)
    lo, hi = np.repeat(first, width), np.repeat(end, width)

    def band(cols: NDArray[np.int64]) -> Any:
        keep = (cols >= lo) & (cols < hi)
        return sparse.csr_matrix((np.ones(keep.sum()), (owner[keep], cols[keep])),
                                 shape=(n_gaps, n_rows))

    before, after = band(left) @ matrix, band(right) @ matrix
    dot = np.asarray(before.multiply(after).sum(axis=1)).ravel()
    norms = np.sqrt(np.asarray(before.multiply(before).sum(axis=1)).ravel()
                    * np.asarray(after.multiply(after).sum(axis=1)).ravel())
    sims = np.divide(dot, norms, out=np.zeros_like(dot), where=norms > 0).tolist()
    bounds = np.cumsum([0, *gaps_of.tolist()]).tolist()
    return [sims[a:b] for a, b in itertools.pairwise(bounds)]


def _depth(sims: Sequence[float], i: int) -> float:
    """How far similarity at gap i dips below the highest similarity on either side."""
    left = max(sims[max(0, i - DEPTH_REACH) : i + 1])
    right = max(sims[i : i + DEPTH_REACH + 1])
    return (left - sims[i]) + (right - sims[i])


def gap_features(lines: Sequence[Line]) -> tuple[list[int], NDArray[np.float32]]:
    """The content-line indices of a labelled dump and one feature row per gap between them."""
    return gap_features_many([lines])[0]


def gap_features_many(
    dumps: Sequence[Sequence[Line]],
) -> list[tuple[list[int], NDArray[np.float32]]]:
    """gap_features of many dumps, their lexical similarities in one batch of sparse products."""
    return _gaps_and_words(dumps)[0]


# Per dump: the bag of content words and the TF-IDF vector of each of its content lines.
Words = tuple[list[Counter[str]], list[dict[str, float]]]


def _gaps_and_words(
    dumps: Sequence[Sequence[Line]],
) -> tuple[list[tuple[list[int], NDArray[np.float32]]], list[Words]]:
    """gap_features_many, and the words it read: the cut features use them again."""
    contents = [[i for i, line in enumerate(lines) if line.label in CONTENT_LABELS]
                for lines in dumps]
    bags = [[Counter(_tokens(lines[i].text)) for i in content]
            for lines, content in zip(dumps, contents, strict=True)]
    vectors = [_weights(b) for b in bags]
    sizes = [len(content) for content in contents]
    matrix = _sparse_rows(vectors)
    near = _window_similarities(matrix, sizes, NEAR_WINDOW)
    far = _window_similarities(matrix, sizes, FAR_WINDOW)
    gaps = [_gap_rows(*args) for args in zip(dumps, contents, bags, vectors, near, far,
                                             _novelty(bags), strict=True)]
    return gaps, list(zip(bags, vectors, strict=True))


def _seen(bags: Sequence[Counter[str]]) -> tuple[dict[str, int], dict[str, int]]:
    """The content line where each word of a dump is first seen, and where it is last seen."""
    # Comprehensions, not a setdefault per word: a later line overwrites, so walking the lines
    # backwards leaves each word's first line.
    first = {w: j for j, bag in reversed(list(enumerate(bags))) for w in bag}
    return first, {w: j for j, bag in enumerate(bags) for w in bag}


def _novelty(bags: Sequence[Sequence[Counter[str]]]) -> list[list[NDArray[np.float64]]]:
    """Per dump (its content lines' bags of words): the novelty and orphan shares of its gaps
    over NOVELTY_WINDOW lines, then over twice that (near, then far).

    Counted for the whole batch in one pass of array operations (per dump, their cost per call
    was most of the count).
    """
    occurrences = _Occurrences.of_many([(b, *_seen(b)) for b in bags])
    cut = np.cumsum(occurrences.gaps())[:-1]
    shares = [part for window in (NOVELTY_WINDOW, 2 * NOVELTY_WINDOW)
              for part in occurrences.shares(window)]
    per_dump = [np.split(values, cut) if len(values) else [values] * len(bags)
                for values in shares]
    return [list(parts) for parts in zip(*per_dump, strict=True)]


def _gap_rows(
    lines: Sequence[Line], content: list[int], bags: list[Counter[str]],
    vectors: list[dict[str, float]], sim_near: list[float], sim_far: list[float],
    novelty: Sequence[NDArray[np.float64]],
) -> tuple[list[int], NDArray[np.float32]]:
    """One dump's gap feature rows, given its content lines' words, window similarities and
    novelty shares (_novelty)."""
    if len(content) < 2:
        return content, np.zeros((0, len(GAP_NAMES)), dtype=np.float32)
    n_gaps = len(content) - 1
    # Runs of consecutive headline/byline lines: where does the run containing j start and end?
    heading_run_start = list(range(len(content)))
    for j in range(1, len(content)):
        if lines[content[j]].label in _HEADINGS and lines[content[j - 1]].label in _HEADINGS:
            heading_run_start[j] = heading_run_start[j - 1]
    # The same dip means more in a dump whose paragraphs are otherwise alike: compare each gap
    # with the dump's own similarities.
    # statistics.median, not np.median: the same float (the middle value, or the two middle
    # values added and halved; similarities are never NaN) without numpy's cost per call.
    near_median = statistics.median(sim_near)
    far_median = statistics.median(sim_far)
    far_rank = np.argsort(np.argsort(sim_far, kind="stable"), kind="stable") / max(n_gaps - 1, 1)
    # Body characters since the last heading line before each gap, and from each gap's right
    # heading block to the next one: a title block with no story after it closes the one before.
    body_len = [len(lines[i].text) if lines[i].label is Label.BODY else 0 for i in content]
    is_heading = [lines[i].label in _HEADINGS for i in content]
    body_before = [0.0] * len(content)
    run = 0.0
    for j in range(len(content)):
        run = 0.0 if is_heading[j] else run + body_len[j]
        body_before[j] = run
    body_after = [0.0] * len(content)
    run, in_block = 0.0, False
    for j in range(len(content) - 1, -1, -1):
        if is_heading[j]:
            if not in_block:
                in_block = True
            body_after[j] = run
        else:
            if in_block:
                run, in_block = 0.0, False
            run += body_len[j]
            body_after[j] = run

    # Content lines in an unbroken run (no dropped line between them) ending at each gap's left
    # line and starting at its right line. A comment the labeller takes for body sits alone
    # between dropped comment lines, inside a story; a story that starts after another's comment
    # thread (with no headline of its own) runs on for several paragraphs.
    clean_before = [1] * len(content)
    for j in range(1, len(content)):
        if content[j] == content[j - 1] + 1:
            clean_before[j] = clean_before[j - 1] + 1
    clean_after = [1] * len(content)
    for j in range(len(content) - 2, -1, -1):
        if content[j + 1] == content[j] + 1:
            clean_after[j] = clean_after[j + 1] + 1

    novel_near, orphan_near, novel_far, orphan_far = novelty
    rows = []
    for g in range(n_gaps):
        a, b = content[g], content[g + 1]
        novel, orphan = float(novel_near[g]), float(orphan_near[g])
        left, right = lines[a], lines[b]
        between = lines[a + 1 : b]
        blanks = [line.blank_before for line in lines[a + 1 : b + 1]]
        dropped = Counter(line.label for line in between)
        head_before = head_after = 0.0
        if right.label in _HEADINGS:
            # Compare the heading with the story before it and the story after its block.
            block_end = g + 1
            while block_end + 1 < len(content) and lines[content[block_end + 1]].label in _HEADINGS:
                block_end += 1
            head = _window(vectors, g + 1, block_end + 1)
            head_before = _cosine(head, _window(vectors, g + 1 - FAR_WINDOW, g + 1))
            head_after = _cosine(head, _window(vectors, block_end + 1, block_end + 1 + FAR_WINDOW))
        nxt = content[g + 2] if g + 2 < len(content) else None
        rows.append([
            left.label is Label.BODY, left.label is Label.HEADLINE, left.label is Label.BYLINE,
            right.label is Label.BODY, right.label is Label.HEADLINE, right.label is Label.BYLINE,
            math.log1p(len(between)), math.log1p(sum(blanks)), math.log1p(max(blanks)),
            sim_near[g], sim_far[g], _depth(sim_near, g), _depth(sim_far, g),
            head_before, head_after, head_after - head_before,
            nxt is not None and lines[nxt].text == right.text,
            math.log1p(g + 1 - heading_run_start[g]), math.log1p(n_gaps - g),
            (g + 1) / len(content),
            left.label in _HEADINGS and g - heading_run_start[g] >= 1,
            Label.TEASER in dropped, Label.COMMENT in dropped, Label.BOILERPLATE in dropped,
            sim_near[g] - near_median, sim_far[g] - far_median, far_rank[g],
            sim_far[g] <= min(sim_far[max(0, g - DEPTH_REACH) : g + DEPTH_REACH + 1]),
            math.log1p(len(content)), novel, orphan, novel * orphan,
            novel_far[g], orphan_far[g],
            math.log1p(body_before[g]), math.log1p(body_after[g + 1]),
            math.log1p(clean_before[g]), math.log1p(clean_after[g + 1]),
            math.log1p(dropped[Label.COMMENT]),
        ])
    return content, np.asarray(rows, dtype=np.float32)


@dataclass(frozen=True)
class _Occurrences:
    """Every (content line, distinct word) pair of a batch of dumps: its dump, the line, and where
    the word is first and last seen in that dump (content-line indices within the dump)."""

    dump: NDArray[np.int64]
    line: NDArray[np.int64]
    first: NDArray[np.int64]
    last: NDArray[np.int64]
    lines: NDArray[np.int64]  # content lines of each dump
    # Cumulative count of pairs before each line of the batch (the dumps' lines one after
    # another), length (all lines) + 1.
    per_line: NDArray[np.int64]

    @classmethod
    def of(cls, bags: Sequence[Counter[str]], first_seen: dict[str, int],
           last_seen: dict[str, int]) -> _Occurrences:
        """The pairs of a dump's bags of words."""
        return cls.of_many([(bags, first_seen, last_seen)])

    @classmethod
    def of_many(
        cls, dumps: Sequence[tuple[Sequence[Counter[str]], dict[str, int], dict[str, int]]],
    ) -> _Occurrences:
        """The pairs of many dumps, each given as (bags, first_seen, last_seen)."""
        sizes = [len(bag) for bags, _, _ in dumps for bag in bags]
        words = [[w for bag in bags for w in bag] for bags, _, _ in dumps]

        def lookup(seen: dict[str, int], mine: list[str]) -> NDArray[np.int64]:
            return np.fromiter(map(seen.__getitem__, mine), np.int64, len(mine))

        lines = np.array([len(bags) for bags, _, _ in dumps], dtype=np.int64)
        return cls(
            dump=np.repeat(np.arange(len(dumps), dtype=np.int64), [len(w) for w in words]),
            line=np.concatenate([np.zeros(0, np.int64)]
                                + [np.repeat(np.arange(len(bags), dtype=np.int64),
                                             [len(bag) for bag in bags])
                                   for bags, _, _ in dumps]),
            first=np.concatenate([np.zeros(0, np.int64)]
                                 + [lookup(first, w) for (_, first, _), w in zip(dumps, words,
                                                                                 strict=True)]),
            last=np.concatenate([np.zeros(0, np.int64)]
                                + [lookup(last, w) for (_, _, last), w in zip(dumps, words,
                                                                              strict=True)]),
            lines=lines,
            per_line=np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]),
        )

    def gaps(self) -> NDArray[np.int64]:
        """Gaps of each dump (one fewer than its lines, none without lines)."""
        gaps: NDArray[np.int64] = np.maximum(self.lines - 1, 0)
        return gaps

    def shares(self, window: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per gap g (between content lines g and g+1) of each dump, the dumps' gaps one after
        another: the share of the word occurrences in the `window` lines after it that are new
        (first seen after g), and of those in the `window` lines before it that are orphans
        (last seen at or before g); 0 where there are none.

        Counted for all gaps of all dumps at once: a pair is new for the gaps of its dump from
        line - window up to its first sighting - 1, and an orphan for those from its last
        sighting up to line + window - 1; a difference array over the batch's gaps adds up
        those ranges, none of which leaves its dump. The same integer counts and divisions as
        one list per gap, so the same floats.
        """
        n_gaps = self.gaps()
        gap_start = np.cumsum(n_gaps) - n_gaps  # each dump's first gap in the batch
        total = int(n_gaps.sum())
        if total < 1:
            return np.zeros(0), np.zeros(0)
        mine, offset = n_gaps[self.dump], gap_start[self.dump]

        def count(lo: NDArray[np.int64], hi: NDArray[np.int64]) -> NDArray[np.int64]:
            hi = np.minimum(hi, mine - 1)
            keep = lo <= hi
            # bincount, not np.add.at (much slower per call): the same integer counts.
            diff = (np.bincount(lo[keep] + offset[keep], minlength=total + 1)
                    - np.bincount(hi[keep] + 1 + offset[keep], minlength=total + 1))
            return np.cumsum(diff)[:total]

        new = count(np.maximum(self.line - window, 0), self.first - 1)
        orphan = count(self.last, self.line + window - 1)
        owner = np.repeat(np.arange(len(n_gaps)), n_gaps)
        gaps = np.arange(total) - gap_start[owner]  # each gap's index in its dump
        first_line = (np.cumsum(self.lines) - self.lines)[owner]  # its dump's first line
        pairs = self.per_line
        after = (pairs[first_line + np.minimum(gaps + window, n_gaps[owner]) + 1]
                 - pairs[first_line + gaps + 1])
        before = (pairs[first_line + gaps + 1]
                  - pairs[first_line + np.maximum(gaps + 1 - window, 0)])
        return _ratio(new, after), _ratio(orphan, before)


def _ratio(num: NDArray[np.int64], den: NDArray[np.int64]) -> NDArray[np.float64]:
    """num / den, 0 where den is 0."""
    out = np.zeros(len(num), dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def gap_truth(dump: AnnotatedDump) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Gap features on gold labels and whether each gap is a gold page boundary."""
    content, x = gap_features(dump.lines)
    y = [int(dump.pages[a] != dump.pages[b]) for a, b in itertools.pairwise(content)]
    return x, np.asarray(y, dtype=np.int64)


def _affinity(lines: Sequence[Line], left: int, right: int) -> list[float]:
    """Per dropped line of the run: share of its words in the story after minus before it."""
    def bag(part: Sequence[Line]) -> set[str]:
        return {w for line in part for w in _tokens(line.text)}

    before = bag(lines[max(0, left - POSITION_CONTEXT) : left + 1])
    after = bag(lines[right : right + POSITION_CONTEXT + 1])
    out = []
    for line in lines[left + 1 : right]:
        words = _tokens(line.text)
        # Counted by map(), at C speed: the same integers as a generator of booleans.
        out.append((sum(map(after.__contains__, words)) - sum(map(before.__contains__, words)))
                   / len(words) if words else 0.0)
    return out


# Per label (or none), the position features' float(label is lab) for every lab in Label order.
_ONE_HOT: dict[Label | None, tuple[float, ...]] = {
    label: tuple(float(label is lab) for lab in Label) for label in (*Label, None)
}


def position_features(lines: Sequence[Line], left: int, right: int) -> NDArray[np.float32]:
    """POSITION_NAMES for each candidate first line i in (left, right] of a cut gap."""
    texts = [line.text for line in lines]
    # Comprehensions, not a setdefault per line: a later line overwrites, so walking the lines
    # backwards leaves each text's first line.
    last_seen = {text: i for i, text in enumerate(texts)}
    first_seen = {text: i for i, text in reversed(list(enumerate(texts)))}
    blanks = [lines[i].blank_before for i in range(left + 1, right + 1)]
    top = max(blanks)
    run = right - left - 1  # dropped lines
    affinity = _affinity(lines, left, right)
    # Each line of the run is both a candidate and the line before the next one: its word
    # count is taken once.
    n_words = {i: math.log1p(len(texts[i].split())) for i in range(left, right + 1)}
    rows = []
    before = 0.0  # sum(affinity[:k]), added up left to right from zero as sum() adds
    for i in range(left + 1, right + 1):
        k = i - left - 1  # dropped lines before the cut
        line, prev = lines[i], lines[i - 1]
        if k:
            before += affinity[k - 1]
        split = ((sum(affinity[k:]) / (run - k) if k < run else 0.0)
                 - (before / k if k else 0.0))
        rows.append([
            math.log1p(line.blank_before), line.blank_before / top if top else 0.0,
            float(top > 0 and line.blank_before == top), k / run if run else 1.0,
            math.log1p(k), math.log1p(right - i), math.log1p(run), float(i == right),
            line.p if line.p is not None else 1.0,
            *_ONE_HOT[line.label], *_ONE_HOT[prev.label],
            float(bool(_FOOTER.search(prev.text))), float(bool(_HEADER.search(line.text))),
            n_words[i], n_words[i - 1],
            float(first_seen[line.text] < i), float(last_seen[prev.text] > i - 1),
            affinity[k] if k < len(affinity) else 0.0, split,
        ])
    return np.asarray(rows, dtype=np.float32).reshape(-1, len(POSITION_NAMES))


def learned_positions(
    runs: Sequence[tuple[Sequence[Line], int, int]], *, model: Any
) -> list[int]:
    """The first line of the new segment for each (lines, left, right) run, in one model call."""
    wide = [k for k, (_, left, right) in enumerate(runs) if right - left > 1]
    out = [right for _, _, right in runs]
    if not wide:
        return out
    blocks = [position_features(*runs[k]) for k in wide]
    scores = model.predict_proba(np.vstack(blocks))[:, 1]
    start = 0
    for k, block in zip(wide, blocks, strict=True):
        mine = scores[start : start + len(block)]
        start += len(block)
        out[k] = runs[k][1] + 1 + int(np.argmax(mine))  # first best: ties go left, stably
    return out


def position_truth(dump: AnnotatedDump) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Position features of every run holding a gold page change, and which line starts it."""
    content = [i for i, line in enumerate(dump.lines) if line.label in CONTENT_LABELS]
    xs, ys = [], []
    for left, right in itertools.pairwise(content):
        if right - left < 2:
            continue
        change = [i for i in range(left + 1, right + 1) if dump.pages[i] != dump.pages[i - 1]]
        if len(change) != 1:
            continue
        xs.append(position_features(dump.lines, left, right))
        ys.append((np.arange(left + 1, right + 1) == change[0]).astype(np.int64))
    if not xs:
        return np.zeros((0, len(POSITION_NAMES)), np.float32), np.zeros(0, np.int64)
    return np.vstack(xs), np.concatenate(ys)


def fit_positions(dumps: Sequence[AnnotatedDump], *, seed: int) -> Any:
    """Train the cut-position model on dumps whose labels are what the labeller predicts.

    None when the dumps hold no page join with dropped lines in it to learn from (a user's
    single-page data): segmenting then keeps cut_position's rule.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    pairs = [position_truth(d) for d in dumps]
    x = np.vstack([p[0] for p in pairs]) if pairs else np.zeros((0, len(POSITION_NAMES)))
    y = np.concatenate([p[1] for p in pairs]) if pairs else np.zeros(0, np.int64)
    if len(set(y.tolist())) < 2:
        return None
    model = HistGradientBoostingClassifier(
        max_iter=POSITION_ROUNDS, max_leaf_nodes=POSITION_LEAVES,
        learning_rate=POSITION_LEARNING_RATE,
        l2_regularization=POSITION_L2, early_stopping=False, random_state=seed,
    )
    return model.fit(x, y)


def cut_position(lines: Sequence[Line], left: int, right: int) -> int:
    """Index of the first line of the new segment, somewhere in (left, right].

    The dropped lines between two stories are split at the longest blank run among them (pages
    are usually joined with blank lines); with none, furniture goes to the story it follows,
    except a run of teasers/comments, which trails the story before it too.
    """
    best, best_blank = right, -1
    for i in range(left + 1, right + 1):
        if lines[i].blank_before > best_blank:
            best, best_blank = i, lines[i].blank_before
    return best if best_blank > 0 else right


def pick_boundaries(
    probs: NDArray[np.float64], *, threshold: float = BOUNDARY_THRESHOLD,
    reach: int = SUPPRESS_REACH,
) -> list[int]:
    """Gaps to cut: above the threshold and the strongest within `reach` gaps either side."""
    picked = []
    for g in np.flatnonzero(probs >= threshold):
        window = probs[max(0, g - reach) : g + reach + 1]
        if probs[g] >= window.max():
            picked.append(int(g))
    return picked


def heading_cuts(
    lines: Sequence[Line], content: Sequence[int], x: NDArray[np.float32], picked: Sequence[int],
    *, min_body: int = MIN_BODY_AROUND_HEADING, min_p: float = HEADING_MIN_P,
) -> list[int]:
    """Cuts the boundary model missed around a title block that sits between two stories.

    A headline block (headline and byline lines, with the summary bullets right after it) holding
    a headline at p >= `min_p`, with at least `min_body` body lines on each side (or, when it
    closes a story, the next title block right after it), and no cut beside it, opens or closes a
    story: it goes with the side whose words it shares more (a scraper may put a story's title
    block after its body), and the cut goes on its other side.
    """
    labels = [lines[i].label for i in content]
    before_col, after_col = GAP_NAMES.index("head_sim_before"), GAP_NAMES.index("head_sim_after")
    cuts = sorted(picked)
    g = 0
    while g < len(content) - 1:
        if labels[g + 1] not in _HEADINGS or labels[g] in _HEADINGS:
            g += 1
            continue
        end = g + 1  # last content index of the block
        while end + 1 < len(content) and labels[end + 1] in _HEADINGS:
            end += 1
        while (end + 1 < len(content) and labels[end + 1] is Label.BODY
               and lines[content[end + 1]].text[:1] in _BULLETS):
            end += 1
        last_cut = max((c for c in cuts if c < g + 1), default=-1)
        body_before = sum(1 for k in range(last_cut + 1, g + 1) if labels[k] is Label.BODY)
        body_after = 0
        for k in range(end + 1, len(content)):
            if labels[k] in _HEADINGS:
                break
            body_after += labels[k] is Label.BODY
        sure = max((lines[content[k]].p or 0.0 for k in range(g + 1, end + 1)
                    if labels[k] is Label.HEADLINE), default=-1.0) >= min_p
        closes = x[g, after_col] < x[g, before_col]
        # A closing block may be followed straight by the next story's own title block.
        next_heading = end + 1 < len(content) and labels[end + 1] in _HEADINGS
        enough_after = body_after >= min_body or (closes and next_heading)
        if sure and body_before >= min_body and enough_after and not any(
            g - 1 <= c <= end + 1 for c in cuts
        ):
            cuts.append(end if closes else g)
            cuts.sort()
        g = end + 1
    return cuts


def segment(
    lines: Sequence[Line], *, model: Any, position: Any = None,
    threshold: float | None = None, headingless_threshold: float | None = None,
) -> list[int]:
    """A segment (article) index per line of a labelled dump, 0-based and non-decreasing."""
    return segment_many([lines], model=model, position=position, threshold=threshold,
                        headingless_threshold=headingless_threshold)[0]


def segment_many(
    dumps: Sequence[Sequence[Line]], *, model: Any, position: Any = None, cuts: Any = None,
    threshold: float | None = None, headingless_threshold: float | None = None,
) -> list[list[int]]:
    """Segment indices for many labelled dumps, with one boundary-model call for the batch.

    `position` is the cut-position model (fit_positions); None keeps cut_position's rule.
    `cuts` is the cut model (fit_cuts): it picks the gaps to cut among the candidates, in one
    call for the batch. Without it a dump not `titled` is cut from `headingless_threshold`, any
    other from `threshold` (defaults HEADINGLESS_THRESHOLD and BOUNDARY_THRESHOLD, read at call
    time, so that a recipe comparison's --set reaches them).
    """
    gaps, words = _gaps_and_words(dumps)
    probs = dump_boundary_proba(model, gaps)
    if cuts is not None:
        chosen = choose_cuts(dumps, gaps, probs, model=cuts, words=words)
    else:
        threshold = BOUNDARY_THRESHOLD if threshold is None else threshold
        headingless = (HEADINGLESS_THRESHOLD if headingless_threshold is None
                       else headingless_threshold)
        chosen = [pick_boundaries(mine, threshold=threshold if titled(lines) else headingless)
                  for lines, mine in zip(dumps, probs, strict=True)]
    picked = [heading_cuts(lines, content, x, mine)
              for lines, (content, x), mine in zip(dumps, gaps, chosen, strict=True)]
    return place_cuts(dumps, [content for content, _ in gaps], picked, position=position)


def _logit(p: float) -> float:
    """log(p / (1 - p)), p kept inside [1e-6, 1 - 1e-6]."""
    q = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(q / (1.0 - q))


def _topic_cost(counts: Collection[int], vocabulary: int) -> float:
    """-log likelihood of words counted `counts` times under their own Laplace-smoothed
    unigram model."""
    n = sum(counts)
    if not n:
        return 0.0
    return -sum(c * math.log(c + 1) for c in counts) + n * math.log(n + vocabulary)


def _sides(words: Words, gaps: Sequence[int]) -> dict[int, tuple[float, float]]:
    """Per gap: cosine of the TF-IDF of all content before and after it, and the per-word gain
    in -log likelihood of one word model per side over one for the whole dump."""
    bags, vectors = words
    # Plain dicts added to in place, in the order Counter.update adds (its isinstance check per
    # call cost more than the adding): the same counts, and words in the same order, so the
    # float sums over them below are the same.
    whole: dict[str, int] = {}
    for bag in bags:
        for w, c in bag.items():
            whole[w] = whole.get(w, 0) + c
    vocabulary, n_words = len(whole), max(sum(whole.values()), 1)
    one_topic = _topic_cost(whole.values(), vocabulary)
    out = {}
    before: dict[str, int] = {}
    # The TF-IDF of all content before the gap, added up once from the start like the counts:
    # the sums _window(vectors, 0, g + 1) makes, in the same order.
    head: dict[str, float] = {}
    done = 0
    for g in sorted(gaps):  # the words before each gap, added up once from the start
        for bag, vec in zip(bags[done : g + 1], vectors[done : g + 1], strict=True):
            for w, c in bag.items():
                before[w] = before.get(w, 0) + c
            for w, v in vec.items():
                head[w] = head[w] + v if w in head else v
        done = g + 1
        # Counter subtraction's result: what is left after the gap, in the whole dump's order.
        after = [left for w, c in whole.items() if (left := c - before.get(w, 0)) > 0]
        out[g] = (_cosine(head, _window(vectors, g + 1, len(vectors))),
                  (one_topic - _topic_cost(before.values(), vocabulary)
                   - _topic_cost(after, vocabulary)) / n_words)
    return out


def cut_features(
    lines: Sequence[Line], content: Sequence[int], x: NDArray[np.float32],
    probs: NDArray[np.float64], *, words: Words | None = None,
) -> tuple[list[int], NDArray[np.float32]]:
    """A dump's cut candidates and one CUT_NAMES row for each.

    The candidates are the gaps the thresholds' rule would cut from CUT_CANDIDATE_MIN_P (read at
    call time): at or above it, and the strongest within SUPPRESS_REACH gaps. `words` are the
    content lines' bags and vectors, as gap features read them (read again when None).
    """
    found = pick_boundaries(probs, threshold=CUT_CANDIDATE_MIN_P)
    if not found:
        return [], np.zeros((0, len(CUT_NAMES)), dtype=np.float32)
    order = sorted(found, key=lambda g: (-probs[g], g))
    rank = {g: r for r, g in enumerate(order)}
    top = float(probs[order[0]])
    heads = [1.0 if line.p is None else line.p for line in lines if line.label is Label.HEADLINE]
    dropped = sum(line.label not in CONTENT_LABELS for line in lines) / len(lines)
    blank = sum(line.blank_before > 0 for line in lines) / len(lines)
    strong = sum(probs[g] >= _STRONG_P for g in found)
    if words is None:
        bags = [Counter(_tokens(lines[i].text)) for i in content]
        words = (bags, _weights(bags))
    sides = _sides(words, found)
    rows = []
    for g in found:
        r = rank[g]
        below = float(probs[order[r + 1]]) if r + 1 < len(order) else CUT_CANDIDATE_MIN_P / 2
        p = float(probs[g])
        rows.append([
            _logit(p), _logit(p) - _logit(top), _logit(p) - _logit(below), math.log1p(r),
            math.log1p(strong), math.log1p(len(probs)), math.log1p(len(content)),
            float(bool(heads)), max(heads, default=0.0), dropped, blank, (g + 1) / len(probs),
            *sides[g], *x[g].tolist(),
        ])
    return found, np.asarray(rows, dtype=np.float32)


def choose_cuts(
    dumps: Sequence[Sequence[Line]], gaps: Sequence[tuple[list[int], NDArray[np.float32]]],
    probs: Sequence[NDArray[np.float64]], *, model: Any, words: Sequence[Words] | None = None,
) -> list[list[int]]:
    """Per dump, the candidate gaps the cut model gives CUT_THRESHOLD or more; one model call.

    `words` are each dump's content words as gap features read them (read again when None).
    """
    known: Sequence[Words | None] = [None] * len(dumps) if words is None else words
    found = [cut_features(lines, content, x, mine, words=mine_words)
             for lines, (content, x), mine, mine_words
             in zip(dumps, gaps, probs, known, strict=True)]
    rows = [f for _, f in found if len(f)]
    scores = model.predict_proba(np.vstack(rows))[:, 1] if rows else np.zeros(0)
    out, start = [], 0
    for candidates, f in found:
        mine = scores[start : start + len(f)]
        start += len(f)
        out.append([g for g, q in zip(candidates, mine.tolist(), strict=True)
                    if q >= CUT_THRESHOLD])
    return out


def fit_cuts(dumps: Sequence[AnnotatedDump], folds: NDArray[np.int64], *, seed: int) -> Any:
    """Train the cut model on dumps labelled as the labeller labels them, by fold.

    Each fold's candidates come from a boundary model fit on the other folds (`folds` gives
    each dump's), so the scores it learns from are those of unseen dumps. None when there is
    nothing to learn from (no candidate, or candidates of one kind only): segmenting then keeps
    the thresholds.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    pairs = [gap_truth(d) for d in dumps]
    contents = [[i for i, line in enumerate(d.lines) if line.label in CONTENT_LABELS]
                for d in dumps]
    xs: list[NDArray[np.float32]] = []
    ys: list[int] = []
    for k in sorted(set(folds.tolist())):
        rest = [pair for pair, f in zip(pairs, folds.tolist(), strict=True) if f != k]
        if not any(len(x) for x, _ in rest) or len({int(v) for _, y in rest for v in y}) < 2:
            continue
        boundary = _fit_boundary(rest, seed=seed)
        for i in np.flatnonzero(folds == k).tolist():
            x, truth = pairs[i]
            if not len(x):
                continue
            found, rows = cut_features(dumps[i].lines, contents[i], x, boundary_proba(boundary, x))
            xs.append(rows)
            ys += [int(truth[g]) for g in found]
    if len(set(ys)) < 2:
        return None
    model = HistGradientBoostingClassifier(
        max_iter=CUT_ROUNDS, max_leaf_nodes=CUT_LEAVES, learning_rate=CUT_LEARNING_RATE,
        l2_regularization=CUT_L2, early_stopping=False, random_state=seed,
    )
    return model.fit(np.vstack(xs), np.asarray(ys, dtype=np.int64))


def dump_boundary_proba(
    model: Any, gaps: Sequence[tuple[list[int], NDArray[np.float32]]]
) -> list[NDArray[np.float64]]:
    """Per dump, the boundary probability of each of its gaps, in one model call for them all."""
    rows = [x for _, x in gaps if len(x)]
    probs = boundary_proba(model, np.vstack(rows)) if rows else np.zeros(0)
    bounds = np.cumsum([0, *(len(x) for _, x in gaps)]).tolist()
    return [probs[a:b] for a, b in itertools.pairwise(bounds)]


def place_cuts(
    dumps: Sequence[Sequence[Line]], contents: Sequence[Sequence[int]],
    picked: Sequence[Sequence[int]], *, position: Any = None,
) -> list[list[int]]:
    """Segment indices per line, given each dump's content lines and the gaps picked for a cut.

    Where, among the dropped lines of a cut gap, the new segment starts is the cut-position
    model's choice (cut_position's rule without one); a cut that would leave a segment with no
    body line is undone (_drop_bodyless).
    """
    runs: list[tuple[Sequence[Line], int, int]] = []
    owner: list[int] = []
    for d, (lines, content, gaps) in enumerate(zip(dumps, contents, picked, strict=True)):
        runs += [(lines, content[g], content[g + 1]) for g in gaps]
        owner += [d] * len(gaps)
    if position is not None:
        firsts = learned_positions(runs, model=position)
    else:
        firsts = [cut_position(lines, left, right) for lines, left, right in runs]
    starts: list[list[int]] = [[] for _ in dumps]
    for d, first in zip(owner, firsts, strict=True):
        starts[d].append(first)
    return [_assign(len(lines), _drop_bodyless(lines, mine_starts))
            for lines, mine_starts in zip(dumps, starts, strict=True)]


def titled(lines: Sequence[Line]) -> bool:
    """Whether a labelled dump holds a headline at p >= TITLED_MIN_P (a line with no p: 1)."""
    return any(line.label is Label.HEADLINE and (1.0 if line.p is None else line.p)
               >= TITLED_MIN_P for line in lines)


def _assign(n: int, starts: Sequence[int]) -> list[int]:
    """Segment index per line given the indices where new segments start."""
    out, seg, cuts = [], 0, set(starts)
    for i in range(n):
        if i in cuts:
            seg += 1
        out.append(seg)
    return out


def _drop_bodyless(lines: Sequence[Line], starts: Sequence[int]) -> list[int]:
    """Remove cuts that would leave a segment with no body line (a lone title or byline).

    Such a segment joins the one before it; the first one joins the one after it.
    """
    cuts = sorted(set(starts))
    while cuts:
        bounds = [0, *cuts, len(lines)]
        empty = next((k for k in range(len(bounds) - 1)
                      if not any(line.label is Label.BODY
                                 for line in lines[bounds[k] : bounds[k + 1]])), None)
        if empty is None:
            break
        del cuts[max(empty - 1, 0)]
    return cuts


def boundary_proba(model: Any, x: NDArray[np.float32]) -> NDArray[np.float64]:
    """Boundary probability of each gap row: one model's, or the mean of a sequence of models'."""
    models = model if isinstance(model, list | tuple) else [model]
    # Summed in a fixed order, then divided: the same rows give the same floats on every run.
    total = np.zeros(x.shape[0], dtype=np.float64)
    for one in models:
        total += one.predict_proba(x)[:, 1]
    return total / len(models)


def fit_boundaries(
    dumps: Sequence[AnnotatedDump], *, seed: int, bags: int | None = None
) -> Any:
    """The gap classifier on the gold labels and pages of dumps (real and synthetic).

    With `bags` > 1 (default BOUNDARY_BAGS, read at call time), a list of that many, each fit on
    a bootstrap resample of the dumps that have gaps (drawn with replacement, by dump, from
    `seed`); segment_many averages them.
    """
    bags = BOUNDARY_BAGS if bags is None else bags
    if bags < 1:
        raise ValueError(f"bags must be 1 or more, not {bags}")
    pairs = [gap_truth(d) for d in dumps]
    if bags == 1:
        return _fit_boundary(pairs, seed=seed)
    # Dumps without a gap teach nothing; resampling only the others, no bag is left empty.
    pairs = [p for p in pairs if len(p[0])]
    draws = np.random.default_rng(seed).integers(0, len(pairs), size=(bags, len(pairs)))
    return [_fit_boundary([pairs[i] for i in draw], seed=seed) for draw in draws.tolist()]


def _fit_boundary(
    pairs: Sequence[tuple[NDArray[np.float32], NDArray[np.int64]]], *, seed: int
) -> Any:
    """One gap classifier on (features, is-boundary) pairs of dumps."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = np.vstack([p[0] for p in pairs if len(p[0])])
    y = np.concatenate([p[1] for p in pairs if len(p[1])])
    model = HistGradientBoostingClassifier(
        max_iter=BOUNDARY_ROUNDS, max_leaf_nodes=BOUNDARY_LEAVES,
        learning_rate=BOUNDARY_LEARNING_RATE, l2_regularization=BOUNDARY_L2,
        early_stopping=False, random_state=seed,
    )
    return model.fit(x, y)
