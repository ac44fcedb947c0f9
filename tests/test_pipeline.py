"""Tests of cleaner.pipeline on fixed inputs; its invariants over random dumps are properties in
tests/test_properties.py (500 examples each in CI)."""

from __future__ import annotations

from pathlib import Path

from cleaner.label import Model
from cleaner.pipeline import clean_documents, label_lines
from cleaner.types import Document

DUMPS = Path(__file__).resolve().parent.parent / "fixtures" / "dumps"


def test_label_lines_matches_clean_documents(model: Model) -> None:
    text = (DUMPS / "004_4c2784c82f799182.txt").read_text(encoding="utf-8")
    [cleaned] = clean_documents([Document("d", text)], model=model, detect_language=False)
    assert label_lines(text, model=model) == list(cleaned.lines)


def test_empty_and_blank_dumps(model: Model) -> None:
    for text in ("", "\n\n", "  \n\t\n"):
        [cleaned] = clean_documents([Document("e", text)], model=model)
        assert cleaned.lines == ()
        assert cleaned.articles == ()
        assert cleaned.records == ()
    assert clean_documents([], model=model) == []


def test_a_comment_section_goes_into_no_record(model: Model) -> None:
    text = (DUMPS / "004_4c2784c82f799182.txt").read_text(encoding="utf-8")
    [plain] = clean_documents([Document("d", text)], model=model, detect_language=False)
    start = plain.lines[len(plain.lines) // 2].number
    [marked] = clean_documents([Document("d", text, comments_from=start)], model=model,
                               detect_language=False)
    assert [line.number for line in marked.lines] == [line.number for line in plain.lines]
    in_records = {n for record in marked.records for n in record.lines}
    assert in_records and all(n < start for n in in_records)
    # Every line of the section is still accounted for: dropped, with a label that says so.
    assert {line.number for line in marked.dropped} >= {
        line.number for line in marked.lines if line.number >= start}
