"""Turn segmented, labelled lines into Records: title, byline, date, language and text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cleaner.types import CONTENT_LABELS, Label, Line, Record

# langdetect reads this much of a record: enough for a stable answer, and its cost grows with it.
LANG_SAMPLE_CHARS = 400
# langdetect's random restarts (its default is 7): each costs as much as the rest of a record's
# processing, and on a paragraph of news text 3 already agree.
LANG_TRIALS = 3
LANG_SEED = 0
# Distinct words whose langdetect n-grams are remembered (a few MB at most).
WORD_NGRAM_CACHE = 2**16
# Code points whose langdetect normal form is remembered: a script's worth, while a run through
# adversarial text could otherwise fill the table with all 1.1 million.
NORMALIZED_CACHE = 2**16
BYLINE_SEPARATOR = " | "
# What langdetect's Detector counts and skips a character at a time (VectorDetector).
_SPACES = re.compile(" {2,}")
_LATIN = re.compile("[A-z]")
_NON_LATIN = re.compile("[\u0300-\U0010ffff]")
_NOT_LATIN_BYTES = bytes(b for b in range(256) if not ord("A") <= b <= ord("z"))

_MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
# Date forms seen in bylines, most specific first.
_DATE_PATTERNS = tuple(
    re.compile(p, re.I)
    for p in (
        rf"\b{_YEAR}-(?P<m>\d\d)-(?P<d>\d\d)(?!\d)",
        rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b",
        rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b",
        rf"\b(?P<a>\d{{1,2}})[/.](?P<b>\d{{1,2}})[/.]{_YEAR}\b",
    )
)


def parse_date(text: str) -> str | None:
    """The first calendar date in a byline as ISO 8601 (YYYY-MM-DD), or None if there is none."""
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            parts = match.groupdict()
            year = int(parts["year"])
            if parts.get("m"):
                month, day = int(parts["m"]), int(parts["d"])
            elif parts.get("month"):
                month, day = _MONTHS[parts["month"].lower()], int(parts["day"])
            else:
                a, b = int(parts["a"]), int(parts["b"])
                # 14/01/2008 is day-first; 01/14/2008 month-first; 05/06/2008 is read day-first,
                # the convention of most of the world's news sites.
                day, month = (a, b) if a > 12 or b <= 12 else (b, a)
            try:
                return date(year, month, day).isoformat()
            except ValueError:
                continue
    return None


class WordProbs:
    """langdetect's n-gram -> per-language probabilities, each vector built when first asked for.

    langdetect's own loader builds all 88,000 vectors of 55 floats up front (0.17 s, more than
    the rest of a small file's work); a record needs a few hundred. The values are the ones
    DetectorFactory.add_profile computes, in the same order of languages.
    """

    def __init__(self, profiles: Sequence[dict[str, Any]]) -> None:
        self._profiles = [(p["freq"], p["n_words"]) for p in profiles]
        self._words = frozenset(w for freq, _ in self._profiles for w in freq)
        self._cache: dict[str, NDArray[np.float64]] = {}

    def __contains__(self, word: object) -> bool:
        return word in self._words

    @property
    def words(self) -> frozenset[str]:
        """Every n-gram that has a vector (a set: fast membership in a tight loop)."""
        return self._words

    def __getitem__(self, word: str) -> NDArray[np.float64]:
        probs = self._cache.get(word)
        if probs is None:
            if word not in self._words:
                raise KeyError(word)
            n = len(word)
            probs = np.array([(1.0 * freq.get(word, 0) / n_words[n - 1]) if 1 <= n <= 3 else 0.0
                              for freq, n_words in self._profiles], dtype=np.float64)
            self._cache[word] = probs
        return probs


@lru_cache(maxsize=1)
def _detector_class() -> Any:
    """langdetect's Detector with its per-n-gram update done on numpy vectors of languages."""
    from langdetect.detector import Detector
    from langdetect.lang_detect_exception import ErrorCode, LangDetectException
    from langdetect.utils.ngram import NGram

    known = _language_factory().word_lang_prob_map.words

    @lru_cache(maxsize=WORD_NGRAM_CACHE)
    def word_ngrams(word: str, spaced: bool) -> list[str]:
        """langdetect's n-grams of one normalised word, from a fresh buffer, in its order."""
        found: list[str] = []
        grams, capital = " ", False
        for ch in word + " " if spaced else word:
            last = grams[-1]
            if len(grams) >= NGram.N_GRAM:
                grams = grams[1:]
            grams += ch
            # Two capitals in a row make an acronym, skipped until a lower-case letter.
            if ch.isupper():
                if last.isupper():
                    capital = True
            else:
                capital = False
            if capital:
                continue
            for n in range(1, min(len(grams), NGram.N_GRAM) + 1):
                gram = grams[-n:]
                if gram != " " and gram in known:
                    found.append(gram)
        return found

    class Normalized(dict[int, str]):
        """NGram.normalize of every character met so far, by code point: a str.translate table
        that fills itself in (a character's normal form depends on the character alone)."""

        def __missing__(self, code: int) -> str:
            if len(self) >= NORMALIZED_CACHE:
                self.clear()  # emptied, not trimmed: forms are recomputed, never wrong
            ch: str = NGram.normalize(chr(code))
            self[code] = ch
            return ch

    normalized = Normalized()

    class VectorDetector(Detector):  # type: ignore[misc]
        """The same IEEE operations as langdetect's loops, element by element.

        Each sampled n-gram multiplies every language's probability (a Python loop over 55
        languages, most of langdetect's time); normalising divides each by their left-to-right
        sum. Done on arrays, the products and quotients are the same, so the result is too.
        The n-grams of the text are listed as langdetect lists them, a word at a time.
        """

        text: str  # the text appended so far (langdetect's attribute)
        forms = normalized  # shared by every detector; bounded by NORMALIZED_CACHE

        def _extract_ngrams(self) -> list[str]:
            # langdetect's NGram.add_char and its caller's loop, a word at a time: its n-gram
            # buffer starts afresh after every space, so a word's n-grams depend on the word
            # alone (and on whether a space follows it), and words repeat. The cache holds the
            # shipped profiles' n-grams: a detector given other profiles lists them its own way.
            if getattr(self.word_lang_prob_map, "words", None) is not known:
                return list(super()._extract_ngrams())
            parts = self.text.translate(self.forms).split(" ")
            found: list[str] = []
            for k, part in enumerate(parts):
                if part:
                    found += word_ngrams(part, k < len(parts) - 1)
            return found

        def append(self, text: str) -> None:
            # langdetect's loop adds the text a character at a time, skipping a space that
            # follows a space: every run of spaces becomes one, which a regex does at C speed.
            # Each substitution is skipped where a substring test shows it cannot match (a
            # URL starts with http, an e-mail address holds @, Vietnamese normalisation needs
            # one of its combining marks, a run needs two spaces): most texts have none.
            if "http" in text:
                text = self.URL_RE.sub(" ", text)
            if "@" in text:
                text = self.MAIL_RE.sub(" ", text)
            if any(mark in text for mark in NGram.DMARK_CLASS):
                text = NGram.normalize_vi(text)
            text = text[: self.max_text_length]
            self.text += _SPACES.sub(" ", text) if "  " in text else text

        def cleaning_text(self) -> None:
            # langdetect's count, without a loop over characters: the characters from A to z
            # are ASCII bytes, counted once the rest is deleted. Its test for the Latin
            # Extended Additional block compares unicode_block's number with a name, so it
            # never excludes anything: every character from U+0300 counts as non-Latin.
            latin = len(self.text.encode("ascii", "ignore").translate(None, _NOT_LATIN_BYTES))
            if latin * 2 < len(_NON_LATIN.findall(self.text)):
                self.text = _LATIN.sub("", self.text)

        def _init_probability(self) -> NDArray[np.float64]:
            return np.array(super()._init_probability(), dtype=np.float64)

        def _update_lang_prob(self, prob: NDArray[np.float64], word: str | None,
                              alpha: float) -> bool:
            if word is None or word not in self.word_lang_prob_map:
                return False
            prob *= alpha / self.BASE_FREQ + self.word_lang_prob_map[word]
            return True

        def _normalize_prob(self, prob: NDArray[np.float64]) -> float:
            values: list[float] = prob.tolist()
            total = sum(values)  # Python's sum: langdetect's order of additions
            prob /= total
            # Division by a positive number keeps the order of floats (rounding is
            # monotonic), so the largest quotient is the largest value divided. (Every factor
            # is positive, so the total is; the fallback only keeps that an assumption.)
            return max(values) / total if total > 0 else float(prob.max())

        def _detect_block(self) -> None:
            # langdetect's _detect_block with its per-n-gram calls inlined: the same random
            # draws in the same order, the same products and normalisations. Every listed
            # n-gram is in the map (_extract_ngrams keeps only those), so none is skipped.
            if self.verbose:
                super()._detect_block()
                return
            self.cleaning_text()
            ngrams = self._extract_ngrams()
            if not ngrams:
                raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
            self.langprob = [0.0] * len(self.langlist)
            self.random.seed(self.seed)
            choice, table, normalize = self.random.choice, self.word_lang_prob_map, \
                self._normalize_prob
            for _ in range(self.n_trial):
                prob = self._init_probability()
                alpha = self.alpha + self.random.gauss(0.0, 1.0) * self.ALPHA_WIDTH
                weight = alpha / self.BASE_FREQ
                i = 0
                while True:
                    prob *= weight + table[choice(ngrams)]
                    if i % 5 == 0 and (normalize(prob) > self.CONV_THRESHOLD
                                       or i >= self.ITERATION_LIMIT):
                        break
                    i += 1
                for j in range(len(self.langprob)):
                    self.langprob[j] += prob[j] / self.n_trial

    return VectorDetector


@lru_cache(maxsize=1)
def _language_factory() -> Any:
    """langdetect's profiles, loaded once and seeded so that detection is deterministic."""
    import json
    from pathlib import Path

    from langdetect import DetectorFactory
    from langdetect.detector_factory import PROFILES_DIRECTORY

    # Sorted, where langdetect takes the directory's listing order (which the filesystem
    # decides): the order of languages breaks ties, and output must not depend on the machine.
    files = sorted(p for p in Path(PROFILES_DIRECTORY).iterdir()
                   if p.is_file() and not p.name.startswith("."))
    profiles = [json.loads(p.read_text(encoding="utf-8")) for p in files]
    factory = DetectorFactory()
    factory.langlist = [p["name"] for p in profiles]
    factory.word_lang_prob_map = WordProbs(profiles)
    factory.seed = LANG_SEED
    return factory


def detect_language(text: str, *, sample_chars: int = LANG_SAMPLE_CHARS) -> str | None:
    """ISO 639-1 code of the text's language (langdetect, seeded), None when it has no letters."""
    from langdetect.lang_detect_exception import LangDetectException

    sample = text[:sample_chars]
    if not any(c.isalpha() for c in sample):
        return None
    detector = _detector_class()(_language_factory())
    detector.n_trial = LANG_TRIALS
    detector.append(sample)
    try:
        return str(detector.detect())
    except LangDetectException:
        return None


def build_record(
    lines: Sequence[Line],
    *,
    source: str,
    index: int,
    detect: bool = True,
    url: str | None = None,
    date: str | None = None,
) -> Record:
    """One Record from the content lines of one segment; `date` is used when no byline has one."""
    content = [line for line in lines if line.label in CONTENT_LABELS]
    headlines = [line.text for line in content if line.label is Label.HEADLINE]
    bylines = [line.text for line in content if line.label is Label.BYLINE]
    text = "\n".join(line.text for line in content if line.label is Label.BODY)
    found = (parse_date(b) for b in bylines)
    return Record(
        id=f"{source}#{index}",
        source=source,
        title=headlines[0] if headlines else None,
        byline=BYLINE_SEPARATOR.join(dict.fromkeys(bylines)) or None,
        date=next((d for d in found if d), date),
        lang=detect_language(text) if detect and text else None,
        text=text,
        lines=tuple(line.number for line in content),
        url=url,
    )


def build_records(
    lines: Sequence[Line],
    segments: Sequence[int],
    *,
    source: str,
    detect: bool = True,
    url: str | None = None,
    date: str | None = None,
) -> list[Record]:
    """The records of a segmented dump: one per segment that holds content lines, in order.

    `url` and `date` are the document's (from its container): every record carries the URL, and
    the date when its byline lines give none.
    """
    groups: dict[int, list[Line]] = {}
    for line, seg in zip(lines, segments, strict=True):
        if line.label in CONTENT_LABELS:
            groups.setdefault(seg, []).append(line)
    return [
        build_record(group, source=source, index=k, detect=detect, url=url, date=date)
        for k, (_, group) in enumerate(sorted(groups.items()))
    ]
