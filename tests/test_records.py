"""Tests of cleaner.records: dates from bylines, language, and records from labelled lines."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleaner.records import (
    LANG_SAMPLE_CHARS,
    LANG_SEED,
    LANG_TRIALS,
    NORMALIZED_CACHE,
    _detector_class,
    _language_factory,
    build_record,
    build_records,
    detect_language,
    parse_date,
)
from cleaner.types import Label, Line


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        ("Friday, 22 February, 2019 - 12:00", "2019-02-22"),
        ("► Author: X | Date: 24 July 2019 | Permalink", "2019-07-24"),
        ("July 24, 2019 1 Comment", "2019-07-24"),
        ("14/01/2008 1:40:00 PM.", "2008-01-14"),
        ("01/14/2008", "2008-01-14"),
        ("05/06/2008", "2008-06-05"),
        ("Published 2023-05-12T08:30:00Z", "2023-05-12"),
        ("Published 2023-05-12 08:30", "2023-05-12"),
        ("August 8, 2019 by Joseph Fitsanakis Leave a comment", "2019-08-08"),
        ("Posted on Sept. 3rd, 2021 by admin", "2021-09-03"),
        ("Updated: 12 May 2023 | 4 min read", "2023-05-12"),
        ("1st of March 2020", "2020-03-01"),
        ("By JANE DOE, DEC 1, 2015", "2015-12-01"),
        ("12.03.2012", "2012-03-12"),
        ("Posted by X on February 30, 2019, then March 2, 2019", "2019-03-02"),
        ("By Jane Doe, Staff Writer", None),
        ("Source: Stars and Stripes", None),
        ("Reporter’s code: 50101", None),
        ("3 Comments", None),
        ("", None),
        ("May 2019", None),
    ],
    ids=[
        "weekday-day-month-comma-year-time", "author-date-permalink", "month-day-comments",
        "day-first-slashes", "month-first-slashes", "ambiguous-slashes-day-first",
        "iso-timestamp", "iso",
        "date-by-author", "abbrev-ordinal", "updated-day-month", "day-of-month", "upper-abbrev",
        "dotted", "invalid-then-valid", "author-only", "source-only", "reporter-code",
        "comment-count", "empty", "month-year-only",
    ],
)
def test_parse_date(byline: str, expected: str | None) -> None:
    assert parse_date(byline) == expected


@given(st.text())
def test_parse_date_never_fails(text: str) -> None:
    found = parse_date(text)
    assert found is None or (len(found) == 10 and found[4] == "-" and found[7] == "-")


ENGLISH = ("The council voted on Tuesday to reopen the harbour ferry after two years of repairs, "
           "and the first boats will run again next month.")
GERMAN = ("Der Stadtrat hat am Dienstag beschlossen, die Hafenfähre nach zwei Jahren Reparatur "
          "wieder in Betrieb zu nehmen; die ersten Boote fahren im nächsten Monat.")
FRENCH = ("Le conseil municipal a voté mardi la réouverture du bac du port après deux ans de "
          "travaux, et les premiers bateaux circuleront le mois prochain.")


@pytest.mark.parametrize(("text", "expected"), [(ENGLISH, "en"), (GERMAN, "de"), (FRENCH, "fr")],
                         ids=["en", "de", "fr"])
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "12345 -- 678", "   ", "© 2019 …"],
                         ids=["empty", "digits", "spaces", "symbols"])
def test_detect_language_without_letters(text: str) -> None:
    assert detect_language(text) is None


def test_detect_language_is_deterministic() -> None:
    # langdetect is random unless seeded; short mixed text is where unseeded runs disagree.
    mixed = "Ja oui yes si da"
    assert len({detect_language(mixed) for _ in range(20)}) == 1
    assert detect_language(ENGLISH + " " + GERMAN) == detect_language(ENGLISH + " " + GERMAN)


SPANISH = "El ayuntamiento votó el martes la reapertura del ferry del puerto tras dos años."
RUSSIAN = "Городской совет во вторник проголосовал за возобновление работы паромной переправы."
CHINESE = "市议会周二投票决定在两年的维修后重新开放港口渡轮。"


def stock_factory() -> Any:
    """langdetect's own factory, profiles loaded its way, seeded like ours."""
    from langdetect import DetectorFactory
    from langdetect.detector_factory import PROFILES_DIRECTORY

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = LANG_SEED
    return factory


def test_word_probs_are_langdetects_own() -> None:
    # The lazy map must hold the words langdetect's loader holds, with its values per language.
    stock, ours = stock_factory(), _language_factory()
    order = [stock.langlist.index(lang) for lang in ours.langlist]
    assert sorted(stock.langlist) == ours.langlist
    words = sorted(stock.word_lang_prob_map)
    assert all(w in ours.word_lang_prob_map for w in words)
    assert "no such n-gram" not in ours.word_lang_prob_map
    for word in words[::97]:  # about 900 of them, every length
        expected = stock.word_lang_prob_map[word]
        assert ours.word_lang_prob_map[word].tolist() == [expected[k] for k in order]
    with pytest.raises(KeyError):
        ours.word_lang_prob_map["no such n-gram"]


@pytest.mark.parametrize("text", [ENGLISH, GERMAN, FRENCH, SPANISH, RUSSIAN, CHINESE, "Ja oui yes"],
                         ids=["en", "de", "fr", "es", "ru", "zh", "mixed"])
def test_detect_language_as_langdetect_does(text: str) -> None:
    detector = stock_factory().create()
    detector.n_trial = LANG_TRIALS
    detector.append(text[:LANG_SAMPLE_CHARS])
    assert detect_language(text) == detector.detect()


class ListVectors:
    """Our word map with plain lists for vectors, as langdetect's own Detector expects them."""

    def __init__(self, vectors: Any) -> None:
        self.vectors = vectors

    def __contains__(self, word: object) -> bool:
        return word in self.vectors

    def __getitem__(self, word: str) -> list[float]:
        return list(self.vectors[word].tolist())


@pytest.mark.parametrize("text", [ENGLISH, GERMAN, FRENCH, SPANISH, RUSSIAN, CHINESE, "Ja oui yes",
                                  ENGLISH + " " + GERMAN],
                         ids=["en", "de", "fr", "es", "ru", "zh", "mixed", "en-de"])
def test_vector_detector_equals_langdetects_loops(text: str) -> None:
    # Not just the same language: the same probabilities to the last bit, on the same profiles.
    from langdetect.detector import Detector

    ours = _language_factory()
    stock = SimpleNamespace(word_lang_prob_map=ListVectors(ours.word_lang_prob_map),
                            langlist=ours.langlist, seed=ours.seed)
    found = []
    for detector in (Detector(stock), _detector_class()(ours)):
        detector.n_trial = LANG_TRIALS
        detector.append(text[:LANG_SAMPLE_CHARS])
        found.append([(lang.lang, float(lang.prob)) for lang in detector.get_probabilities()])
    assert found[0] == found[1]


# Letters of many scripts and cases, digits, punctuation, spaces: every branch of langdetect's
# character normalisation and of its capital-word rule.
_LANGDETECT_CHARS = st.text(
    alphabet=st.sampled_from("aBcDeÉéÿß ,.-'’“0123 AZ\u0219\u021bИвž市议渡"
                             "\u3042\u30a2\u06ccكا\u1ea1\uac00\u3105"),
    max_size=300,
)


@given(_LANGDETECT_CHARS)
def test_vector_detector_lists_langdetects_own_ngrams(text: str) -> None:
    from langdetect.detector import Detector

    detector = _detector_class()(_language_factory())
    detector.append(text)
    detector.cleaning_text()
    assert detector._extract_ngrams() == Detector._extract_ngrams(detector)


def test_vector_detector_with_other_profiles_lists_their_ngrams() -> None:
    # Its per-word cache holds the shipped profiles' n-grams; another map must not be served them.
    from langdetect.detector import Detector

    ours = _language_factory()
    only_a = SimpleNamespace(word_lang_prob_map={"a": None}, langlist=ours.langlist, seed=0)
    detector = _detector_class()(only_a)
    detector.append("a cat and a banana")
    detector.cleaning_text()
    assert detector._extract_ngrams() == Detector._extract_ngrams(detector) == ["a"] * 7


def test_normal_forms_are_remembered_up_to_a_bound_and_stay_right() -> None:
    # The per-code-point table must not grow with the input: text running through more distinct
    # characters than NORMALIZED_CACHE is listed as langdetect lists it, the table stays small.
    from langdetect.detector import Detector

    forms = _detector_class().forms
    chunk = 4096
    start = 0xE000  # past the surrogates: private use, then plane 1
    for offset in range(0, NORMALIZED_CACHE + 2 * chunk, chunk):
        text = "".join(chr(start + offset + k) for k in range(chunk))
        detector = _detector_class()(_language_factory())
        detector.append(text)
        assert detector._extract_ngrams() == Detector._extract_ngrams(detector)
        assert len(forms) <= NORMALIZED_CACHE


def lines_of(*labelled: tuple[Label, str]) -> list[Line]:
    """Labelled lines numbered 1, 2, ..."""
    return [Line(number=i, text=text, label=label, p=0.9)
            for i, (label, text) in enumerate(labelled, start=1)]


DUMP = lines_of(
    (Label.BOILERPLATE, "Home | World | Sport"),
    (Label.HEADLINE, "Ferry returns to the harbour"),
    (Label.BYLINE, "By Jane Doe"),
    (Label.BYLINE, "Friday, 22 February, 2019 - 12:00"),
    (Label.BODY, ENGLISH),
    (Label.TEASER, "Read more ..."),
    (Label.BODY, "The mayor called it a good day for the town."),
    (Label.HEADLINE, "Frost hits the orchards"),
    (Label.HEADLINE, "Frost hits the orchards"),
    (Label.BODY, "Growers lost half of the apple blossom overnight."),
    (Label.COMMENT, "3 Comments"),
)


def test_build_records() -> None:
    segments = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
    records = build_records(DUMP, segments, source="dump.txt")
    assert [r.id for r in records] == ["dump.txt#0", "dump.txt#1"]
    first, second = records
    assert first.title == "Ferry returns to the harbour"
    assert first.byline == "By Jane Doe | Friday, 22 February, 2019 - 12:00"
    assert first.date == "2019-02-22"
    assert first.lang == "en"
    assert first.text == ENGLISH + "\nThe mayor called it a good day for the town."
    assert first.lines == (2, 3, 4, 5, 7)  # navigation and the teaser are left out
    assert second.title == "Frost hits the orchards"
    assert second.byline is None
    assert second.date is None
    assert second.text == "Growers lost half of the apple blossom overnight."
    assert second.lines == (8, 9, 10)


def test_build_records_with_the_documents_url_and_date() -> None:
    # A WARC page: every record carries its URL; the crawl date fills in only a missing one.
    segments = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
    url = "https://courier.example/news/ferry"
    records = build_records(DUMP, segments, source="c.warc.gz:3", url=url, date="2024-03-05")
    assert [r.url for r in records] == [url, url]
    assert [r.date for r in records] == ["2019-02-22", "2024-03-05"]
    assert [r.url for r in build_records(DUMP, segments, source="s", detect=False)] == [None] * 2


def test_build_records_skips_segments_without_content() -> None:
    # Segment 1 holds only a teaser and a comment: it makes no record, and the ids have no gap.
    lines = lines_of((Label.BODY, ENGLISH), (Label.TEASER, "Read more ..."),
                     (Label.COMMENT, "Leave a comment"), (Label.BODY, GERMAN))
    records = build_records(lines, [0, 1, 1, 2], source="s", detect=False)
    assert [r.id for r in records] == ["s#0", "s#1"]
    assert [r.lines for r in records] == [(1,), (4,)]
    assert all(r.lang is None for r in records)


def test_build_records_of_nothing() -> None:
    assert build_records([], [], source="empty") == []
    only_furniture = lines_of((Label.BOILERPLATE, "Menu"), (Label.COMMENT, "Leave a comment"))
    assert build_records(only_furniture, [0, 0], source="x") == []


def test_build_record_repeated_bylines_once() -> None:
    lines = lines_of((Label.BYLINE, "Reuters"), (Label.BODY, "Text."), (Label.BYLINE, "Reuters"))
    record = build_record(lines, source="s", index=4, detect=False)
    assert record.id == "s#4"
    assert record.byline == "Reuters"
    assert record.title is None


def test_build_record_headline_only_has_empty_text() -> None:
    record = build_record(lines_of((Label.HEADLINE, "Title")), source="s", index=0)
    assert record.text == ""
    assert record.lang is None
    assert record.lines == (1,)
