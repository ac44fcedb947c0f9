"""Read inputs into Documents, and Documents into Lines."""

from __future__ import annotations

import codecs
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from cleaner.errors import InputError
from cleaner.types import Document, Line

STDIN = "-"
UTF8_BOM = b"\xef\xbb\xbf"
# A NUL byte this early means a binary file; text and HTML never hold one.
BINARY_SNIFF_BYTES = 8192
# How far into the file the HTML sniffer looks past a BOM, whitespace, comments and <?xml?>.
HTML_SNIFF_BYTES = 2048
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
HTML_OPENINGS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<title")
# A charset declared in a <meta> tag or an XML declaration near the top of a page.
DECLARED_CHARSET = re.compile(
    rb"""<(?:meta|\?xml)\b[^>]*?(?:charset|encoding)\s*=\s*["']?([\w.:-]+)""", re.I
)
LEGACY_ALIASES = {"iso8859-1": "cp1252", "ascii": "cp1252"}

# trafilatura XML: elements that end a line (as in its own text output), and line breaks.
XML_BLOCKS = frozenset(
    {"doc", "main", "comments", "head", "p", "list", "item", "quote", "table", "row", "cell"}
)
XML_BREAKS = frozenset({"lb"})
XML_ITEMS = frozenset({"item"})
# Plain HTML: the block-level elements whose own text makes one line of the fallback dump.
HTML_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
        "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li", "main", "menu", "nav", "ol",
        "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        "ul", "option", "caption", "legend",
    }
)  # fmt: skip
HTML_BREAKS = frozenset({"br"})
HTML_SKIPPED = frozenset(
    {"head", "script", "style", "noscript", "template", "svg", "math", "iframe", "object"}
)


def split_lines(text: str) -> list[Line]:
    """The non-blank lines of a text, numbered from 1, each with the blank-line run above it."""
    lines: list[Line] = []
    blank = 0
    # split("\n"), not splitlines(): form feeds and U+2028 must not shift line numbers.
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if not stripped:
            blank += 1
            continue
        lines.append(Line(number=number, text=stripped, blank_before=blank))
        blank = 0
    return lines


def read_document(path: str, *, stdin: BinaryIO | None = None) -> Document:
    """Read one input file ("-" for standard input) as text, HTML turned into text lines."""
    data = _read_bytes(path, stdin=stdin)
    name = _display_name(path)
    check_not_binary(data, source=name)
    if is_html(data, path=path):
        return Document(source=path, text=html_to_text(data, source=name))
    return Document(source=path, text=decode_text(data, source=name))


def _display_name(path: str) -> str:
    """How error messages name an input."""
    return "<stdin>" if path == STDIN else path


def _read_bytes(path: str, *, stdin: BinaryIO | None = None) -> bytes:
    """All bytes of a file or of standard input, OS failures turned into InputError."""
    try:
        if path == STDIN:
            return (stdin if stdin is not None else sys.stdin.buffer).read()
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as err:
        raise InputError(f"{_display_name(path)}: cannot read ({err.strerror or err})") from None


def check_not_binary(data: bytes, *, source: str = "<input>") -> None:
    """Raise InputError when the start of the data holds a NUL byte (a binary file)."""
    offset = data.find(b"\0", 0, BINARY_SNIFF_BYTES)
    if offset >= 0:
        raise InputError(f"{source}: binary content, not text (NUL byte at offset {offset})")


def decode_text(data: bytes, *, source: str = "<input>") -> str:
    """UTF-8 bytes as text: BOM dropped, CRLF and CR line ends turned into LF."""
    skip = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as err:
        offset = skip + err.start
        raise InputError(
            f"{source}: not UTF-8 text (invalid byte 0x{data[offset]:02x} at offset {offset})"
        ) from None
    return normalise_newlines(text)


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR line ends as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def is_html(data: bytes, *, path: str = STDIN) -> bool:
    """Whether an input is HTML: by its suffix, else by how its first bytes look."""
    if path != STDIN and Path(path).suffix.lower() in HTML_SUFFIXES:
        return True
    return _looks_like_html(data[:HTML_SNIFF_BYTES])


def _looks_like_html(head: bytes) -> bool:
    """Whether bytes open like an HTML page, past a BOM, whitespace, comments and <?xml?>."""
    rest = head.removeprefix(UTF8_BOM).lstrip().lower()
    # A page may open with a comment or an XML declaration before its doctype.
    while rest.startswith((b"<!--", b"<?")):
        end = rest.find(b"-->" if rest.startswith(b"<!--") else b"?>")
        if end < 0:
            return False
        rest = rest[end:].partition(b">")[2].lstrip()
    return rest.startswith(HTML_OPENINGS)


def html_to_text(html: str | bytes, *, source: str = "<html>") -> str:
    """The text of an HTML page, one line per block: title, main text, then comments."""
    # Imported here: trafilatura takes a good part of a second to import, `import cleaner` must not.
    import trafilatura

    page = normalise_newlines(decode_html(html) if isinstance(html, bytes) else html)
    # The only call to trafilatura in cleaner: flags as for the corpus's `extracted` dumps,
    # but XML out, so that headings and comments stay visible as lines, with the title.
    from lxml import etree

    try:
        xml = trafilatura.extract(
            page,
            output_format="xml",
            include_comments=True,
            favor_recall=True,
            include_tables=False,
            with_metadata=True,
        )
    except (etree.LxmlError, ValueError):
        # trafilatura re-parses its own XML output, and a tag name that is not XML copied from
        # the page ("<across,>") breaks that (found by fuzzing, tests/regressions/read/): the
        # block dump still gives the page's text.
        xml = None
    lines = _extracted_lines(xml) if xml else []
    if not lines:
        lines = html_block_lines(page, source=source)
    return "\n".join(lines)


def decode_html(data: bytes) -> str:
    """HTML bytes as text: UTF-8 if valid, else the declared charset, else a detected one."""
    from trafilatura.utils import decode_file

    data = data.removeprefix(UTF8_BOM)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Trust the page's own declaration before guessing: detectors confuse cp1252 and cp1250.
    declared = DECLARED_CHARSET.search(data[:HTML_SNIFF_BYTES])
    if declared is not None:
        try:
            name = codecs.lookup(declared.group(1).decode("ascii")).name
            # As browsers do (WHATWG encoding standard): latin-1 and ASCII labels mean cp1252.
            return data.decode(LEGACY_ALIASES.get(name, name))
        except (LookupError, UnicodeDecodeError):
            pass
    return str(decode_file(data))


def _extracted_lines(xml: str) -> list[str]:
    """The lines of trafilatura's XML output, its title first; [] if it holds no text."""
    root = _parse_xml(xml)
    if root is None:
        return []
    lines = block_lines(root, blocks=XML_BLOCKS, breaks=XML_BREAKS, items=XML_ITEMS)
    if not lines:
        return []
    return with_title(lines, title=root.get("title") or "")


def _parse_xml(xml: str) -> Any:
    """trafilatura's XML as an lxml element, parsed without entities or network; None if broken."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    try:
        return etree.fromstring(xml.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        # Never seen; the plain HTML dump is still better than failing the whole file.
        return None


def with_title(lines: list[str], *, title: str = "") -> list[str]:
    """The lines with the title put first, unless it is empty or the first line already is it."""
    title = collapse_spaces(title)
    if not title or (lines and lines[0].casefold() == title.casefold()):
        return lines
    return [title, *lines]


def html_block_lines(page: str, *, source: str = "<html>") -> list[str]:
    """A plain dump of an HTML page: one line per block element's own text, scripts dropped."""
    from lxml import etree, html

    # Bytes, not str: lxml refuses str holding an encoding declaration; no network, no entities.
    parser = html.HTMLParser(
        encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True
    )
    try:
        root = html.document_fromstring(page.encode("utf-8"), parser=parser)
    except etree.ParserError:
        # lxml's "Document is empty": a page of whitespace and markup at most.
        return []
    except (etree.LxmlError, ValueError) as err:
        raise InputError(f"{source}: cannot parse HTML ({err})") from None
    return block_lines(root, blocks=HTML_BLOCKS, breaks=HTML_BREAKS, skipped=HTML_SKIPPED)


def block_lines(
    root: Any,
    *,
    blocks: Iterable[str] = HTML_BLOCKS,
    breaks: Iterable[str] = HTML_BREAKS,
    items: Iterable[str] = (),
    skipped: Iterable[str] = (),
) -> list[str]:
    """The text of an lxml tree as lines: a line ends at every block's start and end."""
    builder = _LineBuilder(
        blocks=frozenset(blocks),
        breaks=frozenset(breaks),
        items=frozenset(items),
        skipped=frozenset(skipped),
    )
    builder.walk(root)
    builder.end_line()
    return builder.lines


def collapse_spaces(text: str) -> str:
    """The text with every whitespace run as one space, and none at either end."""
    return " ".join(text.split())


@dataclass
class _LineBuilder:
    """Collects text into lines while walking a tree (private: the only mutable state here)."""

    blocks: frozenset[str]
    breaks: frozenset[str]
    items: frozenset[str]
    skipped: frozenset[str]
    lines: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    prefix: str = ""  # "- " while in a list item whose first line is not out yet

    def walk(self, element: Any) -> None:
        """Add an element's text and its children's; its tail is the caller's."""
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in self.skipped or not tag:  # comments and PIs have a function as tag
            return
        is_block = tag in self.blocks
        if is_block or tag in self.breaks:
            self.end_line()
        if tag in self.items:
            # Marked as trafilatura's text output marks items, so the model sees what it knows.
            self.prefix = "- "
        self.parts.append(element.text or "")
        for child in element:
            self.walk(child)
            self.parts.append(child.tail or "")
        if is_block:
            self.end_line()
        if tag in self.items:
            self.prefix = ""

    def end_line(self) -> None:
        """Close the current line, if it holds any text."""
        text = collapse_spaces("".join(self.parts))
        self.parts.clear()
        if text:
            self.lines.append(self.prefix + text)
            self.prefix = ""
