"""Features of lines in their dump: hashed words, shape, cue patterns and context.

Everything here is vectorised over a whole dump (one regex scan of the joined text per cue,
numpy for the context windows) because the labeller's throughput is bounded by this module.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cleaner.types import Line

Matrix = NDArray[np.float32]

# Hashed vocabulary size: 2**15 buckets keeps the shipped model at a few MB while collisions
# among the few thousand cue words that matter stay rare.
HASH_FEATURES = 2**15
# Token pattern shared by the hasher and the lexical-cohesion code in segment.
TOKEN_PATTERN = r"(?u)\b\w\w*\b"
# Neighbour offsets whose shape features every line sees.
NEIGHBOURS = (-2, -1, 1, 2)

# A compact English stopword list (function words): body text is dense in them, furniture is not
# (the observation behind jusText). Used through the hasher, so it costs no extra tokenisation.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves said says also""".split()
)

_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DAYS = r"mon|tue|wed|thu|fri|sat|sun"
# Cue patterns, scanned once over the joined dump text (re.M: ^ and $ are line ends).
CUES: tuple[tuple[str, str], ...] = (
    ("date", rf"\b(?:{_MONTHS})\.?\s+\d{{1,2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\b"
     r"|\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b"),
    ("year", r"\b(?:19|20)\d\d\b"),
    ("time", r"\b\d{1,2}:\d\d\b|\b\d{1,2}\s?[ap]\.?m\b"),
    ("weekday", rf"\b(?:{_DAYS})[a-z]*\b"),
    ("by_start", r"^(?:[^\w\n]{0,3})(?:by|posted by|written by|von|par|por)\s+[A-Z]"),
    ("author_kw", r"\b(?:author|reporter|correspondent|editor|staff writer|contributor)s?\b"),
    ("published", r"\b(?:published|updated|posted|last modified|first published)\b"),
    ("agency", r"\b(?:reuters|associated press|AP|AFP|UPI|Bloomberg|PA)\b"),
    ("read_more", r"\b(?:read|see|learn|continue|click|view)\s+(?:more|here|full|all|the full)\b"
     r"|\b(?:related|recommended|popular|most read|trending|see also|also read)\b"),
    ("comment_kw", r"\b(?:comments?|repl(?:y|ies)|commented|leave a|post a|said\.\.\.|wrote:)\b"),
    ("share_kw", r"\b(?:share|tweet|facebook|twitter|linkedin|pinterest|whatsapp|e-?mail|print"
     r"|subscribe|newsletter|sign (?:up|in)|log ?in|follow us)\b"),
    ("legal_kw", r"©|\(c\)|\bcopyright\b|all rights reserved|\bprivacy\b|\bcookies?\b|\bterms\b"),
    ("media_kw", r"\b(?:photo|image|picture|video|getty|caption|credit|file photo)s?\b"),
    ("tag_kw", r"\b(?:tags?|tagged|filed under|categor(?:y|ies)|topics?)\b:?"),
    ("url", r"https?://|www\.|\.com\b|@\w"),
    ("pipe", r"\|"),
    ("bullet_start", r"^[-•►▶*·–—»>]\s*"),
    ("quote_start", r"^[\"“”'‘]"),
    ("ellipsis_end", r"(?:\.\.\.|…|»|›)\s*$"),
    ("terminal_end", r"[.!?][\"'”’)\]]*\s*$"),
    ("colon_end", r":\s*$"),
    ("number_start", r"^\(?\d{1,2}[.)]\s"),
)
# Cues matched case-sensitively (agency acronyms would fire on "ap" or "pa" otherwise).
_CASE_SENSITIVE = {"agency", "by_start"}
_CUE_RES = tuple(
    re.compile(pattern, re.M if name in _CASE_SENSITIVE else re.I | re.M)
    for name, pattern in CUES
)

OWN_NAMES = (
    "log_chars", "log_words", "mean_word_len", "upper_ratio", "title_ratio", "digit_ratio",
    "stop_ratio", "log_blank_before", "log_blank_after", "rel_pos", "log_pos", "log_pos_end",
    "log_repeats", "same_as_prev", "rel_len", "punct_ratio", "n_sentences",
    *(f"cue_{name}" for name, _ in CUES),
)
_NEIGHBOUR_COLUMNS = ("log_words", "stop_ratio", "cue_terminal_end", "log_chars")
DENSE_NAMES = (
    *OWN_NAMES,
    *(f"n{off:+d}_{col}" for off in NEIGHBOURS for col in _NEIGHBOUR_COLUMNS),
)


def make_hasher() -> Any:
    """The word hasher: lowercased word counts into HASH_FEATURES buckets (stateless)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        n_features=HASH_FEATURES,
        alternate_sign=False,
        norm=None,
        token_pattern=TOKEN_PATTERN,
        dtype=np.float32,
    )


def stopword_buckets(hasher: Any) -> NDArray[np.float32]:
    """A 0/1 vector over hash buckets marking the buckets of STOPWORDS."""
    marks = hasher.transform(sorted(STOPWORDS))
    out = np.zeros(hasher.n_features, dtype=np.float32)
    out[marks.indices] = 1.0
    return out


def _cue_matrix(lines: Sequence[Line]) -> Matrix:
    """One 0/1 column per cue: does the cue match inside the line."""
    joined = "\n".join(line.text for line in lines)
    # Start offset of each line in `joined`, to map match positions to line indices.
    starts = np.cumsum([0] + [len(line.text) + 1 for line in lines[:-1]])
    out = np.zeros((len(lines), len(_CUE_RES)), dtype=np.float32)
    for col, pattern in enumerate(_CUE_RES):
        positions = [m.start() for m in pattern.finditer(joined)]
        if positions:
            rows = np.searchsorted(starts, positions, side="right") - 1
            out[rows, col] = 1.0
    return out


def _shape(text: str) -> tuple[float, float, float, float, float, float]:
    """Per-line counts that need a pass over the characters: letters, upper, digits..."""
    words = text.split()
    n_words = len(words)
    letters = sum(c.isalpha() for c in text)
    upper = sum(c.isupper() for c in text)
    digits = sum(c.isdigit() for c in text)
    titled = sum(w[:1].isupper() for w in words)
    sentences = text.count(". ") + text.count("? ") + text.count("! ")
    return (
        float(n_words),
        upper / letters if letters else 0.0,
        titled / n_words if n_words else 0.0,
        digits / len(text) if text else 0.0,
        1.0 - (letters + text.count(" ")) / len(text) if text else 0.0,
        float(sentences),
    )


def dense_features(lines: Sequence[Line], words: Any, stop_buckets: NDArray[np.float32]) -> Matrix:
    """Shape, cue and context features of every line of one dump (rows follow `lines`)."""
    n = len(lines)
    if n == 0:
        return np.zeros((0, len(DENSE_NAMES)), dtype=np.float32)
    texts = [line.text for line in lines]
    shape = np.array([_shape(t) for t in texts], dtype=np.float32).reshape(n, 6)
    n_words, upper, titled, digits, punct, sentences = shape.T
    chars = np.array([len(t) for t in texts], dtype=np.float32)
    tokens = np.asarray(words.sum(axis=1)).ravel()
    stops = np.asarray(words @ stop_buckets).ravel()
    stop_ratio = np.divide(stops, tokens, out=np.zeros(n, dtype=np.float32), where=tokens > 0)
    blank_before = np.array([line.blank_before for line in lines], dtype=np.float32)
    blank_after = np.append(blank_before[1:], 1.0)
    pos = np.arange(n, dtype=np.float32)
    counts = Counter(texts)
    repeats = np.array([counts[t] - 1 for t in texts], dtype=np.float32)
    same_as_prev = np.array([0.0] + [float(a == b) for a, b in zip(texts, texts[1:])],
                            dtype=np.float32)
    rel_len = chars / max(float(np.median(chars)), 1.0)
    own = np.column_stack(
        [
            np.log1p(chars), np.log1p(n_words), chars / np.maximum(n_words, 1.0),
            upper, titled, digits, stop_ratio,
            np.log1p(blank_before), np.log1p(blank_after),
            pos / max(n - 1, 1), np.log1p(pos), np.log1p(n - 1 - pos),
            np.log1p(repeats), same_as_prev, np.log1p(rel_len), punct, np.log1p(sentences),
            _cue_matrix(lines),
        ]
    ).astype(np.float32)
    index = {name: i for i, name in enumerate(OWN_NAMES)}
    cols = [index[c] for c in _NEIGHBOUR_COLUMNS]
    return np.hstack([own, *(shifted(own[:, cols], off) for off in NEIGHBOURS)])


def shifted(values: Matrix, offset: int, *, fill: float = -1.0) -> Matrix:
    """Rows of `values` moved so row i holds row i+offset (`fill` past either end)."""
    out = np.full_like(values, fill)
    n = values.shape[0]
    if offset > 0 and offset < n:
        out[: n - offset] = values[offset:]
    elif offset < 0 and -offset < n:
        out[-offset:] = values[: n + offset]
    elif offset == 0:
        out[:] = values
    return out
