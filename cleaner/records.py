"""Turn segmented, labelled lines into Records: title, byline, date, language and text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from cleaner.types import CONTENT_LABELS, Label, Line, Record

# langdetect reads this much of a record: enough for a stable answer, and its cost grows with it.
LANG_SAMPLE_CHARS = 400
# langdetect's random restarts (its default is 7): each costs as much as the rest of a record's
# processing, and on a paragraph of news text 3 already agree.
LANG_TRIALS = 3
LANG_SEED = 0
BYLINE_SEPARATOR = " | "

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


@lru_cache(maxsize=1)
def _language_factory() -> Any:
    """langdetect's profiles, loaded once and seeded so that detection is deterministic."""
    from langdetect import DetectorFactory
    from langdetect.detector_factory import PROFILES_DIRECTORY

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = LANG_SEED
    return factory


def detect_language(text: str, *, sample_chars: int = LANG_SAMPLE_CHARS) -> str | None:
    """ISO 639-1 code of the text's language (langdetect, seeded), None when it has no letters."""
    from langdetect.lang_detect_exception import LangDetectException

    sample = text[:sample_chars]
    if not any(c.isalpha() for c in sample):
        return None
    detector = _language_factory().create()
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
