"""Hostile and broken inputs on the reading side: one case each, with the behaviour it expects.

Every case is read next to a well-formed news file, through expand_inputs and read_documents as a
batch run reads them, and must give either a clear InputError naming the file and what is wrong,
or a bounded, correct result; the good file must always come through. Big inputs are generated
in tmp_path; where a case needs gigabytes to hit a real cap, it runs with smaller Limits instead,
which exercises the same code.
"""

from __future__ import annotations

import gzip
import os
import re
import socket
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from backports import zstd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner.errors import InputError
from cleaner.read import MAX_EXTRACT_CHARS, split_lines
from cleaner.sources import DEFAULT_LIMITS, Limits, expand_inputs, read_documents
from cleaner.types import Document

GOOD_NAME = "good.txt"
GOOD_TEXT = (
    "Harbour ferry returns after winter repairs\n"
    "By Ana Lind, 4 March 2024\n"
    "The blue-hulled ferry that links Millbrook to Gull Island sailed again on Monday.\n"
)
SMALL = Limits(document_bytes=1_000_000, json_line_bytes=1_000_000, warc_header_bytes=10_000)


def read_all(paths: list[str], *, limits: Limits = DEFAULT_LIMITS) -> list[Document | InputError]:
    """Everything a batch run reads from these paths: documents and error items."""
    out: list[Document | InputError] = []
    for item in expand_inputs(paths):
        if isinstance(item, InputError):
            out.append(item)
        else:
            out.extend(read_documents(item, limits=limits))
    return out


def good_file(tmp_path: Path) -> str:
    """The well-formed neighbour of every hostile input."""
    path = tmp_path / GOOD_NAME
    path.write_text(GOOD_TEXT, encoding="utf-8")
    return str(path)


def errors(items: list[Document | InputError]) -> list[str]:
    """The messages of the error items."""
    return [str(item) for item in items if isinstance(item, InputError)]


def documents(items: list[Document | InputError]) -> list[Document]:
    """The document items."""
    return [item for item in items if isinstance(item, Document)]


# --- inputs that must be refused with a clear error ---------------------------------------------


def warc(url: str, body: bytes, *, extra: str = "", http: str = "") -> bytes:
    """One WARC/1.0 HTML response record."""
    block = (f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n{http}"
             f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\n{extra}"
            f"WARC-Date: 2024-03-05T10:00:00Z\r\nContent-Length: {len(block)}\r\n\r\n").encode()
    return head + block + b"\r\n\r\n"


def gzip_bomb(total: int) -> bytes:
    """gzip members of 'a's that decompress to `total` bytes, from about total/1000 bytes."""
    member = gzip.compress(b"a" * 10_000_000, mtime=0)
    return member * (total // 10_000_000)


@dataclass(frozen=True)
class Refused:
    """A hostile input that must give this error (a regex on the message, after the path)."""

    name: str
    make: Callable[[], bytes]
    error: str
    limits: Limits = DEFAULT_LIMITS


REFUSED = [
    Refused("image.png", lambda: b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)) * 8,
            r": binary content, not text \(NUL byte at offset 8\)$"),
    Refused("noise.txt", lambda: bytes((i * 7919 % 128) | 0x80 for i in range(20_000)),
            r": binary content, not text \(no text encoding fits its bytes\)$"),
    Refused("one-line.txt", lambda: b"x" * 50_000_000,
            r": line 1 is 50,000,000 characters long, over the 100,000-character cap for one "
            r"line \(not a paragraph"),
    Refused("too-big.txt", lambda: (b"A short paragraph of news text.\n" * 1_700_000),
            r": more than the 50,000,000-byte cap for one document; not read$"),
    Refused("bomb.txt.gz", lambda: gzip_bomb(1_000_000_000),
            r": more than the 50,000,000-byte cap for one document once decompressed \(a "
            r"compression bomb\?\); not read$"),
    Refused("bomb.html.zst", lambda: zstd.compress(b"<p>" + b"a" * 200_000_000),
            r": more than the 1,000,000-byte cap for one document once decompressed", SMALL),
    Refused("cut.txt.gz", lambda: gzip.compress(GOOD_TEXT.encode() * 1000)[:500],
            r": corrupt or truncated gzip data \(Compressed file ended before the "
            r"end-of-stream marker was reached\)$"),
    Refused("header.warc", lambda: b"WARC/1.0\r\nWARC-Type: response\r\nX-Junk: "
            + b"j" * 50_000 + b"\r\n\r\n",
            r": record 1: header lines over the 10,000-byte cap; rest of the file not read$",
            SMALL),
]  # fmt: skip


@pytest.mark.parametrize("case", REFUSED, ids=[case.name for case in REFUSED])
def test_refused_with_a_clear_error(tmp_path: Path, case: Refused) -> None:
    path = tmp_path / case.name
    path.write_bytes(case.make())
    items = read_all([str(path), good_file(tmp_path)], limits=case.limits)
    [message] = errors(items)
    assert re.match(re.escape(str(path)) + case.error, message), message
    assert [d.text for d in documents(items)] == [GOOD_TEXT]


# --- per-record errors: the rest of the container still comes through ---------------------------


@dataclass(frozen=True)
class BadRecord:
    """A container with one hostile record between two good ones."""

    name: str
    make: Callable[[], bytes]
    error: str
    good: list[str]  # the sources (after "path:") of the documents that must still come
    limits: Limits = DEFAULT_LIMITS


def rows(middle: bytes) -> bytes:
    """Two good JSON lines around a hostile one."""
    return (b'{"id": "a", "text": "First story of the wire."}\n' + middle
            + b'\n{"id": "c", "text": "Last story of the wire."}\n')


BAD_RECORDS = [
    BadRecord("deep.jsonl", lambda: rows(b"[" * 100_000 + b"]" * 100_000),
              r": line 2: not valid JSON \(nested too deeply\)$", ["a", "c"]),
    BadRecord("long-line.jsonl", lambda: rows(b'{"text": "' + b"w" * 5_000_000 + b'"}'),
              r": line 2: longer than the 1,000,000-byte cap for one JSON line; skipped$",
              ["a", "c"], SMALL),
    BadRecord("long-line.jsonl.gz",
              lambda: gzip.compress(rows(b'{"text": "' + b"w" * 50_000_000 + b'"}'), 1),
              r": line 2: longer than the 1,000,000-byte cap for one JSON line; skipped$",
              ["a", "c"], SMALL),
    BadRecord("long-paragraph.jsonl",
              lambda: rows(b'{"id": "b", "text": "' + b"p" * 100_001 + b'"}'),
              r": line 2: line 1 is 100,001 characters long, over the 100,000-character cap",
              ["a", "c"]),
    BadRecord("nul-surrogate.jsonl", lambda: rows(b'{"id": "b", "text": "a\\u0000b \\ud800 c"}'),
              "", ["a", "b", "c"]),
    BadRecord("bomb.warc",
              lambda: warc("https://a.example/1", b"<p>First page.</p>")
              + warc("https://a.example/2", gzip.compress(b"<p>" + b"a" * 100_000_000),
                     http="Content-Encoding: gzip\r\n")
              + warc("https://a.example/3", b"<p>Third page.</p>"),
              r":2: more than the 1,000,000-byte cap for one document; not read$", ["1", "3"],
              SMALL),
    BadRecord("nested.warc",
              lambda: warc("https://a.example/1", b"<p>First page.</p>")
              + warc("https://a.example/2", b"<html><body>" + b"<div>" * 50_000 + b"<p>Deep"
                     + b"</div>" * 50_000 + b"<p>After</p></body></html>")
              + warc("https://a.example/3", b"<p>Third page.</p>"),
              "", ["1", "2", "3"]),
]  # fmt: skip


@pytest.mark.parametrize("case", BAD_RECORDS, ids=[case.name for case in BAD_RECORDS])
def test_bad_record_is_one_error_and_the_rest_comes(tmp_path: Path, case: BadRecord) -> None:
    path = tmp_path / case.name
    path.write_bytes(case.make())
    items = read_all([str(path), good_file(tmp_path)], limits=case.limits)
    found = errors(items)
    if case.error:
        [message] = found
        assert re.match(re.escape(str(path)) + case.error, message), message
    else:
        assert found == []
    sources = [d.source for d in documents(items)]
    assert sources == [f"{path}:{key}" for key in case.good] + [str(tmp_path / GOOD_NAME)]


# --- inputs read with a bounded, correct result -------------------------------------------------


def test_nul_bytes_past_the_sniff_are_kept(tmp_path: Path) -> None:
    # Expected: the text is read as it is, NUL included (JSON output escapes it as \u0000); no
    # line is lost or merged. In HTML a NUL becomes U+FFFD, as lxml refuses NUL.
    body = GOOD_TEXT * 200  # past the 8 kB binary sniff
    path = tmp_path / "late-nul.txt"
    path.write_bytes(body.encode() + b"Tail line with a \0 NUL.\n")
    [doc, good] = read_all([str(path), good_file(tmp_path)])
    assert isinstance(doc, Document) and isinstance(good, Document)
    assert doc.text == body + "Tail line with a \0 NUL.\n"
    page = tmp_path / "late-nul.html"
    page.write_bytes(b"<html><body>" + b"<p>Paragraph of the page.</p>" * 400
                     + b"<p>Tail with a \0 NUL.</p></body></html>")
    [html] = read_all([str(page)])
    assert isinstance(html, Document)
    assert html.text.endswith("Tail with a \ufffd NUL.")


def test_invalid_utf8_bytes_in_utf8_text(tmp_path: Path) -> None:
    # Expected: UTF-8 lines read as UTF-8; the broken line decoded as best it can be, not dropped.
    path = tmp_path / "broken.txt"
    path.write_bytes("Z\u00fcrich line one.\n".encode() + b"bad \xff\xfe line\n" + b"last\n")
    [doc, _] = read_all([str(path), good_file(tmp_path)])
    assert isinstance(doc, Document)
    lines = doc.text.split("\n")
    assert lines[0] == "Z\u00fcrich line one."
    assert lines[1].startswith("bad ") and lines[1].endswith(" line")
    assert lines[2] == "last"


def test_mixed_encodings(tmp_path: Path) -> None:
    # Expected: every line decodes right, UTF-8 and cp1252 alike.
    path = tmp_path / "mixed.txt"
    path.write_bytes("Caf\u00e9 \u2014 UTF-8.\n".encode() + "Caf\u00e9 \u2014 cp1252.\n".encode(
        "cp1252") + "\u65e5\u672c UTF-8.\n".encode())
    [doc, _] = read_all([str(path), good_file(tmp_path)])
    assert isinstance(doc, Document)
    assert doc.text == "Caf\u00e9 \u2014 UTF-8.\nCaf\u00e9 \u2014 cp1252.\n\u65e5\u672c UTF-8.\n"


def test_a_million_short_lines(tmp_path: Path) -> None:
    # Expected: read whole, every line kept (no timing assertion: it must simply complete).
    path = tmp_path / "million.txt"
    path.write_bytes(b"".join(b"Short line %d.\n" % i for i in range(1_000_000)))
    [doc, _] = read_all([str(path), good_file(tmp_path)])
    assert isinstance(doc, Document)
    lines = split_lines(doc.text)
    assert len(lines) == 1_000_000
    assert lines[-1].text == "Short line 999999."


def test_deeply_nested_html_keeps_all_text(tmp_path: Path) -> None:
    # Expected: lxml stops at depth 255 and drops the rest; the page goes to the streaming block
    # dump instead, so the text inside and after the deep part is kept. No recursion error.
    path = tmp_path / "deep.html"
    path.write_bytes(b"<html><body><h1>Top story</h1>" + b"<div>" * 100_000 + b"<p>Deep text."
                     + b"</div>" * 100_000 + b"<p>Closing paragraph.</p></body></html>")
    [doc, _] = read_all([str(path), good_file(tmp_path)])
    assert isinstance(doc, Document)
    assert doc.text.split("\n") == ["Top story", "Deep text.", "Closing paragraph."]


def test_enormous_html_is_dumped_linearly(tmp_path: Path) -> None:
    # Expected: over MAX_EXTRACT_CHARS trafilatura is not run (its time grows faster than the
    # page); every paragraph comes out as one line, scripts and styles dropped.
    count = MAX_EXTRACT_CHARS // 40
    paragraphs = b"".join(b"<div><p>Paragraph %d of the council report.</p></div>" % i
                          for i in range(count))
    path = tmp_path / "huge.html"
    path.write_bytes(b"<html><head><title>Report</title><style>p{}</style></head><body>"
                     + b"<script>var x = '<p>not text</p>';</script>" + paragraphs
                     + b"</body></html>")
    assert path.stat().st_size > MAX_EXTRACT_CHARS
    [doc, _] = read_all([str(path), good_file(tmp_path)])
    assert isinstance(doc, Document)
    lines = doc.text.split("\n")
    assert len(lines) == count
    assert lines[0] == "Paragraph 0 of the council report."
    assert "not text" not in doc.text


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE html [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Laughs</title></head><body>
<p>Council meeting moved to Thursday evening at the town hall, the clerk said.</p>
<p>&lol9;</p></body></html>"""


@pytest.mark.parametrize("suffix", [".html", ".xhtml", ".txt"])
def test_entity_expansion_never_happens(tmp_path: Path, suffix: str) -> None:
    # Expected: the page is read; "&lol9;" is never expanded (a billion "lol"s would be 3 GB).
    path = tmp_path / f"laughs{suffix}"
    path.write_bytes(BILLION_LAUGHS)
    [doc, _] = read_all([str(path), good_file(tmp_path)])
    assert isinstance(doc, Document)
    assert "Council meeting moved to Thursday evening" in doc.text
    assert doc.text.count("lol") < 20
    assert len(doc.text) < 2_000


def test_external_entities_and_urls_are_never_fetched(tmp_path: Path) -> None:
    # Expected: neither a local file named by an external entity nor a URL (DTD, entity,
    # stylesheet, image) is read: its secret never appears and no connection reaches the server.
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    try:
        page = (f'<?xml version="1.0"?>\n<!DOCTYPE html SYSTEM "{url}/page.dtd" [\n'
                f' <!ENTITY file SYSTEM "file://{secret}">\n'
                f' <!ENTITY remote SYSTEM "{url}/entity">\n]>\n'
                f'<html><head><title>Library</title><link rel="stylesheet" href="{url}/s.css">'
                f'</head><body><p>The library reopens on Monday after a month of repairs.</p>'
                f'<p>&file; &remote;</p><img src="{url}/i.png"></body></html>')  # fmt: skip
        path = tmp_path / "xxe.html"
        path.write_text(page, encoding="utf-8")
        [doc, _] = read_all([str(path), good_file(tmp_path)])
        assert isinstance(doc, Document)
        assert "The library reopens on Monday" in doc.text
        assert "TOP-SECRET" not in doc.text
        with pytest.raises(BlockingIOError):
            server.accept()  # a connection attempt would be waiting here
    finally:
        server.close()


def test_bomb_memory_is_bounded(tmp_path: Path) -> None:
    # Expected: a 1 GB gzip bomb against a 1 MB cap is refused after reading about 1 MB: Python
    # never holds more than a few times the cap, not the gigabyte.
    path = tmp_path / "bomb.txt.gz"
    path.write_bytes(gzip_bomb(1_000_000_000))
    tracemalloc.start()
    try:
        items = list(read_documents(str(path), limits=SMALL))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [type(item) for item in items] == [InputError]
    assert peak < 8_000_000, peak


def test_jsonl_ids_that_look_like_paths_stay_plain_strings(tmp_path: Path) -> None:
    # Expected: the id is kept as text in the source ("../../etc/x" is not resolved or
    # cleaned here); whoever makes file names from sources (--out-dir) must sanitise them.
    path = tmp_path / "ids.jsonl"
    path.write_bytes(b'{"id": "../../etc/x", "text": "a"}\n{"id": "/abs\\n#1", "text": "b"}\n')
    [first, second, _] = read_all([str(path), good_file(tmp_path)])
    assert isinstance(first, Document) and isinstance(second, Document)
    assert first.source == f"{path}:../../etc/x"
    assert second.source == f"{path}:/abs%0A%231"


# --- paths --------------------------------------------------------------------------------------


def test_symlink_loop_in_a_crawl_folder(tmp_path: Path) -> None:
    # Expected: one error for the loop; every real file is read once.
    crawl = tmp_path / "crawl"
    (crawl / "2024").mkdir(parents=True)
    (crawl / "2024" / "a.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (crawl / "2024" / "again").symlink_to(crawl)
    items = read_all([str(crawl)])
    assert errors(items) == [f"{crawl}/2024/again: symbolic link loop (leads back to a folder "
                             "above it)"]
    assert [d.source for d in documents(items)] == [f"{crawl}/2024/a.txt"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path: Path) -> None:
    # Expected: "permission denied" for it; the good file is read.
    path = tmp_path / "locked.txt"
    path.write_text(GOOD_TEXT, encoding="utf-8")
    path.chmod(0)
    items = read_all([str(path), good_file(tmp_path)])
    assert errors(items) == [f"{path}: permission denied"]
    assert len(documents(items)) == 1


# --- any bytes at all ---------------------------------------------------------------------------

ANY_BYTES = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=1000).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.lists(st.one_of(st.binary(max_size=80), st.from_regex(rb'\{"text": "[^"\\\n]*"\}')),
             max_size=8).map(b"\n".join),
    st.binary(max_size=400).map(lambda tail: b"WARC/1.0\r\nWARC-Type: response\r\n" + tail),
)
SUFFIXES = [".txt", ".html", ".jsonl", ".warc", ".txt.gz", ".jsonl.zst", ""]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=ANY_BYTES, suffix=st.sampled_from(SUFFIXES), compress=st.booleans())
def test_any_bytes_give_documents_or_errors_never_exceptions(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, suffix: str, compress: bool
) -> None:
    # Expected: whatever the bytes and the name, the iterator yields Documents and InputErrors
    # only; every error names the file; every document's text has LF line ends, within the cap.
    if compress and suffix.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    elif compress and suffix.endswith(".zst"):
        data = zstd.compress(data)
    path = tmp_path_factory.mktemp("any") / f"input{suffix}"
    path.write_bytes(data)
    for item in read_documents(str(path)):
        if isinstance(item, InputError):
            assert str(item).startswith(str(path)), item
            assert "\n" not in str(item)
        else:
            assert isinstance(item, Document)
            assert item.source.startswith(str(path))
            assert "\r" not in item.text
            assert all(len(line) <= DEFAULT_LIMITS.line_chars for line in item.text.split("\n"))
