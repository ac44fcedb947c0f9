"""Invariants of cleaner.pipeline over random dumps: every line labelled once, nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cleaner.errors import CleanerError
from cleaner.label import Model, default_model_path, load_model
from cleaner.pipeline import Cleaned, clean, clean_documents, label_lines
from cleaner.types import CONTENT_LABELS, Document, Label

DUMPS = Path(__file__).resolve().parent.parent / "fixtures" / "dumps"
# Lines of the kinds a scrape holds, so random dumps reach every label and real segmentation.
TYPICAL_LINES = (
    "Ferry service returns to the harbour after two years",
    "By Jane Doe, Staff Writer",
    "Friday, 22 February, 2019 - 12:00",
    "The council voted on Tuesday to reopen the ferry, and the first boats run next month.",
    "Repairs to the pier cost more than expected, the mayor said, but the work is finished.",
    "Growers lost half of the apple blossom overnight when the frost came early this year.",
    "Frost hits the orchards",
    "Read More ...",
    "Click here to read more.",
    "Leave a comment",
    "3 Comments",
    "Share this: Facebook Twitter Email",
    "© 2019 Harbour Times. All rights reserved.",
    "Home | News | Sport | Weather",
    "- A summary bullet of the story",
    "",
    "   ",
    "\t",
)
line_text = st.one_of(
    st.sampled_from(TYPICAL_LINES),
    st.text(max_size=120),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
)
dump_text = st.lists(line_text, max_size=40).map("\n".join)
PIPELINE_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def model() -> Model:
    """The shipped model, loaded once for the module."""
    path = default_model_path()
    if not path.exists():
        pytest.skip(f"shipped model {path} not built yet (`make train`, then commit it)")
    return load_model(path)


def non_blank_numbers(text: str) -> list[int]:
    """1-based numbers of the lines that hold more than whitespace, as the pipeline counts them."""
    return [i for i, line in enumerate(text.split("\n"), start=1) if line.strip()]


def check_invariants(text: str, cleaned: Cleaned) -> None:
    """Every invariant of one cleaned dump (see the test names below)."""
    numbers = non_blank_numbers(text)
    # One labelled line per non-blank input line, in order.
    assert [line.number for line in cleaned.lines] == numbers
    assert all(isinstance(line.label, Label) and line.p is not None for line in cleaned.lines)
    assert all(0.0 <= (line.p or 0.0) <= 1.0 for line in cleaned.lines)
    # Content lines go into a record; the others are dropped.
    for line, article in zip(cleaned.lines, cleaned.articles, strict=True):
        assert (article is not None) == (line.label in CONTENT_LABELS)
    # Records and dropped lines partition the non-blank lines exactly.
    in_records = [n for record in cleaned.records for n in record.lines]
    dropped = [line.number for line in cleaned.dropped]
    assert sorted(in_records + dropped) == numbers
    assert len(set(in_records + dropped)) == len(numbers)
    # Records come in order, each a run of increasing line numbers ahead of the next record.
    for record in cleaned.records:
        assert list(record.lines) == sorted(record.lines)
        assert record.lines, "a record holds at least one line"
    for before, after in zip(cleaned.records, cleaned.records[1:], strict=False):
        assert before.lines[-1] < after.lines[0]
    # The article index of a line is the record that holds it; the text is its body lines.
    by_number = {line.number: line for line in cleaned.lines}
    for k, record in enumerate(cleaned.records):
        assert record.id == f"{cleaned.source}#{k}"
        assert [n for n, line in zip(numbers, cleaned.articles, strict=True) if line == k] == list(
            record.lines
        )
        body = [by_number[n].text for n in record.lines if by_number[n].label is Label.BODY]
        assert record.text == "\n".join(body)


@PIPELINE_SETTINGS
@given(text=dump_text)
def test_invariants_on_random_dumps(model: Model, text: str) -> None:
    [cleaned] = clean_documents([Document("rand.txt", text)], model=model, detect_language=False)
    check_invariants(text, cleaned)


@PIPELINE_SETTINGS
@given(texts=st.lists(dump_text, min_size=1, max_size=5))
@example(texts=[";", "Ferry service returns to the harbour after two years"])
def test_batch_equals_one_by_one(model: Model, texts: list[str]) -> None:
    docs = [Document(f"d{i}", text) for i, text in enumerate(texts)]
    batch = clean_documents(docs, model=model, detect_language=False)
    alone = [clean_documents([doc], model=model, detect_language=False)[0] for doc in docs]
    for text, one, other in zip(texts, batch, alone, strict=True):
        check_invariants(text, one)
        assert [(line.label, line.p) for line in one.lines] == [
            (line.label, line.p) for line in other.lines
        ]
        assert one.records == other.records


@PIPELINE_SETTINGS
@given(text=dump_text)
def test_output_is_deterministic(model: Model, text: str) -> None:
    first = clean_documents([Document("a", text)], model=model)
    second = clean_documents([Document("a", text)], model=model)
    assert first == second


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=300))
def test_only_cleaner_errors_escape(model: Model, text: str) -> None:
    try:
        records = clean(text, source="x", model=model)
    except CleanerError:
        return
    assert all(record.source == "x" for record in records)


@pytest.mark.parametrize("path", sorted(DUMPS.glob("*.txt")), ids=lambda p: p.name[:3])
def test_invariants_on_seed_dumps(model: Model, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    [cleaned] = clean_documents([Document(str(path), text)], model=model)
    check_invariants(text, cleaned)
    assert cleaned.records, "every seed scrape holds at least one article"
    assert all(record.lang == "en" for record in cleaned.records if record.text)


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
