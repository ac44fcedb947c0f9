"""Tests of cleaner.sources: expanding paths into input files, and the documents of each input."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from backports import zstd

from cleaner.errors import InputError
from cleaner.read import html_to_text, read_document
from cleaner.sources import expand_inputs, read_documents
from cleaner.types import Document

NOT_ROOT = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root reads anything"
)


def tree(root: Path, files: dict[str, bytes]) -> Path:
    """Write files (relative paths) under root; return root."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def names(items: list[str | InputError], root: Path) -> list[str]:
    """Paths relative to root, errors as 'error: <message>'."""
    return [
        f"error: {item}" if isinstance(item, InputError) else str(Path(item).relative_to(root))
        for item in items
    ]


# --- expand_inputs ------------------------------------------------------------------------------

CRAWL = {
    "b.txt": b"b",
    "a/z.txt": b"z",
    "a/b/c.html": b"c",
    "a/a.txt": b"a",
    "c.jsonl": b"{}",
    ".hidden.txt": b"h",
    "a/.cache/x.txt": b"x",
    "a/10.txt": b"10",
    "a/9.txt": b"9",
}


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("*", ["a/10.txt", "a/9.txt", "a/a.txt", "a/b/c.html", "a/z.txt", "b.txt", "c.jsonl"]),
        ("*.txt", ["a/10.txt", "a/9.txt", "a/a.txt", "a/z.txt", "b.txt"]),
        ("b/*.html", ["a/b/c.html"]),
        ("*.warc.gz", []),
    ],
    ids=["all-sorted-depth-first", "suffix-any-depth", "folder-pattern", "no-match"],
)
def test_directory_walk(tmp_path: Path, glob: str, expected: list[str]) -> None:
    root = tree(tmp_path / "crawl", CRAWL)
    assert names(list(expand_inputs([str(root)], glob=glob)), root) == expected


def test_files_as_given_are_not_filtered_and_keep_order(tmp_path: Path) -> None:
    root = tree(tmp_path, {"x.html": b"x", "y.txt": b"y", ".dot.txt": b"d"})
    given = [str(root / "y.txt"), "-", str(root / "x.html"), str(root / ".dot.txt")]
    assert list(expand_inputs(given, glob="*.txt")) == given


def test_directory_order_is_deterministic(tmp_path: Path) -> None:
    root = tree(tmp_path, {f"d{i % 7}/f{i}.txt": b"x" for i in range(60)})
    first = [str(p) for p in expand_inputs([str(root)])]
    assert first == [str(p) for p in expand_inputs([str(root)])]
    assert first == sorted(first, key=lambda p: Path(p).relative_to(root).parts)
    assert len(first) == 60


def test_missing_path_is_an_error_item_and_the_rest_goes_on(tmp_path: Path) -> None:
    root = tree(tmp_path, {"ok.txt": b"ok"})
    items = list(expand_inputs([str(root / "nope.txt"), str(root / "ok.txt")]))
    assert isinstance(items[0], InputError)
    assert str(items[0]) == f"{root / 'nope.txt'}: no such file or directory"
    assert items[1] == str(root / "ok.txt")


def test_symlink_loop_is_reported_not_followed(tmp_path: Path) -> None:
    root = tree(tmp_path / "site", {"news/a.txt": b"a", "news/deep/b.txt": b"b"})
    (root / "news" / "deep" / "up").symlink_to(root / "news")
    (root / "self").symlink_to(root)
    items = names(list(expand_inputs([str(root)])), root)
    assert items == [
        "news/a.txt",
        "news/deep/b.txt",
        f"error: {root / 'news/deep/up'}: symbolic link loop (leads back to a folder above it)",
        f"error: {root / 'self'}: symbolic link loop (leads back to a folder above it)",
    ]


def test_link_to_a_sibling_folder_is_followed(tmp_path: Path) -> None:
    root = tree(tmp_path / "site", {"real/a.txt": b"a"})
    (root / "alias").symlink_to(root / "real")
    assert names(list(expand_inputs([str(root)])), root) == ["alias/a.txt", "real/a.txt"]


def test_self_referencing_symlink_given_directly(tmp_path: Path) -> None:
    link = tmp_path / "loop"
    link.symlink_to(link)
    [item] = list(expand_inputs([str(link)]))
    assert isinstance(item, InputError)
    assert str(item) == f"{link}: symbolic link loop"


def test_broken_link_in_folder(tmp_path: Path) -> None:
    root = tree(tmp_path / "d", {"a.txt": b"a"})
    (root / "gone.txt").symlink_to(root / "missing.txt")
    items = names(list(expand_inputs([str(root)])), root)
    assert items == [
        "a.txt",
        f"error: {root / 'gone.txt'}: broken symbolic link (its target does not exist)",
    ]


def test_fifo_in_folder_is_refused_not_opened(tmp_path: Path) -> None:
    root = tree(tmp_path / "d", {"a.txt": b"a"})
    os.mkfifo(root / "pipe.txt")
    items = names(list(expand_inputs([str(root)])), root)
    assert items == ["a.txt", f"error: {root / 'pipe.txt'}: not a regular file (FIFO, device or "
                               "socket); skipped"]


@NOT_ROOT
def test_unreadable_file_and_folder(tmp_path: Path) -> None:
    root = tree(tmp_path / "d", {"a.txt": b"a", "locked/b.txt": b"b", "secret.txt": b"s"})
    (root / "secret.txt").chmod(0)
    (root / "locked").chmod(0)
    try:
        items = names(list(expand_inputs([str(root)])), root)
    finally:
        (root / "locked").chmod(0o755)
    assert items == [
        "a.txt",
        f"error: {root / 'locked'}: permission denied",
        f"error: {root / 'secret.txt'}: permission denied",
    ]


def test_deep_tree_does_not_recurse(tmp_path: Path) -> None:
    # 1,200 nested folders: more than Python's recursion limit, if the walk recursed.
    deep = tmp_path
    for _ in range(1200):  # level by level: pathlib's mkdir(parents=True) itself recurses
        deep = deep / "d"
        deep.mkdir()
    (deep / "end.txt").write_bytes(b"end")
    try:
        assert list(expand_inputs([str(tmp_path)])) == [str(deep / "end.txt")]
    finally:
        # Remove it bottom-up: pytest's own clean-up of old tmp folders recurses, and fails.
        (deep / "end.txt").unlink()
        while deep != tmp_path:
            deep.rmdir()
            deep = deep.parent


# --- read_documents: formats --------------------------------------------------------------------

INPUTS = Path(__file__).resolve().parent.parent / "fixtures" / "inputs"
NEWS = "Harbour ferry returns after winter repairs\nThe ferry sailed again on Monday.\n"


def page(title: str, text: str) -> bytes:
    """A small news page."""
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{text}</p></article></body></html>").encode()


def docs(items: Iterator[Document | InputError]) -> list[tuple[str, str]]:
    """(source, text) of documents, ("error", message) of errors."""
    return [
        ("error", str(item)) if isinstance(item, InputError) else (item.source, item.text)
        for item in items
    ]


def test_jsonl_fixture_bad_lines_do_not_stop_the_file() -> None:
    path = str(INPUTS / "wire.jsonl")
    items = docs(read_documents(path))
    assert [source for source, _ in items] == [
        f"{path}:wire-0412", f"{path}:wire-0413", "error", "error", f"{path}:@5",
    ]  # fmt: skip
    assert items[0][1].startswith("Council votes to keep Eastfield library open\nBy Sam Okafor")
    assert items[2][1] == (
        f"{path}: line 3: not valid JSON (Invalid control character, column 44)"
    )
    assert items[3][1] == f"{path}: line 4: field 'text' is missing"


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"[1, 2]", "an array, not a JSON object"),
        (b'{"text": null}', "field 'text' is null, not a string"),
        (b'{"text": ["a"]}', "field 'text' is an array, not a string"),
        (b'{"text": "x", "id": true}', "field 'id' is a boolean, not a string or integer"),
        (b'{"text": "x", "id": {"a": 1}}', "field 'id' is an object, not a string or integer"),
        (b'{"text": "x", "id": "' + b"i" * 300 + b'"}',
         "field 'id' is 300 characters long, over the 256-character cap for an id"),
        (b'{"text": "caf\xe9"}', "not UTF-8 (invalid byte at offset 13)"),
        (b"{" * 5 + b"}" * 5, "not valid JSON (Expecting property name enclosed in double quotes, "
         "column 2)"),
    ],
    ids=["array", "null-text", "list-text", "bool-id", "object-id", "long-id", "not-utf8",
         "broken"],
)  # fmt: skip
def test_jsonl_bad_record(tmp_path: Path, line: bytes, error: str) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"id": 1, "text": "first"}\n' + line + b'\n{"id": 3, "text": "last"}\n')
    assert docs(read_documents(str(path))) == [
        (f"{path}:1", "first"),
        ("error", f"{path}: line 2: {error}"),
        (f"{path}:3", "last"),
    ]


def test_jsonl_fields_ids_and_text(tmp_path: Path) -> None:
    rows = [
        {"doc": "a/b#c@d%e\n", "body": "one\r\ntwo\rthree"},  # specials and newline %-encoded
        {"doc": 7, "body": "int id"},
        {"doc": 7, "body": "repeated id"},
        {"body": "no id"},
        {"doc": None, "body": "null id"},
        {"doc": "../../etc/x", "body": "path-like id stays plain"},
        {"doc": "\ud800", "body": "lone \ud800 surrogate"},
    ]
    path = tmp_path / "feed.ndjson"
    path.write_text("\ufeff" + "\n\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    items = docs(read_documents(str(path), text_field="body", id_field="doc"))
    assert items == [
        (f"{path}:a/b%23c%40d%25e%0A", "one\ntwo\nthree"),
        (f"{path}:7", "int id"),
        (f"{path}:7@5", "repeated id"),
        (f"{path}:@7", "no id"),
        (f"{path}:@9", "null id"),
        (f"{path}:../../etc/x", "path-like id stays plain"),
        (f"{path}:\ufffd", "lone \ufffd surrogate"),
    ]
    assert all("#" not in source for source, _ in items)


def test_text_and_html_inputs() -> None:
    [html] = docs(read_documents(str(INPUTS.parent / "html" / "orchard-frost.htm")))
    assert html[1].startswith("Late frost cuts apple harvest forecast\n")
    [text] = docs(read_documents(str(INPUTS / "tram-mixed.txt")))
    assert text[1].startswith("Z\u00fcrich council approves new tram line\n")
    [page_doc] = read_documents(str(INPUTS.parent / "html" / "orchard-frost.htm"))
    [text_doc] = read_documents(str(INPUTS / "tram-mixed.txt"))
    assert isinstance(page_doc, Document) and isinstance(text_doc, Document)
    assert page_doc.text.split("\n")[(page_doc.comments_from or 0) - 1].startswith("We lost")
    assert text_doc.comments_from is None


COMPRESSORS = {
    "gz": lambda data: gzip.compress(data, mtime=0),
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zst": zstd.compress,
}


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
@pytest.mark.parametrize(
    ("inner", "data", "expected"),
    [
        ("txt", NEWS.encode(), [("", NEWS)]),
        ("jsonl", b'{"id": "n1", "text": "First story."}\n{"id": "n2", "text": "Second."}\n',
         [(":n1", "First story."), (":n2", "Second.")]),
        # Whatever the HTML path makes of the page, uncompressed.
        ("html", page("Ferry back", "It sailed on Monday."),
         [("", html_to_text(page("Ferry back", "It sailed on Monday.")))]),
    ],
    ids=["txt", "jsonl", "html"],
)  # fmt: skip
def test_compressed(
    tmp_path: Path, suffix: str, inner: str, data: bytes, expected: list[tuple[str, str]]
) -> None:
    path = tmp_path / f"input.{inner}.{suffix}"
    path.write_bytes(COMPRESSORS[suffix](data))
    assert docs(read_documents(str(path))) == [(f"{path}{key}", text) for key, text in expected]


def test_zstd_of_several_frames(tmp_path: Path) -> None:
    path = tmp_path / "two.txt.zst"
    path.write_bytes(COMPRESSORS["zst"](b"first frame\n") + COMPRESSORS["zst"](b"second frame\n"))
    assert docs(read_documents(str(path))) == [(str(path), "first frame\nsecond frame\n")]


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_truncated_compressed_file_keeps_earlier_records(tmp_path: Path, suffix: str) -> None:
    rows = b"".join(b'{"id": %d, "text": "Story number %d of the wire."}\n' % (i, i)
                    for i in range(2000))
    data = COMPRESSORS[suffix](rows)
    path = tmp_path / f"cut.jsonl.{suffix}"
    path.write_bytes(data[: len(data) // 2])
    items = list(read_documents(str(path)))
    assert all(isinstance(item, Document) for item in items[:-1])
    assert isinstance(items[-1], InputError)
    assert str(items[-1]).startswith(f"{path}: corrupt or truncated ")


def test_not_compressed_despite_suffix(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt.gz"
    path.write_bytes(NEWS.encode())
    [(kind, message)] = docs(read_documents(str(path)))
    assert kind == "error"
    assert message.startswith(f"{path}: corrupt or truncated gzip data (Not a gzipped file")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (gzip.compress(NEWS.encode()), [("-", NEWS)]),
        (b'{"id": "s1", "text": "From a pipe."}\n', [("-:s1", "From a pipe.")]),
        (b'{"headline": "not our field"}\n', [("-", '{"headline": "not our field"}\n')]),
        (gzip.compress(b'{"text": "zipped rows"}\n'), [("-:@1", "zipped rows")]),
    ],
    ids=["gzip-text", "jsonl", "json-like-text", "gzip-jsonl"],
)
def test_stdin_is_sniffed(data: bytes, expected: list[tuple[str, str]]) -> None:
    assert docs(read_documents("-", stdin=io.BytesIO(data))) == expected


def test_whole_file_errors_are_items(tmp_path: Path) -> None:
    assert docs(read_documents(str(tmp_path / "gone.jsonl"))) == [
        ("error", f"{tmp_path / 'gone.jsonl'}: no such file")
    ]
    assert docs(read_documents(str(tmp_path))) == [
        ("error", f"{tmp_path}: is a directory, not a file")
    ]


def test_read_document_refuses_a_container(tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    path.write_bytes(b'{"text": "a"}\n{"text": "b"}\n')
    with pytest.raises(InputError, match="holds several documents"):
        read_document(str(path))
    (tmp_path / "one.txt.gz").write_bytes(gzip.compress(NEWS.encode()))
    assert read_document(str(tmp_path / "one.txt.gz")).text == NEWS


# --- WARC ---------------------------------------------------------------------------------------


def warc_record(
    url: str,
    body: bytes,
    *,
    content_type: str = "text/html; charset=utf-8",
    status: str = "200 OK",
    kind: str = "response",
    date: str = "2024-03-05T10:11:12Z",
    http_headers: str = "",
) -> bytes:
    """One WARC/1.0 record: an HTTP response (or a request) for `url`."""
    if kind == "response":
        block = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{http_headers}"
                 f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    else:
        block = body
    head = (f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {url}\r\nWARC-Date: {date}\r\n"
            f"WARC-Record-ID: <urn:uuid:{len(body):08d}-0000-0000-0000-000000000000>\r\n"
            f"Content-Type: application/http; msgtype={kind}\r\n"
            f"Content-Length: {len(block)}\r\n\r\n").encode()
    return head + block + b"\r\n\r\n"


def test_warc_fixture() -> None:
    path = str(INPUTS / "crawl.warc.gz")
    items = list(read_documents(path))
    assert all(isinstance(item, Document) for item in items)
    documents = [item for item in items if isinstance(item, Document)]
    # The request, the PNG and the 301 are skipped; HTML and text/plain responses are read.
    assert [(d.source, d.url, d.date) for d in documents] == [
        (f"{path}:2", "https://courier.example/news/ferry", "2024-03-05"),
        (f"{path}:5", "https://eastfield.example/library", "2024-05-03"),
        (f"{path}:6", "https://courier.example/tides.txt", "2024-03-04"),
    ]
    assert documents[0].text.startswith("Harbour ferry returns after winter repairs\n")
    assert "Subscribe today" not in documents[0].text  # through the HTML path
    assert documents[2].text.startswith("Tide tables for the harbour, week of 4 March\n")
    # Each HTML page says where its comment section starts; plain text has none.
    for document in documents[:2]:
        assert document.comments_from is not None
        first = document.text.split("\n")[document.comments_from - 1]
        assert "omment" in first, first
    assert documents[2].comments_from is None


@pytest.mark.parametrize("compress", [False, True], ids=["warc", "warc-gz-per-record"])
def test_warc_records(tmp_path: Path, compress: bool) -> None:
    records = [
        warc_record("https://a.example/1", page("Ferry back", "It sailed on Monday.")),
        warc_record("https://a.example/2", "<p>Caf\u00e9 r\u00e9ouvert.</p>".encode("cp1252"),
                    content_type="text/html; charset=windows-1252", date="2023-12-31T23:59:59Z"),
        warc_record("https://a.example/3", b"{}", content_type="application/json"),
        warc_record("https://a.example/4", page("Gone", "Not here."), status="404 Not Found"),
        warc_record("https://a.example/5", gzip.compress(page("Zipped", "Sent gzipped.")),
                    http_headers="Content-Encoding: gzip\r\n", date="not a date"),
    ]  # fmt: skip
    data = b"".join(gzip.compress(r) if compress else r for r in records)
    path = tmp_path / ("crawl.warc.gz" if compress else "crawl.warc")
    path.write_bytes(data)
    items = list(read_documents(str(path)))
    assert [(d.source, d.url, d.date, d.text) for d in items if isinstance(d, Document)] == [
        (f"{path}:1", "https://a.example/1", "2024-03-05", "Ferry back\nIt sailed on Monday."),
        (f"{path}:2", "https://a.example/2", "2023-12-31", "Caf\u00e9 r\u00e9ouvert."),
        (f"{path}:5", "https://a.example/5", None, "Zipped\nSent gzipped."),
    ]
    assert len(items) == 3


def test_warc_bad_record_payload_is_one_error(tmp_path: Path) -> None:
    records = [
        warc_record("https://a.example/1", b"\x89PNG\0\0\0 binary sent as html"),
        warc_record("https://a.example/2", page("Still read", "The next record goes on.")),
    ]
    path = tmp_path / "mixed.warc"
    path.write_bytes(b"".join(records))
    assert docs(read_documents(str(path))) == [
        ("error", f"{path}:1: binary content, not text (NUL byte at offset 4)"),
        (f"{path}:2", "Still read\nThe next record goes on."),
    ]


def test_warc_garbage_after_records(tmp_path: Path) -> None:
    path = tmp_path / "bad.warc"
    path.write_bytes(warc_record("https://a.example/1", page("First", "Kept.")) + b"NOT A WARC\r\n")
    items = docs(read_documents(str(path)))
    assert items[0] == (f"{path}:1", "First\nKept.")
    assert items[1][0] == "error"
    assert items[1][1].startswith(f"{path}: record 2: not a WARC record (")
    assert items[1][1].endswith("rest of the file not read")


@pytest.mark.parametrize(
    ("cut", "error"),
    [
        (100, "2: the file ends 96 bytes short of this record's Content-Length"),
        (0, ""),
    ],
    ids=["cut-in-a-page", "whole"],
)
def test_warc_cut_short(tmp_path: Path, cut: int, error: str) -> None:
    # warcio ends quietly inside a cut record; the reader says so instead of giving half a page.
    data = (warc_record("https://a.example/1", page("First", "Kept."))
            + warc_record("https://a.example/2", page("Second", "Cut.")))
    path = tmp_path / "cut.warc"
    path.write_bytes(data[: len(data) - cut])
    items = docs(read_documents(str(path)))
    assert items[0] == (f"{path}:1", "First\nKept.")
    if error:
        assert items[1:] == [("error", f"{path}:{error} (truncated, or a wrong length)")]
    else:
        assert items[1:] == [(f"{path}:2", "Second\nCut.")]


def test_warc_wrong_length_is_reported_not_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = warc_record("https://a.example/1", page("First", "Kept."))
    length = re.search(rb"\r\nContent-Length: (\d+)\r\n\r\nHTTP", first)
    assert length is not None
    short = first.replace(length.group(0), length.group(0).replace(
        length.group(1), b"%d" % (int(length.group(1)) - 10)))  # fmt: skip
    path = tmp_path / "short.warc"
    path.write_bytes(short + warc_record("https://a.example/2", page("Second", "Read.")))
    items = docs(read_documents(str(path)))
    assert [source for source, _ in items] == [f"{path}:1", "error", f"{path}:2"]
    assert items[1][1].startswith(f"{path}:1: not followed by a blank line, so its Content-Length")
    assert capsys.readouterr().err == ""  # warcio's own warning stays off stderr
