"""Read inputs into Documents, and Documents into Lines."""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
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
# UTF-16/32 text holds NUL bytes: it is recognised by its byte-order mark before the binary sniff.
# UTF-32 first: its little-endian mark starts with UTF-16's.
UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)  # fmt: skip
# charset-normalizer reads at most this much of the lines that are not UTF-8: it is slow on
# megabytes, and a page's encoding shows in its first tens of kilobytes.
DETECT_SAMPLE_BYTES = 65_536
# As browsers do (WHATWG), the Western default wins among the encodings that fit equally well:
# on short Latin text charset-normalizer ranks iso8859-14 or cp1006 first just as happily.
PREFERRED_LEGACY = "cp1252"

# Bounds on one document (README, "Limits"). A line longer than this is not a paragraph (it is
# minified script, base64 or a file without line ends), and the model's line features assume
# paragraphs: the document is refused rather than split, because record line numbers must stay
# the source's line numbers.
MAX_LINE_CHARS = 100_000
# Bytes of one document (a text file, an HTML page, a WARC payload, a JSON text field in
# characters) once decompressed; past it the document is refused.
MAX_DOCUMENT_BYTES = 50_000_000
# trafilatura's time grows faster than the page (4 MB of paragraphs take 20 s, 40 MB hours), so
# larger pages get the linear block dump instead (html_block_lines).
MAX_EXTRACT_CHARS = 2_000_000
# libxml2 stops parsing at this depth unless huge_tree is on, and drops the rest of the page.
LXML_MAX_DEPTH = 255

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
# A page's <title> sits in its <head>, which lxml's tree skips; a tokenizer sees it on its own.
STREAM_SKIPPED = HTML_SKIPPED | {"title"}


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
    """Read one single-document input ("-" for standard input): text, or HTML turned into lines.

    Compressed files are read too. A JSON Lines or WARC input holds many documents: read it with
    cleaner.sources.read_documents, which this wraps.
    """
    from cleaner.sources import read_documents

    items = read_documents(path, stdin=stdin)
    first = next(items, None)
    if isinstance(first, InputError):
        raise first
    if first is None or next(items, None) is not None:
        raise InputError(
            f"{_display_name(path)}: holds {'no' if first is None else 'several'} documents "
            "(JSON Lines or WARC); read it with cleaner.sources.read_documents"
        )
    return first


def document_text(
    data: bytes,
    *,
    source: str = "<input>",
    html: bool | None = None,
    path: str = STDIN,
    charset: str | None = None,
    max_line_chars: int = MAX_LINE_CHARS,
) -> tuple[str, int | None]:
    """The text lines of one document's bytes (HTML extracted, other text decoded; bounded), and
    the 1-based line where an HTML page's comment section starts (None: no such section).

    `html` None means: HTML if `path` has an HTML suffix or the bytes open like a page. `charset`
    is an encoding declared outside the bytes (an HTTP header), tried first for HTML. Raises
    InputError for binary data, undecodable text, or a line over `max_line_chars`.
    """
    if not data.startswith(tuple(bom for bom, _ in UNICODE_BOMS)):
        check_not_binary(data, source=source)
    is_page = html if html is not None else is_html(data, path=path)
    text, comments_from = (
        html_text_and_comments(data, source=source, charset=charset) if is_page
        else (decode_text(data, source=source), None)
    )
    # A stray NUL past the binary sniff stays in plain text as it is (the JSON output escapes
    # it); html_to_text turns it into U+FFFD, as lxml refuses NUL.
    check_line_lengths(text, source=source, max_chars=max_line_chars)
    return text, comments_from


def check_line_lengths(
    text: str, *, source: str = "<input>", max_chars: int = MAX_LINE_CHARS
) -> None:
    """Raise InputError naming the first line longer than `max_chars` characters."""
    start = 0
    number = 1
    # find() in a loop: no list of a million lines, and a 50 MB line is one step.
    while start <= len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if end - start > max_chars:
            raise InputError(
                f"{source}: line {number} is {end - start:,} characters long, over the "
                f"{max_chars:,}-character cap for one line (not a paragraph: minified script, "
                "base64 or a file without line ends?)"
            )
        start = end + 1
        number += 1


def _display_name(path: str) -> str:
    """How error messages name an input."""
    return "<stdin>" if path == STDIN else path


def check_not_binary(data: bytes, *, source: str = "<input>") -> None:
    """Raise InputError when the start of the data holds a NUL byte (a binary file)."""
    offset = data.find(b"\0", 0, BINARY_SNIFF_BYTES)
    if offset >= 0:
        raise InputError(f"{source}: binary content, not text (NUL byte at offset {offset})")


def decode_text(data: bytes, *, source: str = "<input>") -> str:
    """Text bytes as str: UTF-8 (BOM dropped) first, else detected; CRLF and CR made LF.

    UTF-16/32 is read by its byte-order mark. Otherwise every line that is valid UTF-8 is read as
    UTF-8, and the other lines in the one encoding charset-normalizer finds for them: a legacy
    file decodes right, and so does a UTF-8 file with a few pasted legacy lines (mixed encodings).
    Raises InputError when no text encoding fits (binary data).
    """
    for bom, codec in UNICODE_BOMS:
        if data.startswith(bom):
            try:
                return normalise_newlines(data.decode(codec))
            except UnicodeDecodeError as err:
                reason = err.reason
                raise InputError(f"{source}: not valid {codec.upper()} text ({reason})") from None
    data = data.removeprefix(UTF8_BOM)
    try:
        return normalise_newlines(data.decode("utf-8"))
    except UnicodeDecodeError:
        return normalise_newlines(decode_mixed(data, source=source))


def decode_mixed(data: bytes, *, source: str = "<input>") -> str:
    """Bytes that are not all UTF-8: UTF-8 lines as UTF-8, the others in their detected encoding."""
    # b"\n" never occurs inside a character of an ASCII-compatible encoding (Shift-JIS, GB18030
    # and Big5 trail bytes start at 0x40), so splitting on it first is safe.
    lines: list[str | bytes] = []
    bad: list[bytes] = []
    for raw in data.split(b"\n"):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(raw)
            bad.append(raw)
    encoding = detect_encoding(b"\n".join(bad)[:DETECT_SAMPLE_BYTES], source=source)
    return "\n".join(
        line if isinstance(line, str) else line.decode(encoding, errors="replace") for line in lines
    )


def detect_encoding(sample: bytes, *, source: str = "<input>") -> str:
    """The legacy encoding of some non-UTF-8 bytes (charset-normalizer); InputError if none fits."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(sample))
    if not matches:
        raise InputError(f"{source}: binary content, not text (no text encoding fits its bytes)")
    best = matches[0]
    for match in matches:
        if match.encoding == PREFERRED_LEGACY and match.chaos <= best.chaos:
            return PREFERRED_LEGACY
    return str(best.encoding)


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


def html_to_text(
    html: str | bytes, *, source: str = "<html>", charset: str | None = None
) -> str:
    """The text of an HTML page, one line per block: title, main text, then comments."""
    return html_text_and_comments(html, source=source, charset=charset)[0]


def html_text_and_comments(
    html: str | bytes, *, source: str = "<html>", charset: str | None = None
) -> tuple[str, int | None]:
    """html_to_text's text, and the 1-based line where the page's comment section starts (the
    lines trafilatura puts in its <comments> element, all at the end), None when it has none.

    A page over MAX_EXTRACT_CHARS, or nested deeper than lxml parses (255 elements: it silently
    drops everything after), gets the plain block dump instead of trafilatura, so that no text is
    lost and time stays linear in the page; the dump tells no comment section apart.
    """
    page = html if isinstance(html, str) else decode_html(html, charset=charset, source=source)
    # lxml refuses NUL in text; entities are never expanded (the HTML parsers ignore DTDs).
    page = normalise_newlines(page).replace("\0", "\ufffd")
    if len(page) > MAX_EXTRACT_CHARS or too_deep_for_lxml(page):
        return "\n".join(stream_block_lines(page)), None
    # Imported here: trafilatura takes a good part of a second to import, `import cleaner` must not.
    import trafilatura

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
    lines, comments = _extracted_lines(xml) if xml else ([], 0)
    if not lines:
        return "\n".join(html_block_lines(page, source=source)), None
    return "\n".join(lines), (len(lines) - comments + 1 if comments else None)


def too_deep_for_lxml(page: str) -> bool:
    """Whether lxml's HTML parser stops early on this page (elements nested over 255 deep)."""
    if page.count("<") <= LXML_MAX_DEPTH:
        return False  # too few tags to nest that deep: no need to parse it twice
    from lxml import etree, html

    # huge_tree stays off: that limit is what keeps a hostile page from exhausting memory.
    parser = html.HTMLParser(encoding="utf-8", no_network=True, huge_tree=False)
    try:
        html.document_fromstring(page.encode("utf-8", errors="replace"), parser=parser)
    except (etree.LxmlError, ValueError):
        return False  # an empty or broken page: trafilatura and the fallback handle it
    return any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)


def decode_html(data: bytes, *, charset: str | None = None, source: str = "<html>") -> str:
    """HTML bytes as text: UTF-8 if valid, else the given or declared charset, else detected."""
    if data.startswith(tuple(bom for bom, _ in UNICODE_BOMS)):
        return decode_text(data, source=source)
    data = data.removeprefix(UTF8_BOM)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Trust a declaration before guessing: detectors confuse cp1252 and cp1250. The HTTP header's
    # charset (a WARC record's) comes first, as in browsers; then the page's own <meta>.
    declared = DECLARED_CHARSET.search(data[:HTML_SNIFF_BYTES])
    names = [charset] if charset else []
    if declared is not None:
        names.append(declared.group(1).decode("ascii"))
    for name in names:
        try:
            codec = codecs.lookup(name).name
            # As browsers do (WHATWG encoding standard): latin-1 and ASCII labels mean cp1252.
            return data.decode(LEGACY_ALIASES.get(codec, codec))
        except (LookupError, UnicodeDecodeError):
            continue
    return decode_mixed(data, source=source)


def _extracted_lines(xml: str) -> tuple[list[str], int]:
    """The lines of trafilatura's XML output, its title first ([] if it holds no text), and how
    many of the last ones come from its <comments> element."""
    root = _parse_xml(xml)
    if root is None:
        return [], 0
    walk = functools.partial(block_lines, root, blocks=XML_BLOCKS, breaks=XML_BREAKS,
                             items=XML_ITEMS)
    lines = walk()
    if not lines:
        return [], 0
    # The same walk without the comments: what it loses is the comment section, provided it
    # is all at the end (trafilatura's output puts it there; anything else counts as none).
    # With no main text at all, trafilatura's "comments" may well be the article: none either.
    main = walk(skipped={"comments"})
    comments = len(lines) - len(main) if main and lines[: len(main)] == main else 0
    return with_title(lines, title=root.get("title") or ""), comments


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


def stream_block_lines(page: str) -> list[str]:
    """The block dump of html_block_lines, for pages too large or too deep for an lxml tree.

    Streamed with the standard library's tokenizer, not built as a tree: no depth limit, no
    recursion, time linear in the page, and no DTD or entity declaration is ever processed.
    """
    dump = _BlockDump()
    dump.feed(page)
    dump.close()
    dump.end_line()
    return dump.lines


class _BlockDump(HTMLParser):
    """Collects a page's text into lines as the tokenizer streams through it (private)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.parts: list[str] = []
        self.skipping: list[str] = []  # open skipped elements (script, style, head, ...)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A block or break ends the line; a skipped element hides its text until it closes."""
        if tag == "body":
            self.skipping.clear()  # an unclosed <head> ends where the body starts
        if tag in STREAM_SKIPPED:
            self.skipping.append(tag)
        elif tag in HTML_BLOCKS or tag in HTML_BREAKS:
            self.end_line()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A self-closing tag: only a break or a block ends the line."""
        if tag in HTML_BLOCKS or tag in HTML_BREAKS:
            self.end_line()

    def handle_endtag(self, tag: str) -> None:
        """The end of a skipped element, or of a block (which ends the line)."""
        if tag in self.skipping:
            while self.skipping.pop() != tag:
                pass
        elif tag in HTML_BLOCKS:
            self.end_line()

    def handle_data(self, data: str) -> None:
        """Text, unless inside a skipped element."""
        if not self.skipping:
            self.parts.append(data)

    def end_line(self) -> None:
        """Close the current line, if it holds any text."""
        text = collapse_spaces("".join(self.parts))
        self.parts.clear()
        if text:
            self.lines.append(text)


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
