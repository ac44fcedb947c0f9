"""Properties of the whole pipeline over random and hostile text (Hypothesis, 500 examples in CI).

Every non-blank line gets exactly one label; the records' lines and the dropped lines partition
the non-blank lines in order; a record's text is its body lines joined; output does not depend
on the run or the batch; and nothing but a CleanerError escapes the library, nor anything but
`error:` lines and exit codes 0/1 the command line. The example count comes from the Hypothesis
profile (tests/conftest.py): small by default, 500 with HYPOTHESIS_PROFILE=ci.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from cleaner.annotated import read_dumps
from cleaner.cli import cleaner
from cleaner.errors import CleanerError, InputError
from cleaner.label import Model, default_model_path
from cleaner.pipeline import Cleaned, clean, clean_documents
from cleaner.read import BINARY_SNIFF_BYTES, is_html, read_document
from cleaner.types import CONTENT_LABELS, Document, Label

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# Examples vary a lot in cost (one line to a few thousand); the count comes from the profile.
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

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
)
# Characters that break naive text handling: controls and NUL, Unicode line and paragraph
# separators (str.splitlines cuts at them, the pipeline must not), bidi and zero-width marks,
# combining marks, a BOM mid-text, non-characters, astral and private-use code points.
ODD_CHARACTERS = (
    "\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1c", "\x1e", "\x1f", "\x7f",
    "\x85", "\xa0", "\xad", "\u0301", "\u0308", "\u0336", "\u20dd", "\u200b", "\u200c",
    "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202e", "\u2066", "\u2069", "\u2028",
    "\u2029", "\u3000", "\ufeff", "\ufffd", "\ufdd0", "\uffff", "\U0001f600", "\U000e0001",
    "\U000f0000", "\U0010ffff", "\u05d0", "\u0627", "\u4e2d", "\u0915", "\u094d",
)  # fmt: skip
# Whitespace-only lines the pipeline must treat as blank (str.strip removes all of these).
BLANKISH = st.text(alphabet=" \t\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2028\u3000", max_size=6)
# "Very long words": bounded so that 500 examples stay within the CI budget.
LONG_WORD_CHARS = 20_000

word = st.one_of(
    st.sampled_from(("the", "ferry", "council", "2019", "By", "|", "©", "—", "...")),
    st.text(max_size=15),
    st.text(alphabet=st.sampled_from(ODD_CHARACTERS), min_size=1, max_size=8),
    st.builds(
        lambda c, n: c * n, st.characters(codec="utf-8"), st.integers(200, LONG_WORD_CHARS)
    ),
)
generated_line = st.lists(word, min_size=1, max_size=12).flatmap(
    lambda words: st.sampled_from((" ", "  ", "\t")).map(lambda sep: sep.join(words))
)
line_text = st.one_of(st.sampled_from(TYPICAL_LINES), generated_line, BLANKISH)


@st.composite
def line_lists(draw: st.DrawFn, *, max_lines: int = 30) -> list[str]:
    """Lines with runs of blanks and repeated lines, as scrapes have them."""
    lines: list[str] = []
    for _ in range(draw(st.integers(0, max_lines))):
        kind = draw(st.sampled_from(("line", "line", "line", "blank run", "repeat")))
        if kind == "blank run":
            lines.extend([""] * draw(st.integers(1, 5)))
        elif kind == "repeat" and lines:
            lines.extend([draw(st.sampled_from(lines))] * draw(st.integers(1, 4)))
        else:
            lines.append(draw(line_text))
    return lines


# Line ends the library receives as is (the pipeline splits at "\n" only: a lone CR stays in
# its line, and strip() drops the CR of a CRLF); the reader turns CRLF and CR into LF first.
line_end = st.sampled_from(("\n", "\r\n", "\r"))
dump_text = st.tuples(line_lists(), line_end).map(lambda pair: pair[1].join(pair[0]))


@cache
def fixture_texts() -> tuple[str, ...]:
    """The seed dumps and the annotated fixtures' texts, for random joins of real scrapes."""
    dumps = [path.read_text(encoding="utf-8") for path in sorted(FIXTURES.glob("dumps/*.txt"))]
    annotated = [
        dump.text
        for path in sorted(FIXTURES.glob("annotated/*.jsonl"))
        for dump in read_dumps(path)
    ]
    return (*dumps, *annotated)


@st.composite
def fixture_joins(draw: st.DrawFn) -> str:
    """A run of pieces of real dumps (a random slice of each), as a concatenated scrape has."""
    texts = fixture_texts()
    pieces = []
    for _ in range(draw(st.integers(1, 4))):
        lines = texts[draw(st.integers(0, len(texts) - 1))].split("\n")
        start = draw(st.integers(0, len(lines) - 1))
        stop = draw(st.integers(start + 1, len(lines)))
        pieces.append("\n".join(lines[start:stop]))
    gaps = [draw(st.sampled_from(("\n", "\n\n", "\n\n\n\n"))) for _ in pieces[1:]]
    out = pieces[0]
    for gap, piece in zip(gaps, pieces[1:], strict=True):
        out += gap + piece
    return out


def non_blank(text: str) -> list[tuple[int, str]]:
    """(1-based number, stripped text) of every line holding more than whitespace, split at LF."""
    return [(i, line.strip()) for i, line in enumerate(text.split("\n"), start=1) if line.strip()]


def check_invariants(text: str, cleaned: Cleaned) -> None:
    """Every invariant of one cleaned dump against the raw text it came from."""
    expected = non_blank(text)
    numbers = [number for number, _ in expected]
    # One labelled line per non-blank input line, in order, with its text.
    assert [(line.number, line.text) for line in cleaned.lines] == expected
    assert all(isinstance(line.label, Label) and line.p is not None for line in cleaned.lines)
    assert all(0.0 <= (line.p or 0.0) <= 1.0 for line in cleaned.lines)
    # Content lines go into a record; the others are dropped.
    for line, article in zip(cleaned.lines, cleaned.articles, strict=True):
        assert (article is not None) == (line.label in CONTENT_LABELS)
    # Records and dropped lines partition the non-blank lines exactly, in order: records are
    # runs of increasing line numbers, each ahead of the next.
    in_records = [n for record in cleaned.records for n in record.lines]
    dropped = [line.number for line in cleaned.dropped]
    assert sorted(in_records + dropped) == numbers
    assert len(set(in_records + dropped)) == len(numbers)
    assert in_records == sorted(in_records)
    assert all(record.lines for record in cleaned.records), "a record holds at least one line"
    # A line's article index is the record that holds it; a record's text is its body lines.
    by_number = {line.number: line for line in cleaned.lines}
    for k, record in enumerate(cleaned.records):
        assert record.id == f"{cleaned.source}#{k}"
        assert record.source == cleaned.source
        assert [n for n, a in zip(numbers, cleaned.articles, strict=True) if a == k] == list(
            record.lines
        )
        body = [by_number[n].text for n in record.lines if by_number[n].label is Label.BODY]
        assert record.text == "\n".join(body)
        headlines = [by_number[n].text for n in record.lines
                     if by_number[n].label is Label.HEADLINE]
        assert record.title == (headlines[0] if headlines else None)


# --- invariants -----------------------------------------------------------------------------


@PROPERTY
@given(text=dump_text)
@example(text="")
@example(text="\r\n\r\n \t\r\n")
@example(text="a\rb\r\rc")
@example(text="\u2028x\u2029\x85y\x0c")
def test_invariants_on_random_dumps(model: Model, text: str) -> None:
    [cleaned] = clean_documents([Document("rand.txt", text)], model=model, detect_language=False)
    check_invariants(text, cleaned)


@PROPERTY
@given(text=fixture_joins())
def test_invariants_on_joined_fixture_dumps(model: Model, text: str) -> None:
    [cleaned] = clean_documents([Document("joined.txt", text)], model=model)
    check_invariants(text, cleaned)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("dumps/*.txt")), ids=lambda p: p.name[:3])
def test_invariants_on_seed_dumps(model: Model, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    [cleaned] = clean_documents([Document(str(path), text)], model=model)
    check_invariants(text, cleaned)
    assert cleaned.records, "every seed scrape holds at least one article"
    assert all(record.lang == "en" for record in cleaned.records if record.text)


@PROPERTY
@given(lines=line_lists(), end=line_end, bom=st.booleans())
@example(lines=["a", "", "b"], end="\r", bom=True)
@example(lines=["a\x00b"], end="\n", bom=False)
@example(lines=["\ufeff"], end="\n", bom=False)
@example(lines=["\ufeffa"], end="\n", bom=True)
def test_read_then_clean_accounts_for_every_line(
    model: Model, lines: list[str], end: str, bom: bool
) -> None:
    raw = end.join(lines)
    data = (b"\xef\xbb\xbf" if bom else b"") + raw.encode("utf-8")
    if is_html(data):
        return  # the HTML path rewrites the text; the fuzz target and test_read cover it
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        with pytest.raises(InputError, match="binary content"):
            read_document("-", stdin=io.BytesIO(data))
        return
    document = read_document("-", stdin=io.BytesIO(data))
    # The reader drops one leading BOM (the explicit one, else a U+FEFF opening the text) and
    # cuts lines at CRLF, CR and LF alike; nothing else moves.
    text = raw if bom else raw.removeprefix("\ufeff")
    assert document.text.split("\n") == re.split(r"\r\n|\r|\n", text)
    [cleaned] = clean_documents([document], model=model, detect_language=False)
    check_invariants(document.text, cleaned)


# --- determinism --------------------------------------------------------------------------------


# Found by this property (tests/regressions/batch/ keeps the case): float running sums over the
# whole batch in label.context_matrix let the dumps before a line move its context features
# (fixed: each dump has its own sums).
@settings(PROPERTY, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(texts=st.lists(st.one_of(dump_text, fixture_joins()), min_size=1, max_size=4))
@example(texts=[";", "Ferry service returns to the harbour after two years"])
def test_batch_equals_one_by_one(model: Model, texts: list[str]) -> None:
    docs = [Document(f"d{i}", text) for i, text in enumerate(texts)]
    batch = clean_documents(docs, model=model, detect_language=False)
    alone = [clean_documents([doc], model=model, detect_language=False)[0] for doc in docs]
    for text, one, other in zip(texts, batch, alone, strict=True):
        check_invariants(text, one)
        assert one == other


@PROPERTY
@given(text=st.one_of(dump_text, fixture_joins()))
def test_output_is_deterministic(model: Model, text: str) -> None:
    first = clean_documents([Document("a", text)], model=model)
    second = clean_documents([Document("a", text)], model=model)
    assert first == second


# --- nothing escapes ------------------------------------------------------------------------


@PROPERTY
@given(text=st.one_of(st.text(max_size=300), dump_text))
def test_only_cleaner_errors_escape_the_library(model: Model, text: str) -> None:
    try:
        records = clean(text, source="x", model=model)
    except CleanerError:
        return
    assert all(record.source == "x" for record in records)


# What a file handed to the command line may hold: text in any encoding, HTML-ish markup,
# random bytes (binary sniffing, invalid UTF-8).
html_ish = st.lists(
    st.one_of(
        st.sampled_from(("<html>", "<body>", "<p>", "</p>", "<br>", "<div>", "<title>",
                         "<!--", "-->", "<script>", "&amp;", "&#0;", "&#x110000;", "<h1>")),
        generated_line,
    ),
    max_size=20,
).map(lambda parts: "<!doctype html>" + "".join(parts))
file_bytes = st.one_of(
    st.binary(max_size=2_000),
    st.tuples(dump_text, st.sampled_from(("utf-8", "utf-16", "latin-1", "cp1252"))).map(
        lambda pair: pair[0].encode(pair[1], errors="replace")
    ),
    html_ish.map(lambda page: page.encode("utf-8", errors="replace")),
)


@cache
def runner() -> CliRunner:
    """One CliRunner; exceptions are caught so that a traceback shows up as a failed check."""
    return CliRunner(catch_exceptions=True)


@PROPERTY
@given(data=file_bytes, suffix=st.sampled_from((".txt", ".html", "")), command=st.sampled_from(
    ("split", "label")))
@example(data=b"\xff\xfe\x00", suffix=".txt", command="split")
@example(data=b"<html>", suffix=".html", command="split")
def test_cli_never_shows_a_traceback(data: bytes, suffix: str, command: str) -> None:
    if not default_model_path().exists():
        pytest.skip("shipped model not built yet")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"input{suffix}"
        source.write_bytes(data)
        out, dropped = Path(tmp) / "out.jsonl", Path(tmp) / "dropped.jsonl"
        args = [command, str(source), "-o", str(out)]
        if command == "split":
            args += ["--dropped", str(dropped), "-q"]
        result = runner().invoke(cleaner, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert "Traceback" not in result.output
        assert result.exit_code in (0, 1)
        if result.exit_code == 1:
            # One line naming the file, and no output file started.
            [line] = result.stderr.splitlines()
            assert line.startswith(f"error: {source}: ")
            assert not out.exists() and not dropped.exists()
            return
        assert result.stderr == ""
        # Every non-blank line of what the reader made of the file, each in one place.
        expected = [number for number, _ in non_blank(read_document(str(source)).text)]
        if command == "label":
            assert [row["line"] for row in jsonl(out)] == expected
        else:
            assert _split_numbers(out, dropped) == expected


def _split_numbers(out: Path, dropped: Path) -> list[int]:
    """The line numbers of every record and every dropped line of a split run, sorted."""
    in_records = [n for row in jsonl(out) for n in row["lines"]]
    # A line in two places would show up twice here, and fail the caller's check.
    return sorted(in_records + [row["line"] for row in jsonl(dropped)])


def jsonl(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSON Lines file, cut at "\\n" only (U+2028 may sit inside a string)."""
    data = path.read_text(encoding="utf-8")
    assert data == "" or data.endswith("\n")
    return [json.loads(row) for row in data.split("\n")[:-1]]
