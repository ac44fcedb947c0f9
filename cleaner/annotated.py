"""Annotated dumps: the JSONL format of docs/LABELS.md and a plain-text format written by hand.

Read, write, convert between the two, and split by page group for held-out evaluation.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleaner.errors import DataError
from cleaner.types import AnnotatedDump, Label, Line

# A page id inside a dump id: "l3s-0007", "dragnet-0123" ("extracted:l3s-0007", "a+b+c").
_PAGE_ID = re.compile(r"[A-Za-z0-9_.-]+-\d+")
_KIND_PREFIX = re.compile(r"^(?:page|extracted|concat|bare):")
# Share of page groups held out for evaluation (see held_out()).
HOLDOUT_PERCENT = 20


def parse_dump(obj: Any, *, where: str = "<data>") -> AnnotatedDump:
    """Turn one decoded JSON object of the annotated format into an AnnotatedDump."""
    if not isinstance(obj, dict) or not isinstance(obj.get("lines"), list):
        raise DataError(f"{where}: not an annotated dump (an object with a 'lines' list)")
    lines: list[Line] = []
    pages: list[int] = []
    blank = 0
    for i, item in enumerate(obj["lines"], start=1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise DataError(f"{where}: line {i} has no 'text' string")
        text = item["text"]
        if not text.strip():
            blank += 1
            continue
        try:
            label = Label(str(item.get("label")))
        except ValueError:
            raise DataError(f"{where}: line {i} has label {item.get('label')!r}") from None
        page = item.get("page", 0)
        if not isinstance(page, int) or isinstance(page, bool) or page < 0:
            raise DataError(f"{where}: line {i} has page {page!r}")
        lines.append(Line(number=i, text=text, blank_before=blank, label=label, p=1.0))
        pages.append(page)
        blank = 0
    return AnnotatedDump(
        id=str(obj.get("id", where)),
        kind=str(obj.get("kind", "page")),
        origin=str(obj.get("origin", "")),
        lines=tuple(lines),
        pages=tuple(pages),
    )


def read_dumps(path: str | Path) -> Iterator[AnnotatedDump]:
    """Yield the annotated dumps of a JSONL file, naming file and line on malformed input."""
    try:
        with Path(path).open(encoding="utf-8") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except json.JSONDecodeError as err:
                    raise DataError(f"{path}:{number}: invalid JSON ({err.msg})") from None
                yield parse_dump(obj, where=f"{path}:{number}")
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None


def dump_to_json(dump: AnnotatedDump) -> dict[str, Any]:
    """The JSON object of a dump, blank lines restored with label null."""
    out: list[dict[str, Any]] = []
    for line, page in zip(dump.lines, dump.pages, strict=True):
        out.extend({"text": "", "label": None, "page": None} for _ in range(line.blank_before))
        label = line.label.value if line.label is not None else None
        out.append({"text": line.text, "label": label, "page": page})
    return {"id": dump.id, "origin": dump.origin, "kind": dump.kind, "lines": out}


def page_ids(dump_id: str) -> list[str]:
    """The page ids a dump is built from ("extracted:l3s-1+dragnet-2" -> both ids)."""
    found = _PAGE_ID.findall(dump_id)
    # An id without numbered pages (a weakly labelled page is named by its file) is one page,
    # whatever view of it the dump is: "extracted:blog.html" is the page "blog.html".
    return found or [_KIND_PREFIX.sub("", dump_id)]


def _groups(dumps: Sequence[AnnotatedDump]) -> dict[str, str]:
    """Map each page id to its group: pages joined in any dump share one (union-find)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for dump in dumps:
        ids = page_ids(dump.id)
        for other in ids[1:]:
            a, b = find(ids[0]), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
        find(ids[0])
    return {page: find(page) for page in parent}


def held_out(dumps: Sequence[AnnotatedDump], *, percent: int = HOLDOUT_PERCENT) -> list[bool]:
    """Which dumps are held out for evaluation: a page and every dump that uses it fall together.

    Pages are grouped so that a page's `page`, `extracted` and `concat`/`bare` dumps, and the other
    pages of that concat/bare dump, are all on one side; a group is held out when the SHA-256 of its
    smallest page id falls in the first `percent` of 100 buckets. Stable across runs and machines.
    """
    out = []
    for root in page_groups(dumps):
        bucket = int(hashlib.sha256(root.encode()).hexdigest()[:8], 16) % 100
        out.append(bucket < percent)
    return out


def page_groups(dumps: Sequence[AnnotatedDump]) -> list[str]:
    """Each dump's page group (its smallest page id): dumps sharing a page, even through a
    third dump, share a group, so splitting by group never puts one page on both sides."""
    group = _groups(dumps)
    return [group[page_ids(dump.id)[0]] for dump in dumps]


def write_dumps(dumps: Iterable[AnnotatedDump], path: str | Path) -> None:
    """Write dumps as annotated JSONL."""
    with Path(path).open("w", encoding="utf-8") as handle:
        for dump in dumps:
            handle.write(json.dumps(dump_to_json(dump), ensure_ascii=False) + "\n")


# --- the plain-text annotation format -------------------------------------------------------------
#
#   # a comment (any line whose first non-space character is "#", except a dump header)
#   ### dump site-0007 kind=concat origin="two stories joined by hand"
#   === article 0
#   head    | Officials: ISIS Widens Reach in Iraq
#   by      | By Jane Doe
#   body    | GENEVA: The United States and Iran are set to ...
#
#   body    | A blank line above is a blank line of the dump.
#   === article 1
#   ...
#
# A tag line is TAG, "|", then the text (spaces around it are trimmed); "TAG |json STRING" holds a
# text that needs escaping (line breaks, control characters, leading or trailing spaces). A bare
# "=== article" starts the next article; "=== article N" gives its page index. Lines before any
# dump header form one dump named after the file.

TEXT_SUFFIXES = frozenset({".txt", ".ann"})
JSONL_SUFFIXES = frozenset({".jsonl", ".json"})
FORMATS = ("jsonl", "text")
# Short tags for hand-writing; the full label names are accepted too.
SHORT_TAGS: dict[Label, str] = {
    Label.BODY: "body",
    Label.HEADLINE: "head",
    Label.BYLINE: "by",
    Label.TEASER: "teaser",
    Label.COMMENT: "comment",
    Label.BOILERPLATE: "boiler",
}
TAGS: dict[str, Label] = {
    **{tag: label for label, tag in SHORT_TAGS.items()},
    **{label.value: label for label in Label},
}
DUMP_HEADER = "### dump"
DEFAULT_KIND = "page"
_TAG_WIDTH = max(len(tag) for tag in SHORT_TAGS.values())
_JSON_TEXT = "json "
_TAG_LINE = re.compile(r"(?P<tag>[A-Za-z]+)[ \t]*\|(?P<rest>.*)")
_MARKER = re.compile(r"===+[ \t]*(?:article\b)?[ \t]*(?P<page>\d+)?[ \t]*")
# A dump header field: [key=] then a JSON string or a run of characters without spaces/quotes.
_FIELD = re.compile(
    r'[ \t]*(?:(?P<key>[A-Za-z_]+)=)?(?:(?P<quoted>"(?:[^"\\]|\\.)*")|(?P<bare>[^\s"]*))'
)
HEADER_KEYS = frozenset({"id", "kind", "origin"})
_BARE_VALUE = re.compile(r'[^\s"=\\#]+')
# Characters that end a line for some reader (str.splitlines), and other controls: escaped.
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
TEXT_HEADER = (
    "# cleaner annotated dumps, text format: one 'TAG | text' line per non-blank line "
    "(tags: body head by teaser comment boiler),\n"
    "# '=== article N' before article N's lines, '### dump ID kind=KIND' before each dump, "
    "blank lines are the dump's own.\n"
)


def _suffix_format(path: str | Path) -> str | None:
    """"jsonl" or "text" by the file's suffix; None for a suffix of neither."""
    suffix = Path(path).suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    return "text" if suffix in TEXT_SUFFIXES else None


def annotated_format(path: str | Path) -> str:
    """"jsonl" or "text": by the file's suffix, else by its first non-blank character."""
    if fmt := _suffix_format(path):
        return fmt
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror})") from None
    return "jsonl" if head.startswith(b"{") else "text"


def _needs_escape(text: str) -> bool:
    """Whether a text must be written as a JSON string to come back unchanged."""
    return text != text.strip() or any(
        ch in _LINE_BREAKS or (ord(ch) < 0x20 and ch != "\t") for ch in text
    )


def _header_value(value: str) -> str:
    """A header value as written: bare when it can be, else a JSON string."""
    return value if _BARE_VALUE.fullmatch(value) else json.dumps(value, ensure_ascii=False)


def dump_to_text(dump: AnnotatedDump) -> str:
    """One dump in the text format (header, article markers, tag lines), ending in a newline."""
    out = [f"{DUMP_HEADER} {_header_value(dump.id)} kind={_header_value(dump.kind)}"
           + (f" origin={_header_value(dump.origin)}" if dump.origin else "")]
    previous: int | None = None
    for line, page in zip(dump.lines, dump.pages, strict=True):
        out.extend([""] * line.blank_before)
        if page != previous:
            out.append(f"=== article {page}")
            previous = page
        label = line.label if line.label is not None else Label.BOILERPLATE
        tag = SHORT_TAGS[label].ljust(_TAG_WIDTH)
        if _needs_escape(line.text):
            out.append(f"{tag} |{_JSON_TEXT}{json.dumps(line.text, ensure_ascii=False)}")
        else:
            out.append(f"{tag} | {line.text}")
    return "\n".join(out) + "\n"


def dumps_to_text(dumps: Iterable[AnnotatedDump]) -> str:
    """Dumps in the text format: a comment saying how to read it, then one dump after another."""
    # A blank line between dumps reads better; blank lines at the end of a dump are not kept.
    return TEXT_HEADER + "".join("\n" + dump_to_text(dump) for dump in dumps)


def _parse_header(rest: str, *, where: str) -> dict[str, str]:
    """The id, kind and origin of a `### dump` line (the text after `### dump`)."""
    header: dict[str, str] = {}
    pos = 0
    while rest[pos:].strip():
        match = _FIELD.match(rest, pos)
        if match is None or not (match["key"] or match["quoted"] or match["bare"]):
            raise DataError(f"{where}: cannot read the dump header near {rest[pos:].strip()!r}")
        pos = match.end()
        key = match["key"] or "id"
        if match["quoted"] is not None:
            try:
                value = str(json.loads(match["quoted"]))
            except json.JSONDecodeError:
                raise DataError(f"{where}: bad quoted value {match['quoted']!r}") from None
        else:
            value = match["bare"]
        if key not in HEADER_KEYS:
            raise DataError(f"{where}: unknown dump header key {key!r} (use kind=, origin=)")
        if key in header:
            what = "more than one id (quote a value with spaces)" if key == "id" else f"{key} twice"
            raise DataError(f"{where}: dump header has {what}")
        header[key] = value
    return header


@dataclass
class _DumpBuilder:
    """A dump being read from the text format."""

    id: str
    kind: str = DEFAULT_KIND
    origin: str = ""
    lines: list[Line] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    page: int = 0
    blank: int = 0  # blank lines since the last tag line
    number: int = 0  # line number within the dump's raw text

    def add(self, text: str, label: Label) -> None:
        """Append one labelled line after the blank lines seen since the previous one."""
        self.number += self.blank + 1
        self.lines.append(Line(number=self.number, text=text, blank_before=self.blank,
                               label=label, p=1.0))
        self.pages.append(self.page)
        self.blank = 0

    def start_article(self, page: int | None) -> None:
        """A marker line: the given page, else the next one (page 0 before any line)."""
        if page is not None:
            self.page = page
        else:
            self.page = max(self.pages) + 1 if self.pages else 0

    def build(self) -> AnnotatedDump:
        """The finished dump (blank lines after its last line are not kept)."""
        return AnnotatedDump(id=self.id, kind=self.kind, origin=self.origin,
                             lines=tuple(self.lines), pages=tuple(self.pages))


def _tag_text(rest: str, *, where: str) -> str:
    """The text of a tag line from what follows its "|"."""
    if rest.startswith(_JSON_TEXT):
        try:
            text = json.loads(rest[len(_JSON_TEXT):])
        except json.JSONDecodeError as err:
            raise DataError(f"{where}: bad JSON string after '|json' ({err.msg})") from None
        if not isinstance(text, str):
            raise DataError(f"{where}: '|json' must be followed by a JSON string")
    else:
        text = rest.strip()
    if not text.strip():
        raise DataError(f"{where}: tagged line has no text (leave a blank line blank)")
    return text


def parse_text(text: str, *, source: str = "<text>") -> Iterator[AnnotatedDump]:
    """The dumps of a text in the text annotation format; errors name `source` and the line."""
    stem = Path(source).stem or "dump"
    current: _DumpBuilder | None = None
    count = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        where = f"{source}:{number}"
        line = raw[:-1] if raw.endswith("\r") else raw  # a file saved with CRLF line ends
        stripped = line.strip()
        if line.startswith(DUMP_HEADER) and (len(line) == len(DUMP_HEADER)
                                             or line[len(DUMP_HEADER)].isspace()):
            if current is not None:
                yield current.build()
            count += 1
            header = _parse_header(line[len(DUMP_HEADER):], where=where)
            current = _DumpBuilder(id=header.get("id", f"{stem}-{count}"),
                                   kind=header.get("kind", DEFAULT_KIND),
                                   origin=header.get("origin", ""))
            continue
        if stripped.startswith("#"):
            continue
        if not stripped:
            if current is not None:
                current.blank += 1
            continue
        if current is None:  # lines before any header: one dump named after the file
            count += 1
            current = _DumpBuilder(id=f"{stem}-{count}")
        marker = _MARKER.fullmatch(stripped)
        if marker is not None:
            current.start_article(int(marker["page"]) if marker["page"] is not None else None)
            continue
        tagged = _TAG_LINE.fullmatch(line.lstrip())
        if tagged is None:
            raise DataError(
                f"{where}: expected 'TAG | text' (tags: {', '.join(SHORT_TAGS.values())}), "
                f"'=== article', '{DUMP_HEADER} ID' or a '#' comment, got {stripped[:40]!r}"
            )
        label = TAGS.get(tagged["tag"].lower())
        if label is None:
            raise DataError(f"{where}: unknown tag {tagged['tag']!r} "
                            f"(tags: {', '.join(SHORT_TAGS.values())} or the full label names)")
        current.add(_tag_text(tagged["rest"], where=where), label)
    if current is not None:
        yield current.build()


def read_text_dumps(path: str | Path) -> Iterator[AnnotatedDump]:
    """The dumps of a file in the text annotation format."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None
    yield from parse_text(text, source=str(path))


def read_annotated(path: str | Path, *, fmt: str | None = None) -> Iterator[AnnotatedDump]:
    """The dumps of an annotated file in either format (by suffix, else sniffed)."""
    fmt = fmt or annotated_format(path)
    if fmt not in FORMATS:
        raise DataError(f"{path}: unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    return read_dumps(path) if fmt == "jsonl" else read_text_dumps(path)


def format_dumps(dumps: Iterable[AnnotatedDump], *, fmt: str) -> str:
    """Dumps as the text of an annotated file in the given format."""
    if fmt == "text":
        return dumps_to_text(dumps)
    if fmt == "jsonl":
        return "".join(json.dumps(dump_to_json(d), ensure_ascii=False) + "\n" for d in dumps)
    raise DataError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def output_format(path: str | Path) -> str:
    """The format an output file gets from its suffix: .jsonl/.json, else .txt/.ann."""
    if fmt := _suffix_format(path):
        return fmt
    raise DataError(f"{path}: cannot tell the format from the suffix "
                    "(.jsonl, or .txt/.ann for the text format); say which with --to")


def convert(source: str | Path, target: str | Path, *, fmt: str | None = None) -> int:
    """Convert an annotated file to the other format (or `fmt`), atomically; return the dumps."""
    from cleaner.write import atomic_output

    fmt = fmt or output_format(target)
    dumps = list(read_annotated(source))
    data = format_dumps(dumps, fmt=fmt).encode("utf-8")
    try:
        with atomic_output(str(target)) as handle:
            handle.write(data)
    except OSError as err:
        raise DataError(f"{target}: cannot write ({err.strerror})") from None
    return len(dumps)
