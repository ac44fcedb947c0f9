"""Tests of cleaner.read: reading text, HTML and stdin, and splitting text into lines."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleaner.errors import CleanerError, InputError
from cleaner.read import (
    decode_html,
    decode_text,
    html_block_lines,
    html_text_and_comments,
    html_to_text,
    is_html,
    read_document,
    split_lines,
    too_deep_for_lxml,
)

HTML_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "html"


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# --- plain text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"one\ntwo\n", "one\ntwo\n"),
        (b"\xef\xbb\xbfwith BOM\n", "with BOM\n"),
        (b"crlf\r\nends\r\n", "crlf\nends\n"),
        (b"old\rmac\r", "old\nmac\n"),
        (b"mixed\r\nends\rhere\n", "mixed\nends\nhere\n"),
        ("caf\u00e9 \u2014 na\u00efve".encode(), "caf\u00e9 \u2014 na\u00efve"),
        (b"", ""),
    ],
    ids=["plain", "bom", "crlf", "cr", "mixed-ends", "non-ascii", "empty"],
)
def test_text_file(tmp_path: Path, data: bytes, expected: str) -> None:
    path = write(tmp_path, "dump.txt", data)
    doc = read_document(path)
    assert doc.text == expected
    assert doc.source == path


def test_binary_file(tmp_path: Path) -> None:
    path = write(tmp_path, "image.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    with pytest.raises(InputError, match=r"image\.png: binary content.*offset 8"):
        read_document(path)


INPUTS = HTML_FIXTURES.parent / "inputs"


@pytest.mark.parametrize(
    ("name", "expected_lines"),
    [
        ("cafe-cp1252.txt", ["Le caf\u00e9 du port rouvre apr\u00e8s trois mois de travaux",
                             "Par Claire Dumont, 14 mars 2024", "",
                             "Le caf\u00e9 \u00ab La Mar\u00e9e \u00bb, ferm\u00e9 depuis "
                             "d\u00e9cembre, a rouvert ses portes samedi matin."]),
        ("ferry-shift_jis.txt", ["\u6e2f\u306e\u30d5\u30a7\u30ea\u30fc\u3001\u51ac\u306e"
                                 "\u4fee\u7406\u3092\u7d42\u3048\u3066\u904b\u822a\u518d"
                                 "\u958b"]),
        ("tram-mixed.txt", ["Z\u00fcrich council approves new tram line",
                            "The vote was 61 to 40 \u2014 a clear majority.",
                            "Critics say the caf\u00e9 owners on Bahnhofstra\u00dfe were not "
                            "consulted.",
                            "Construction starts in the spring."]),
    ],
    ids=["cp1252-crlf", "shift-jis", "utf8-with-cp1252-lines"],
)  # fmt: skip
def test_legacy_encodings_decode_right(name: str, expected_lines: list[str]) -> None:
    text = read_document(str(INPUTS / name)).text
    assert text.split("\n")[: len(expected_lines)] == expected_lines
    assert "\r" not in text
    assert "\ufffd" not in text


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("ok\nna\u00efve\n".encode("latin-1"), "ok\nna\u00efve\n"),
        ("\u201cQuoted\u201d \u2014 dash".encode("cp1252"), "\u201cQuoted\u201d \u2014 dash"),
        ("UTF-16 text\r\n".encode("utf-16"), "UTF-16 text\n"),
        ("UTF-32 \u00e9\n".encode("utf-32"), "UTF-32 \u00e9\n"),
        ("\u041f\u0430\u0440\u043e\u043c \u0432\u0435\u0440\u043d\u0443\u043b\u0441\u044f "
         "\u0432 \u0433\u0430\u0432\u0430\u043d\u044c.".encode("cp1251"),
         "\u041f\u0430\u0440\u043e\u043c \u0432\u0435\u0440\u043d\u0443\u043b\u0441\u044f "
         "\u0432 \u0433\u0430\u0432\u0430\u043d\u044c."),
    ],
    ids=["latin-1-short", "cp1252-quotes", "utf-16-bom", "utf-32-bom", "cp1251"],
)  # fmt: skip
def test_decode_text_detects(data: bytes, expected: str) -> None:
    assert decode_text(data, source="x") == expected


def test_random_high_bytes_are_binary(tmp_path: Path) -> None:
    noise = bytes(b | 0x80 for b in random.Random(0).randbytes(4000))
    path = write(tmp_path, "noise.txt", noise)
    with pytest.raises(InputError) as info:
        read_document(path)
    assert str(info.value) == f"{path}: binary content, not text (no text encoding fits its bytes)"


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nowhere.txt")
    with pytest.raises(InputError, match=r"nowhere\.txt: no such file$"):
        read_document(path)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        read_document(str(tmp_path))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_permission_denied(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.txt", b"text")
    Path(path).chmod(0)
    with pytest.raises(InputError, match=r"secret\.txt: permission denied$"):
        read_document(path)


def test_errors_are_cleaner_errors_on_one_line(tmp_path: Path) -> None:
    with pytest.raises(CleanerError) as info:
        read_document(str(tmp_path / "missing.txt"))
    assert "\n" not in str(info.value)


# --- standard input -----------------------------------------------------------------------------


def test_stdin_text() -> None:
    doc = read_document("-", stdin=io.BytesIO(b"\xef\xbb\xbffrom\r\nstdin\r\n"))
    assert doc.source == "-"
    assert doc.text == "from\nstdin\n"


def test_stdin_html_is_sniffed() -> None:
    page = (HTML_FIXTURES / "harbour-ferry.html").read_bytes()
    doc = read_document("-", stdin=io.BytesIO(page))
    assert doc.text.startswith("Harbour ferry returns after winter repairs\n")


def test_stdin_errors_name_stdin() -> None:
    with pytest.raises(InputError, match=r"^<stdin>: binary content"):
        read_document("-", stdin=io.BytesIO(b"text\0with a NUL"))


# --- HTML detection -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("page.html", b"no markup at all", True),
        ("PAGE.HTM", b"no markup at all", True),
        ("dump.txt", b"<!DOCTYPE html><html><body>x</body></html>", True),
        ("dump.txt", b"\xef\xbb\xbf\n  <!doctype HTML>\n<html>", True),
        ("dump.txt", b"<html lang='en'><body>x", True),
        ("dump.txt", b"<head><title>x</title></head>", True),
        ("dump.txt", b"<!-- saved page --><!DOCTYPE html><html>", True),
        ("dump.txt", b"<?xml version='1.0'?>\n<html xmlns='http://www.w3.org/1999/xhtml'>", True),
        ("dump.txt", b"Why <html> tags matter\n<html> is the root element.", False),
        ("dump.txt", b"<p>a fragment is not a page</p>", False),
        ("dump.txt", b"<!-- unterminated comment", False),
        ("dump.txt", b"", False),
    ],
    ids=[
        "suffix-html", "suffix-htm-upper", "doctype", "bom-space-doctype", "html-tag", "head-tag",
        "comment-first", "xml-declaration", "text-about-html", "fragment", "open-comment", "empty",
    ],
)  # fmt: skip
def test_is_html(name: str, data: bytes, expected: bool) -> None:
    assert is_html(data, path=name) is expected


def test_html_by_sniffing_in_txt_file(tmp_path: Path) -> None:
    page = (HTML_FIXTURES / "council-library.html").read_bytes()
    doc = read_document(write(tmp_path, "saved.txt", page))
    assert "<p>" not in doc.text
    assert doc.text.startswith("Council votes to keep Eastfield library open\n")


@pytest.mark.parametrize(
    "declaration",
    [
        '<meta charset="windows-1252">',
        "<meta http-equiv='Content-Type' content='text/html; charset=iso-8859-1'>",
    ],
    ids=["meta-charset", "http-equiv"],
)
def test_html_in_declared_legacy_encoding(tmp_path: Path, declaration: str) -> None:
    # Unlike plain text, HTML may come in the legacy encoding its head declares.
    text = "Le caf\u00e9 du port ferme ses portes apr\u00e8s trente ans."
    page = f"<html><head>{declaration}</head><body><p>{text}</p></body></html>"
    doc = read_document(write(tmp_path, "old.html", page.encode("cp1252")))
    assert doc.text == text


@pytest.mark.parametrize(
    "data",
    [b"", b"<!DOCTYPE html><html><head><title></title></head><body> </body></html>"],
    ids=["empty", "no-text"],
)
def test_html_without_text_is_empty(tmp_path: Path, data: bytes) -> None:
    assert read_document(write(tmp_path, "blank.html", data)).text == ""


# --- HTML fixtures: must keep / must drop, as in trafilatura's real-page tests ------------------

FIXTURE_CASES = {
    "harbour-ferry.html": {
        "title": "Harbour ferry returns after winter repairs",
        "comments": ["2 Comments", "So glad to have the ferry back.",
                     "Eight crossings is not enough in May."],
        "keep": [
            "MILLBROOK — The blue-hulled ferry that links Millbrook to Gull Island",
            "Engineers replaced both propeller shafts",
            "Timetable changes for the spring",
            "a decision on the summer timetable is expected by early May.",
            "So glad to have the ferry back.",
            "Eight crossings is not enough in May.",
        ],
        "drop": [
            "Subscribe today",
            "Copyright 2024 Millbrook Courier Media",
            "Privacy policy",
            "dataLayer",
        ],
    },
    "orchard-frost.htm": {
        "title": "Late frost cuts apple harvest forecast",
        "comments": ["We lost almost all of our early Galas.",
                     "Hillside blocks came through fine up here."],
        "keep": [
            "Growers across the upper valley expect to pick about a third fewer apples",
            "What the frost did",
            "You could see the damage the next morning",
            "- hillside orchards: losses below 15 percent",
            "because damaged blossoms can still set small fruit.",
            "We lost almost all of our early Galas.",
            "Hillside blocks came through fine up here.",
        ],
        "drop": [
            "Livestock",
            "Reproduction without permission",
            "Advertise with us",
            "font-family",
        ],
    },
    "council-library.html": {
        "title": "Council votes to keep Eastfield library open",
        "comments": ["Comments (2)",
                     "Brilliant news. My children have learned to read in that library",
                     "leaving posts unfilled just means the staff who are left"],
        "keep": [
            "Eastfield's public library will stay open after councillors voted 31 to 12",
            "Savings found elsewhere",
            'he said there was "no appetite" on the council to revisit the closure.',
            "Brilliant news. My children have learned to read in that library",
            "leaving posts unfilled just means the staff who are left",
        ],
        "drop": [
            "We use cookies",
            "Newsletters",
            "Registered in England and Wales",
            "Cookie settings",
            "schema.org",
        ],
    },
}


@pytest.fixture(scope="module")
def fixture_texts() -> dict[str, str]:
    # Extract each page once: trafilatura is the slow part of this test file.
    return {name: read_document(str(HTML_FIXTURES / name)).text for name in FIXTURE_CASES}


@pytest.mark.parametrize("name", sorted(FIXTURE_CASES))
def test_fixture_title_first(fixture_texts: dict[str, str], name: str) -> None:
    lines = fixture_texts[name].split("\n")
    assert lines[0] == FIXTURE_CASES[name]["title"]
    assert lines.count(lines[0]) == 1


@pytest.mark.parametrize("name", sorted(FIXTURE_CASES))
def test_fixture_keeps(fixture_texts: dict[str, str], name: str) -> None:
    text = fixture_texts[name]
    for snippet in FIXTURE_CASES[name]["keep"]:
        assert snippet in text, snippet


@pytest.mark.parametrize("name", sorted(FIXTURE_CASES))
def test_fixture_drops(fixture_texts: dict[str, str], name: str) -> None:
    text = fixture_texts[name]
    for snippet in FIXTURE_CASES[name]["drop"]:
        assert snippet not in text, snippet


@pytest.mark.parametrize("name", sorted(FIXTURE_CASES))
def test_fixture_one_line_per_block(fixture_texts: dict[str, str], name: str) -> None:
    lines = fixture_texts[name].split("\n")
    assert all(line and line == " ".join(line.split()) for line in lines)
    # Subheads and comments stay lines of their own, in page order after the body.
    keep = FIXTURE_CASES[name]["keep"]
    positions = [next(i for i, line in enumerate(lines) if s in line) for s in keep]
    assert positions == sorted(positions)


@pytest.mark.parametrize("name", sorted(FIXTURE_CASES))
def test_fixture_comment_section(name: str) -> None:
    page = (HTML_FIXTURES / name).read_bytes()
    text, start = html_text_and_comments(page)
    assert text == html_to_text(page)
    lines = text.split("\n")
    assert start is not None
    comments = FIXTURE_CASES[name]["comments"]
    assert lines[start - 1].startswith(comments[0])
    # The section holds the comment thread and nothing of the article before it.
    section, before = "\n".join(lines[start - 1 :]), "\n".join(lines[: start - 1])
    assert all(snippet in section for snippet in comments)
    assert all(snippet in before for snippet in FIXTURE_CASES[name]["keep"]
               if snippet not in comments)


def test_a_page_without_comments_has_no_comment_section() -> None:
    page = ("<html><head><title>Storm closes the coast road</title></head><body><article>"
            "<h1>Storm closes the coast road</h1><p>Crews worked through the night to clear "
            "fallen trees and rocks from the road north of the harbour.</p><p>The road reopens "
            "on Friday, the county said, once engineers have checked the sea wall.</p>"
            "</article></body></html>")
    text, start = html_text_and_comments(page)
    assert "The road reopens on Friday" in text
    assert start is None


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        ("<doc title='T'><main><p>Story.</p></main><comments><p>Nice.</p></comments></doc>",
         ("T\nStory.\nNice.", 3)),
        ("<doc><main><p>Story.</p><p>More.</p></main><comments><p>Nice.</p><p>No.</p>"
         "</comments></doc>", ("Story.\nMore.\nNice.\nNo.", 3)),
        ("<doc><main><p>Story.</p></main></doc>", ("Story.", None)),
        # Comments and no main text: maybe trafilatura's mistake, so the labeller decides.
        ("<doc title='T'><main/><comments><p>Only this.</p></comments></doc>",
         ("T\nOnly this.", None)),
    ],
    ids=["title", "two-comments", "no-comments", "comments-only"],
)
def test_comment_section_of_trafilatura_xml(
    monkeypatch: pytest.MonkeyPatch, xml: str, expected: tuple[str, int | None]
) -> None:
    import trafilatura

    monkeypatch.setattr(trafilatura, "extract", lambda *args, **kwargs: xml)
    assert html_text_and_comments("<html><body><p>ignored</p></body></html>") == expected


def test_the_block_dump_has_no_comment_section(monkeypatch: pytest.MonkeyPatch) -> None:
    import trafilatura

    monkeypatch.setattr(trafilatura, "extract", lambda *args, **kwargs: None)
    page = (HTML_FIXTURES / "harbour-ferry.html").read_bytes()
    text, start = html_text_and_comments(page)
    assert "Eight crossings is not enough in May." in text
    assert start is None


def test_html_to_text_accepts_str_and_bytes() -> None:
    page = (HTML_FIXTURES / "orchard-frost.htm").read_bytes()
    assert html_to_text(page) == html_to_text(page.decode("utf-8"))


# --- the plain block dump, used when trafilatura finds nothing -----------------------------------


def test_block_dump() -> None:
    page = (
        "<html><head><title>T</title><style>p {}</style></head><body>"
        "<div>Menu <a href='/'>Home</a></div><script>var x = 1;</script>"
        "<h1>The headline</h1><p>First <b>bold</b> para.<br>Second line</p>"
        "<ul><li>one</li><li>two</li></ul><!-- a comment -->Loose tail"
        "</body></html>"
    )
    assert html_block_lines(page) == [
        "Menu Home",
        "The headline",
        "First bold para.",
        "Second line",
        "one",
        "two",
        "Loose tail",
    ]


def test_fallback_when_trafilatura_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import trafilatura

    monkeypatch.setattr(trafilatura, "extract", lambda *args, **kwargs: None)
    page = "<html><body><nav>Home</nav><h1>Title</h1><p>Body text.</p></body></html>"
    assert html_to_text(page) == "Home\nTitle\nBody text."


# --- import time --------------------------------------------------------------------------------


def test_import_does_not_load_trafilatura() -> None:
    code = "import sys, cleaner.read; print('trafilatura' in sys.modules, 'lxml' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


# --- split_lines invariants ---------------------------------------------------------------------

LINE_TEXT = st.text(st.characters(blacklist_characters="\n"), max_size=12)


@given(st.lists(LINE_TEXT, max_size=30))
def test_split_lines_invariants(raw_lines: list[str]) -> None:
    lines = split_lines("\n".join(raw_lines))
    numbers = [line.number for line in lines]
    assert numbers == sorted(set(numbers))
    non_blank = [(i, s.strip()) for i, s in enumerate(raw_lines, start=1) if s.strip()]
    assert [(line.number, line.text) for line in lines] == non_blank
    previous = 0
    for line in lines:
        assert line.blank_before == line.number - previous - 1
        assert all(not s.strip() for s in raw_lines[previous : line.number - 1])
        previous = line.number


def test_latin1_label_means_cp1252() -> None:
    page = b"<meta charset=iso-8859-1><p>\x93quoted\x94 caf\xe9</p>"
    assert decode_html(page).endswith("<p>\u201cquoted\u201d caf\u00e9</p>")


@pytest.mark.parametrize(("depth", "expected"), [(10, False), (240, False), (260, True),
                                                 (5000, True)])
def test_too_deep_for_lxml(depth: int, expected: bool) -> None:
    page = "<html><body>" + "<div>" * depth + "<p>x</p>" + "</div>" * depth + "</body></html>"
    assert too_deep_for_lxml(page) is expected


@pytest.mark.parametrize("depth", [300, 20_000])
def test_deep_page_keeps_the_text_after_the_deep_part(depth: int) -> None:
    page = ("<html><body><h1>Storm closes the coast road</h1>" + "<div>" * depth
            + "<p>Crews worked through the night.</p>" + "</div>" * depth
            + "<p>The road reopens on Friday.</p><script>var x;</script></body></html>")
    assert html_to_text(page).split("\n") == [
        "Storm closes the coast road", "Crews worked through the night.",
        "The road reopens on Friday.",
    ]
