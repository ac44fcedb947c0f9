"""Features of lines in their dump: hashed words, shape, cue words and context.

The labeller's throughput is bounded by this module, so nothing here loops over characters or
runs a regex per line: a batch is tokenised once and each distinct word (and short lines' word
pair) hashed once (MurmurHash3, as scikit-learn's hashers), cue words are looked up through the
word matrix, and character classes are counted with numpy over the
code points of the whole dump.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cleaner.types import Line

Matrix = NDArray[np.float32]

# Hashed vocabulary size: 2**15 buckets keeps the shipped model at a few MB while collisions
# among the few thousand cue words that matter stay rare.
HASH_FEATURES = 2**15
# Adjacent word pairs of lines of at most this many words are hashed into PAIR_FEATURES buckets
# of their own, for stage 1 only: short lines are where a phrase says more than its words ("click
# here to read more", "leave a comment", "related posts"), long ones are prose. The recipe's
# value, read when a Vocabulary is made without one (so bench.recipe's --set reaches it); a model
# records its own in its card, and a card without one was trained with none. 12, as `make train`
# (explicitly, --word-pairs 12) since 2026-12-07: with the layouts and blog fixtures it lifted
# macro-F1 and held-out concat counts and kept every seed right; without those fixtures it lost
# the gate's cut into a headless story after a comment thread (docs/recipes.md, "Word pairs over
# seeds" and "Word pairs with the layouts and blog fixtures").
PAIR_MAX_WORDS = 12
PAIR_FEATURES = 2**15
# Words, and the newlines between lines: one findall over a whole batch tokenises every line.
_TOKENS = re.compile(r"\w+|\n")
# Words whose buckets a Vocabulary remembers across batches: enough for a language's common words,
# and a bound on memory however many distinct tokens a long run meets (the cache is then emptied).
BUCKET_CACHE_SIZE = 2**18
# Neighbour offsets whose shape features every line sees.
NEIGHBOURS = (-2, -1, 1, 2)

# A compact English stopword list (function words): body text is dense in them, furniture is not
# (the observation behind jusText). Counted through the hashed words: no extra tokenising.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    said says also""".split()  # noqa: SIM905
)

# Cue words by role, looked up in the hashed word counts (so case-insensitive for free).
# "a.m p.m" is a known quirk: the word pattern cuts them into "a", "m" and "p", so cue_ampm fires
# on nearly every body line (the article "a"; the strict xfail in tests/test_features.py). The
# shipped model has learnt around it; without them (2026-12-05, three training seeds) the seeds'
# lines and bare dumps gained but every seed's model lost the gate's cut from a comment thread
# ("June 14, 2024 at 9:41 am" headers) into the next story (docs/recipes.md). Fix it with a
# retrain that keeps that cut.
CUE_WORDS: tuple[tuple[str, str], ...] = (
    ("month", "jan january feb february mar march apr april may jun june jul july aug august sep "
              "sept september oct october nov november dec december"),
    ("weekday", "mon monday tue tuesday wed wednesday thu thursday fri friday sat saturday sun "
                "sunday today yesterday ago"),
    ("year", " ".join(str(y) for y in range(1990, 2036))),
    ("ampm", "am pm a.m p.m et gmt utc est pst bst cet"),
    ("author", "by author authors reporter correspondent editor writer staff contributor"),
    ("published", "published updated posted modified"),
    ("agency", "reuters ap afp upi bloomberg pa press agency"),
    ("more", "read more continue full story here related recommended popular trending also see"),
    ("comment", "comment comments reply replies commented wrote says leave post login"),
    ("share", "share tweet facebook twitter linkedin pinterest whatsapp email print subscribe "
              "newsletter sign follow rss"),
    ("legal", "copyright reserved rights privacy cookies cookie terms policy"),
    ("media", "photo photos image picture video getty caption credit images"),
    ("tags", "tags tag tagged filed category categories topics"),
    ("web", "http https www com html"),
)

_BULLETS = "-•►▶*·–—»>"
_QUOTES = "\"“”'‘’"
_CLOSERS = "\"'”’)]"
_TERMINAL = ".!?"

SHAPE_NAMES = (
    "log_chars", "log_words", "mean_word_len", "upper_ratio", "title_ratio", "digit_ratio",
    "punct_ratio", "stop_ratio", "log_sentences", "log_pipes", "digit_colon_digit",
    "digit_sep_digit", "terminal_end", "colon_end", "ellipsis_end", "open_end", "bullet_start",
    "quote_start", "number_start", "by_start", "all_caps",
)
CONTEXT_NAMES = (
    "log_blank_before", "log_blank_after", "rel_pos", "log_pos", "log_pos_end", "log_repeats",
    "same_as_prev", "rel_len",
)
OWN_NAMES = (*SHAPE_NAMES, *(f"cue_{name}" for name, _ in CUE_WORDS), *CONTEXT_NAMES)
_NEIGHBOUR_COLUMNS = ("log_words", "stop_ratio", "terminal_end", "log_chars")
DENSE_NAMES = (
    *OWN_NAMES,
    *(f"n{off:+d}_{col}" for off in NEIGHBOURS for col in _NEIGHBOUR_COLUMNS),
)


@dataclass(frozen=True)
class Vocabulary:
    """Bucket masks over the hashed words (stopwords, cue-word groups) and a cache of buckets."""

    stop_buckets: NDArray[np.float32]  # 0/1 per bucket
    cue_buckets: Any  # sparse (buckets x cues) 0/1
    # Lines of at most this many words also get their word pairs hashed (0: none; hash_pairs).
    pair_max_words: int = 0
    # Already-hashed words and pairs, kept across batches: most of a batch's were in the one
    # before.
    buckets: dict[str, int] = field(default_factory=dict, compare=False, repr=False)


def murmurhash3(token: str) -> int:
    """The non-negative 32-bit MurmurHash3 of a token (seed 0), as scikit-learn's hashers use."""
    # mmh3 gives scikit-learn's murmurhash3_32(positive=True) bit for bit (tests check it), in
    # a module that loads in milliseconds: importing scikit-learn for it took about a second.
    import mmh3

    return int(mmh3.hash(token, 0, signed=False))


def bucket(token: str) -> int:
    """The hash bucket of a lowercased word."""
    return murmurhash3(token) % HASH_FEATURES


def token_codes(texts: Sequence[str]) -> tuple[list[str], NDArray[np.int64]]:
    """A batch's distinct lowercased tokens (words and the newlines between texts) and its codes.

    One regex call over the whole batch; each token's code is its index in the distinct list, so
    words and pairs are hashed once per distinct string and the rest is numpy.
    """
    tokens = _TOKENS.findall("\n".join(texts).lower())
    distinct = list(dict.fromkeys(tokens))
    index = {token: i for i, token in enumerate(distinct)}
    codes = np.fromiter(map(index.__getitem__, tokens), dtype=np.int64, count=len(tokens))
    return distinct, codes


def _cache(cache: dict[str, int] | None) -> dict[str, int]:
    """The bucket cache to use: the caller's (emptied once it outgrows its bound) or a new one."""
    if cache is None:
        return {}
    if len(cache) > BUCKET_CACHE_SIZE:
        cache.clear()
    return cache


def _word_counts(
    n_texts: int, distinct: list[str], codes: NDArray[np.int64], known: dict[str, int]
) -> Any:
    """hash_words' matrix from a batch's token codes."""
    from scipy import sparse

    for token in distinct:
        if token not in known:
            known[token] = -1 if token == "\n" else bucket(token)
    buckets = np.array([known[token] for token in distinct], dtype=np.int64)[codes]
    newline = buckets < 0
    rows = np.cumsum(newline)[~newline]
    cols = buckets[~newline]
    data = np.ones(len(cols), dtype=np.float32)
    matrix = sparse.csr_matrix((data, (rows, cols)), shape=(n_texts, HASH_FEATURES))
    matrix.sum_duplicates()
    return matrix


def _pair_counts(
    n_texts: int, distinct: list[str], codes: NDArray[np.int64], known: dict[str, int],
    max_words: int,
) -> Any:
    """hash_pairs' matrix from a batch's token codes."""
    from scipy import sparse

    newline = codes == (distinct.index("\n") if "\n" in distinct else -1)
    row_of = np.cumsum(newline)
    words_in = np.bincount(row_of[~newline], minlength=n_texts)
    short = (words_in >= 2) & (words_in <= max_words)
    # A pair starts at each word followed by a word: no newline between, so the same text.
    first = np.flatnonzero(~newline[:-1] & ~newline[1:])
    first = first[short[row_of[first]]]
    # Each distinct pair as one integer, so only distinct pairs are built as strings.
    size = max(len(distinct), 1)
    pairs, inverse = np.unique(codes[first] * size + codes[first + 1], return_inverse=True)
    pair_buckets = np.empty(len(pairs), dtype=np.int64)
    firsts, seconds = divmod(pairs, size)
    for k, (a, b) in enumerate(zip(firsts.tolist(), seconds.tolist(), strict=True)):
        pair = f"{distinct[a]} {distinct[b]}"
        col = known.get(pair)
        if col is None:
            # A pair holds a space and a word never does: one cache serves both.
            col = known[pair] = murmurhash3(pair) % PAIR_FEATURES
        pair_buckets[k] = col
    cols = pair_buckets[inverse.reshape(-1)]
    data = np.ones(len(cols), dtype=np.float32)
    matrix = sparse.csr_matrix((data, (row_of[first], cols)), shape=(n_texts, PAIR_FEATURES))
    matrix.sum_duplicates()
    return matrix


def hash_words(texts: Sequence[str], *, cache: dict[str, int] | None = None) -> Any:
    """Lowercased word counts of each text in HASH_FEATURES buckets (a CSR matrix, row per text).

    The same idea as scikit-learn's HashingVectorizer (MurmurHash3 buckets, though not its exact
    bucket of each word), but one regex call for the whole batch and a dict of already-hashed
    words make it several times faster on many short lines.
    """
    known = _cache(cache)
    return _word_counts(len(texts), *token_codes(texts), known)


def hash_pairs(
    texts: Sequence[str], *, max_words: int, cache: dict[str, int] | None = None
) -> Any:
    """Adjacent lowercased word-pair counts of short texts in PAIR_FEATURES buckets (CSR, row each).

    Only texts of 2 to `max_words` words have pairs; the others get an empty row.
    """
    known = _cache(cache)
    return _pair_counts(len(texts), *token_codes(texts), known, max_words)


def hash_words_and_pairs(
    texts: Sequence[str], *, max_words: int, cache: dict[str, int] | None = None
) -> tuple[Any, Any]:
    """hash_words and hash_pairs of a batch from one tokenisation (most of their cost)."""
    known = _cache(cache)
    distinct, codes = token_codes(texts)
    return (_word_counts(len(texts), distinct, codes, known),
            _pair_counts(len(texts), distinct, codes, known, max_words))


def pair_setting(pair_max_words: int | None = None) -> int:
    """The word-pair setting: as given, else the recipe's PAIR_MAX_WORDS (read now)."""
    return PAIR_MAX_WORDS if pair_max_words is None else pair_max_words


def vocabulary(*, pair_max_words: int | None = None) -> Vocabulary:
    """The stopword and cue-word bucket masks; word pairs as given, else the recipe's."""
    from scipy import sparse

    stops = np.zeros(HASH_FEATURES, dtype=np.float32)
    stops[[bucket(w) for w in STOPWORDS]] = 1.0
    cue_rows = hash_words([words for _, words in CUE_WORDS])
    cue_rows.data[:] = 1.0
    return Vocabulary(stops, sparse.csc_matrix(cue_rows.T), pair_setting(pair_max_words))


def _segment_sums(
    masks: Sequence[NDArray[np.bool_]], starts: NDArray[np.int64]
) -> list[NDArray[np.float32]]:
    """Per-line counts of per-code-point masks (lines start at `starts`), one numpy pass each."""
    # One reduceat per contiguous mask: on a column-stacked (code points x masks) array the
    # strided reduction took most of shape_features' time, and the integer counts are the same.
    return [np.add.reduceat(mask.view(np.uint8), starts, dtype=np.int32).astype(np.float32)
            for mask in masks]


def _in(codes: NDArray[np.uint32], chars: str) -> NDArray[np.bool_]:
    """Which code points are among `chars`."""
    return np.isin(codes, np.array([ord(c) for c in chars], dtype=np.uint32))


def shape_features(texts: Sequence[str], words: Any, vocab: Vocabulary) -> Matrix:
    """Shape columns (SHAPE_NAMES) of every line, counted over the dump's code points at once."""
    n = len(texts)
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64)
    ends = starts + lengths  # one past each line's last code point
    cp = np.frombuffer("\n".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    upper = ((cp >= 65) & (cp <= 90)) | ((cp >= 0xC0) & (cp <= 0xDE) & (cp != 0xD7))
    lower = ((cp >= 97) & (cp <= 122)) | ((cp >= 0xDF) & (cp <= 0x24F) & (cp != 0xF7))
    letter = upper | lower | (cp >= 0x370) & ~((cp >= 0x2000) & (cp <= 0x2BFF))
    digit = (cp >= 48) & (cp <= 57)
    space = (cp == 32) | (cp == 9)
    # The newline joining two lines starts a word but is no character of either line: a line's
    # features must not depend on which other lines share its batch.
    prev_space = np.concatenate([[True], space[:-1] | (cp[:-1] == 10)])
    nxt = np.concatenate([cp[1:], [10]])
    word_start = ~space & prev_space
    # The digit mask shifted by one, not a second isin over the code points: the newlines padding
    # either end are no digit.
    digit_prev = np.concatenate([[False], digit[:-1]])
    digit_next = np.concatenate([digit[1:], [False]])
    (n_words, letters, uppers, titled, digits, spaces, sentences, pipes, clocks,
     dates) = _segment_sums([
        word_start, letter, upper, upper & prev_space, digit, space,
        _in(cp, _TERMINAL) & (nxt == 32), cp == ord("|"),
        (cp == ord(":")) & digit_prev & digit_next, _in(cp, "/.-") & digit_prev & digit_next,
    ], starts)
    chars = lengths.astype(np.float32)
    tokens = np.asarray(words.sum(axis=1)).ravel()
    stops = np.asarray(words @ vocab.stop_buckets).ravel()
    first = cp[starts]
    last = cp[ends - 1]
    before_last = cp[np.maximum(ends - 2, starts)]
    terminal = _in(last, _TERMINAL) | (_in(last, _CLOSERS) & _in(before_last, _TERMINAL))
    lowered = [t[:3].lower() for t in texts]
    safe = np.maximum(chars, 1.0)
    columns = [
        np.log1p(chars),
        np.log1p(n_words),
        chars / np.maximum(n_words, 1.0),
        uppers / np.maximum(letters, 1.0),
        titled / np.maximum(n_words, 1.0),
        digits / safe,
        1.0 - (letters + spaces) / safe,
        np.divide(stops, tokens, out=np.zeros(n, dtype=np.float32), where=tokens > 0),
        np.log1p(sentences),
        np.log1p(pipes),
        clocks > 0,
        dates > 1,
        terminal,
        last == ord(":"),
        (last == ord("…")) | ((last == ord(".")) & (before_last == ord("."))) | _in(last, "»›"),
        letter[ends - 1] | (last == ord(",")),
        _in(first, _BULLETS),
        _in(first, _QUOTES),
        digit[starts] & _in(cp[np.minimum(starts + 1, ends - 1)], ".)0123456789"),
        np.array([t == "by " for t in lowered], dtype=bool),
        (uppers == letters) & (letters > 3),
    ]
    return np.column_stack(columns).astype(np.float32)


def dump_bounds(sizes: Sequence[int]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For every row of a batch of dumps: the first row of its dump and one past its last."""
    ends = np.cumsum(sizes, dtype=np.int64)
    starts = ends - np.asarray(sizes, dtype=np.int64)
    return np.repeat(starts, sizes), np.repeat(ends, sizes)


def context_columns(lines: Sequence[Line], sizes: Sequence[int], chars: Matrix) -> Matrix:
    """Where each line sits in its dump (CONTEXT_NAMES): blank runs, position, repeats."""
    start, end = dump_bounds(sizes)
    row = np.arange(len(lines))
    pos = (row - start).astype(np.float32)
    last = (end - 1 - row).astype(np.float32)
    blank_before = np.array([line.blank_before for line in lines], dtype=np.float32)
    blank_after = np.where(last > 0, np.append(blank_before[1:], 1.0), 1.0)
    texts = [line.text for line in lines]
    repeats = np.zeros(len(lines), dtype=np.float32)
    medians = np.ones(len(lines), dtype=np.float32)
    for a, b in zip(np.cumsum([0, *sizes[:-1]]), np.cumsum(sizes), strict=True):
        counts = Counter(texts[a:b])
        repeats[a:b] = [counts[t] - 1 for t in texts[a:b]]
        if b > a:
            medians[a:b] = max(float(np.median(chars[a:b])), 1.0)
    same = np.array([0.0] + [float(x == y) for x, y in itertools.pairwise(texts)], dtype=np.float32)
    same[pos == 0] = 0.0
    return np.column_stack([
        np.log1p(blank_before), np.log1p(blank_after),
        pos / np.maximum(pos + last, 1.0), np.log1p(pos), np.log1p(last),
        np.log1p(repeats), same, np.log1p(chars / medians),
    ]).astype(np.float32)


def dense_features(
    lines: Sequence[Line], words: Any, vocab: Vocabulary, *, sizes: Sequence[int] | None = None
) -> Matrix:
    """Shape, cue and context features of the lines of a batch of dumps of `sizes` lines each."""
    sizes = [len(lines)] if sizes is None else [s for s in sizes if s]
    if not lines:
        return np.zeros((0, len(DENSE_NAMES)), dtype=np.float32)
    texts = [line.text for line in lines]
    shape = shape_features(texts, words, vocab)
    cues = (words @ vocab.cue_buckets).toarray() > 0
    chars = np.array([len(t) for t in texts], dtype=np.float32)
    own = np.hstack([shape, cues.astype(np.float32), context_columns(lines, sizes, chars)])
    index = {name: i for i, name in enumerate(OWN_NAMES)}
    cols = [index[c] for c in _NEIGHBOUR_COLUMNS]
    start, end = dump_bounds(sizes)
    return np.hstack([own, *(shifted(own[:, cols], off, start=start, end=end)
                             for off in NEIGHBOURS)])


def shifted(
    values: Matrix, offset: int, *, start: NDArray[np.int64], end: NDArray[np.int64],
    fill: float = -1.0,
) -> Matrix:
    """Row i gets row i+offset of the same dump (`fill` past either end of the dump)."""
    n = values.shape[0]
    source = np.arange(n) + offset
    inside = (source >= start) & (source < end)
    out = np.full_like(values, fill)
    out[inside] = values[source[inside]]
    return out
