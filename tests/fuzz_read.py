"""Fuzz target over the readers: any bytes give a document (or text) or a CleanerError.

Every input goes through each reading path: `read_document` on standard input (binary sniffing,
BOM, UTF-8 decoding, CRLF/CR, the HTML sniffer), `html_to_text` forced (charset guessing,
trafilatura, the lxml fallback), the file readers `cleaner split` uses (cleaner.batch's
`documents_of`: the container readers of cleaner.sources, JSON Lines and WARC, as they exist) on
the bytes saved under container names, both as they are and compressed (so that mutations reach
inside valid archives too), and `split_lines` on what comes out. Anything but a CleanerError
escaping, or a result breaking the line invariants below, is a finding.

    python tests/fuzz_read.py [libFuzzer flags] CORPUS_DIR [SEED_DIR...]   # atheris (make fuzz)

pytest runs the same `check_input` over tests/regressions/read/ and, without atheris, over
random bytes (tests/test_fuzz.py). Not collected by pytest itself (not a test_*.py file).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import cleaner.read
from cleaner.batch import ReadOptions, documents_of
from cleaner.errors import CleanerError
from cleaner.types import Document, Line

# File names the readers tell containers by; the bytes are saved under each as they are.
CONTAINER_NAMES = ("input.txt", "input.jsonl", "input.warc", "input.gz")
# ... and compressed, so that the container inside a valid archive sees the mutated bytes.
COMPRESSED: tuple[tuple[str, Callable[[bytes], bytes]], ...] = (
    ("input.jsonl.gz", gzip.compress),
    ("input.warc.gz", gzip.compress),
    ("input.txt.bz2", bz2.compress),
    ("input.jsonl.xz", lzma.compress),
)


def check_lines(lines: list[Line]) -> None:
    """What split_lines promises: increasing numbers, stripped non-empty texts."""
    numbers = [line.number for line in lines]
    assert numbers == sorted(set(numbers)), "line numbers not strictly increasing"
    for line in lines:
        assert line.text and line.text == line.text.strip(), f"line {line.number} not stripped"
        assert "\n" not in line.text, f"line {line.number} holds a newline"


def check_text(text: object) -> None:
    """A reader's text: a str with LF line ends only, whose lines keep split_lines' promises."""
    assert isinstance(text, str), f"reader returned {type(text).__name__}, not str"
    assert "\r" not in text, "CR left in the text: line numbers would shift"
    check_lines(cleaner.read.split_lines(text))


@cache
def scratch() -> tempfile.TemporaryDirectory[str]:
    """A folder for the files the file readers are given: one per process, removed at exit."""
    return tempfile.TemporaryDirectory(prefix="cleaner-fuzz-")


def check_file(name: str, data: bytes) -> None:
    """Read the bytes saved as `name` the way `cleaner split` does: documents or InputErrors."""
    path = Path(scratch().name) / name
    path.write_bytes(data)
    try:
        for item in documents_of(str(path), options=ReadOptions()):
            if isinstance(item, Document):
                check_text(item.text)
            else:
                assert isinstance(item, CleanerError), f"reader yielded {type(item).__name__}"
    except CleanerError:
        pass


def check_input(data: bytes) -> None:
    """Feed one input to every reading path; raise AssertionError (or whatever leaks) on a bug."""
    try:
        document = cleaner.read.read_document("-", stdin=io.BytesIO(data))
    except CleanerError:
        pass
    else:
        assert document.source == "-"
        check_text(document.text)
    try:
        text = cleaner.read.html_to_text(data, source="fuzz.html")
    except CleanerError:
        pass
    else:
        check_text(text)
    for name in CONTAINER_NAMES:
        check_file(name, data)
    for name, compress in COMPRESSED:
        check_file(name, compress(data))


def main(argv: list[str]) -> None:
    """Run atheris (libFuzzer) over check_input, with the readers and trafilatura instrumented."""
    import importlib

    import atheris

    # Coverage of every Python function loaded so far (cleaner.read, trafilatura and the parsers
    # it calls) guides the mutations; cleaner is imported before main runs, so instrument_imports
    # would miss it. trafilatura goes first: html_to_text imports it only when called.
    importlib.import_module("trafilatura.utils")
    atheris.instrument_all()
    atheris.Setup(argv, check_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
