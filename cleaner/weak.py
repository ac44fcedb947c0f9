"""Weak labels from a page's own structure: turn saved HTML pages into annotated dumps.

The lines are the page's block-level lines, exactly as `cleaner.read.html_block_lines` makes them
(the corpus's `page` kind). Each line is labelled from the markup around it, first rule that fires:

1. comment   - inside a comment section (class/id comment, disqus, respond, reply, ...), or a line
               trafilatura puts in its comments;
2. teaser    - inside a related / recommended / read-more block;
3. headline  - the page's title (og:title, twitter:title, JSON-LD or microdata headline, the
               title trafilatura finds), or an h1 that overlaps it;
4. byline    - a short line inside an author/byline/date element, `<time>`, rel=author,
               itemprop author/datePublished, or a short line naming the JSON-LD author;
5. boilerplate - inside navigation, footer, sidebar, share, cookie, caption, ... markup;
6. body      - a line of the main text trafilatura finds;
7. boilerplate - everything else.

Optionally a model's labels fill in what the markup leaves open (rules 6 and 7): in the main text
it may call a line headline or byline rather than body (any label when confident), elsewhere
anything but body (body too when confident). That is for pages with little markup; on
well-marked pages rules 1-5 decide most lines.

A page where fewer than `min_body` body lines are found is refused (WeakLabelError), never
labelled by guesswork. Across several pages of one site, body lines repeated on many pages are
site furniture and are demoted to boilerplate (`demote_repeated`; headlines too).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from cleaner.errors import CleanerError, InputError
from cleaner.read import (
    HTML_BLOCKS,
    HTML_BREAKS,
    HTML_SKIPPED,
    XML_BLOCKS,
    XML_BREAKS,
    XML_ITEMS,
    block_lines,
    check_not_binary,
    collapse_spaces,
    decode_html,
    normalise_newlines,
)
from cleaner.sources import open_file
from cleaner.types import LABELS, AnnotatedDump, Label, Line

if TYPE_CHECKING:
    from cleaner.label import Model

# A page needs at least this many body lines before its labels are trusted.
MIN_BODY_LINES = 3
# Bylines are short: a longer line inside an author box is a bio paragraph or a teaser.
BYLINE_MAX_WORDS = 20
# A line naming the article's author (from its metadata) is a byline when this short.
AUTHOR_LINE_MAX_WORDS = 12
# A page line that trafilatura split or merged still counts as body when this share of its
# word 3-grams occurs in the main text (the corpus's own alignment rule, LABELS.md).
BODY_SHINGLE_SHARE = 0.7
SHINGLE = 3
# Body lines found on at least this share of a site's pages, and on at least REPEATED_MIN_PAGES
# of them, are site furniture (archive links, blurbs, blog descriptions): different articles do
# not share whole paragraphs.
REPEATED_SHARE = 0.2
# A model's label overrules trafilatura's main-text call only at this probability or above.
PRIOR_CONFIDENT = 0.9
# Labels that repetition overrules (a byline such as "By Staff Reporter" may well repeat).
FURNITURE_SUSPECTS = frozenset({Label.BODY, Label.HEADLINE})
REPEATED_MIN_PAGES = 3
# The dumps made of each page: its block lines, and its text as cleaner reads HTML.
KINDS = ("page", "extracted")
WEAK_ORIGIN = "weak labels from the page's HTML structure (cleaner weak-label)"

# Words of class/id/rel/itemprop values (split at "-", "_" and case changes) that mark a region.
COMMENT_WORDS = frozenset(
    {"comment", "comments", "commentlist", "disqus", "respond", "reply", "replies", "discussion"}
)
TEASER_WORDS = frozenset(
    {"related", "recommended", "recommendations", "recommend", "readmore", "more", "popular",
     "trending", "mostread", "outbrain", "taboola", "also", "suggested", "further", "see"}
)  # fmt: skip
# "more" and "also" alone say little: a teaser mark needs one of these, or one of the pairs.
TEASER_STRONG = frozenset(
    {"related", "recommended", "recommendations", "recommend", "readmore", "popular", "trending",
     "mostread", "outbrain", "taboola", "suggested"}
)  # fmt: skip
TEASER_PAIRS = (("read", "more"), ("more", "stories"), ("more", "from"), ("also", "like"),
                ("further", "reading"), ("see", "also"), ("most", "read"), ("you", "may"))
BYLINE_WORDS = frozenset(
    {"author", "authors", "byline", "dateline", "pubdate", "published", "timestamp", "date",
     "posted", "datepublished", "datemodified", "updated", "vcard", "contributor"}
)  # fmt: skip
BYLINE_TAGS = frozenset({"time", "address"})
BOILERPLATE_WORDS = frozenset(
    {"nav", "navbar", "navigation", "menu", "footer", "sidebar", "widget", "share", "sharing",
     "social", "breadcrumb", "breadcrumbs", "cookie", "cookies", "newsletter", "subscribe",
     "advert", "advertisement", "ad", "ads", "promo", "caption", "copyright", "masthead", "skip",
     "pagination", "tags", "banner", "toolbar", "topbar"}
)  # fmt: skip
BOILERPLATE_TAGS = frozenset({"nav", "footer", "figcaption", "aside", "form", "button"})
# Marks on these elements say something about the whole page ("comments-open"), not a region.
PAGE_TAGS = frozenset({"html", "body"})
MARK_ATTRIBUTES = ("class", "id", "rel", "itemprop", "role")
_WORD_SPLIT = re.compile(r"[\s_\-:./]+|(?<=[a-z])(?=[A-Z])")
_WORD = re.compile(r"\w+")
ARTICLE_TYPES = frozenset(
    {"article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
     "opinionnewsarticle", "reviewnewsarticle", "techarticle", "scholarlyarticle", "report",
     "posting", "socialmediaposting", "liveblogposting"}
)  # fmt: skip
# JSON-LD nesting is walked this deep at most (the input is untrusted).
JSON_LD_MAX_DEPTH = 8


class WeakLabelError(CleanerError):
    """A page whose structure gives no reliable labels (too little main text found)."""


@dataclass(frozen=True, slots=True)
class PageLine:
    """One block-level line of a page, with the markup it sits in."""

    text: str
    tags: frozenset[str]  # tags of the enclosing elements (html and body left out)
    words: frozenset[str]  # words of the enclosing elements' class/id/rel/itemprop/role
    inline_tags: frozenset[str]  # tags of inline elements that hold part of the line's text
    inline_words: frozenset[str]  # their class/id/rel/itemprop/role words
    owner: str  # the nearest enclosing block element's tag


@dataclass(frozen=True, slots=True)
class Metadata:
    """What a page says about its article in metadata: titles, author names, site name."""

    titles: frozenset[str]  # normalised
    authors: frozenset[str]  # normalised
    site_name: str = ""


@dataclass(frozen=True, slots=True)
class Extraction:
    """trafilatura's view of a page: its main-text lines, comment lines and title."""

    main: tuple[str, ...]
    comments: tuple[str, ...]
    title: str = ""


# --- the page's lines with their markup ---------------------------------------------------------


def marks(element: Any) -> frozenset[str]:
    """The lowercase words of an element's class, id, rel, itemprop and role values."""
    out: set[str] = set()
    for attribute in MARK_ATTRIBUTES:
        value = element.get(attribute)
        if not value:
            continue
        out.update(word.lower() for word in _WORD_SPLIT.split(str(value)) if word)
        # The whole value too, so "readmore" and "read-more" both count.
        out.update(token.lower().replace("-", "").replace("_", "") for token in value.split())
    return frozenset(out)


@dataclass
class _Walker:
    """Walks a parsed page like read._LineBuilder does, keeping each line's markup (private)."""

    lines: list[PageLine] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    stack: list[Any] = field(default_factory=list)  # open elements, outermost first
    inline_tags: set[str] = field(default_factory=set)
    inline_words: set[str] = field(default_factory=set)

    def walk(self, element: Any) -> None:
        """Add an element's text and its children's; its tail is the caller's."""
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in HTML_SKIPPED or not tag:  # comments and PIs have a function as tag
            return
        is_block = tag in HTML_BLOCKS
        if is_block or tag in HTML_BREAKS:
            self.end_line()
        self.stack.append(element)
        self.add_text(element.text)
        for child in element:
            self.walk(child)
            self.add_text(child.tail)
        if is_block:
            self.end_line()
        self.stack.pop()

    def add_text(self, text: str | None) -> None:
        """Add text to the current line, noting the inline elements it sits in."""
        if not text:
            return
        self.parts.append(text)
        if not text.strip():
            return
        for element in reversed(self.stack):
            if element.tag in HTML_BLOCKS:
                break
            self.inline_tags.add(element.tag)
            self.inline_words.update(marks(element))

    def end_line(self) -> None:
        """Close the current line, if it holds any text, with the markup around it."""
        text = collapse_spaces("".join(self.parts))
        self.parts.clear()
        if text:
            region = [el for el in self.stack if el.tag not in PAGE_TAGS]
            blocks = [el.tag for el in self.stack if el.tag in HTML_BLOCKS]
            self.lines.append(
                PageLine(
                    text=text,
                    tags=frozenset(el.tag for el in region),
                    words=frozenset(word for el in region for word in marks(el)),
                    inline_tags=frozenset(self.inline_tags),
                    inline_words=frozenset(self.inline_words),
                    owner=blocks[-1] if blocks else "",
                )
            )
        self.inline_tags.clear()
        self.inline_words.clear()


def parse_page(page: str, *, source: str = "<html>") -> Any:
    """An lxml tree of a page, parsed as read.html_block_lines parses it; None for no markup."""
    from lxml import etree, html

    parser = html.HTMLParser(
        encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True
    )
    try:
        return html.document_fromstring(page.encode("utf-8"), parser=parser)
    except etree.ParserError:
        return None
    except (etree.LxmlError, ValueError) as err:
        raise InputError(f"{source}: cannot parse HTML ({err})") from None


def page_lines(root: Any) -> list[PageLine]:
    """The block-level lines of a parsed page (as read.html_block_lines), with their markup."""
    if root is None:
        return []
    walker = _Walker()
    walker.walk(root)
    walker.end_line()
    return walker.lines


# --- metadata -----------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Text for matching: casefolded, whitespace collapsed."""
    return collapse_spaces(text).casefold()


def _names(value: Any) -> Iterator[str]:
    """Author names in a JSON-LD author value: a string, an object with name, or a list."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict) and isinstance(value.get("name"), str):
        yield value["name"]
    elif isinstance(value, list):
        for item in value[:20]:
            if isinstance(item, str | dict):
                yield from _names(item)


def _json_ld_objects(value: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JSON object in a JSON-LD value, nested ones and @graph members included."""
    if depth > JSON_LD_MAX_DEPTH:
        return
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _json_ld_objects(child, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from _json_ld_objects(child, depth + 1)


def _is_article(obj: dict[str, Any]) -> bool:
    """Whether a JSON-LD object is an article of some schema.org type."""
    kinds = obj.get("@type")
    names = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and k.lower() in ARTICLE_TYPES for k in names)


def json_ld(root: Any) -> list[dict[str, Any]]:
    """The schema.org article objects of a page's JSON-LD scripts (broken scripts skipped)."""
    found: list[dict[str, Any]] = []
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        found.extend(obj for obj in _json_ld_objects(data) if _is_article(obj))
    return found


def _meta(root: Any, *keys: str) -> list[str]:
    """The content of <meta> tags whose property or name is one of `keys`."""
    wanted = {key.lower() for key in keys}
    out = []
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        content = meta.get("content")
        if key in wanted and content and content.strip():
            out.append(content)
    return out


def page_metadata(root: Any, *, extracted_title: str = "") -> Metadata:
    """Titles and authors a page declares: OpenGraph, Twitter, JSON-LD, microdata, trafilatura."""
    if root is None:
        return Metadata(frozenset(), frozenset())
    articles = json_ld(root)
    titles = [*_meta(root, "og:title", "twitter:title"), extracted_title]
    titles += [obj["headline"] for obj in articles if isinstance(obj.get("headline"), str)]
    titles += [el.text_content() for el in root.iter() if el.get("itemprop") == "headline"
               and isinstance(el.tag, str)]
    authors = [*_meta(root, "author", "article:author")]
    authors += [name for obj in articles for name in _names(obj.get("author"))]
    site = (_meta(root, "og:site_name") or [""])[0]
    site_key = normalise(site)
    return Metadata(
        titles=frozenset(t for t in map(normalise, titles) if t and t != site_key),
        # A URL in article:author is a profile page, not a name to look for in the text.
        authors=frozenset(a for a in map(normalise, authors) if a and "://" not in a),
        site_name=site,
    )


# --- trafilatura --------------------------------------------------------------------------------


def extract(page: str) -> Extraction:
    """trafilatura's main text, comments and title of a page (our one call, flags fixed here)."""
    import trafilatura
    from lxml import etree

    # Default precision/recall balance: weak body labels must be trustworthy more than complete.
    # No deduplication: a page's repeated paragraph is still the page's own text.
    xml = trafilatura.extract(
        page,
        output_format="xml",
        include_comments=True,
        include_tables=False,
        with_metadata=True,
        deduplicate=False,
    )
    if not xml:
        return Extraction((), ())
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    try:
        root = etree.fromstring(xml.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        return Extraction((), ())

    def lines_of(name: str) -> tuple[str, ...]:
        part = root.find(name)
        if part is None:
            return ()
        found = block_lines(part, blocks=XML_BLOCKS, breaks=XML_BREAKS, items=XML_ITEMS)
        # Page lines carry no "- " item marker: compare without it.
        return tuple(line.removeprefix("- ") for line in found)

    return Extraction(lines_of("main"), lines_of("comments"), root.get("title") or "")


# --- matching lines -----------------------------------------------------------------------------


def shingles(text: str, *, size: int = SHINGLE) -> set[tuple[str, ...]]:
    """The word n-grams of a text (casefolded)."""
    words = _WORD.findall(text.casefold())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


@dataclass(frozen=True)
class TextIndex:
    """Lines of some text (trafilatura's main text or comments), for asking what a line is in."""

    exact: frozenset[str]
    grams: frozenset[tuple[str, ...]]

    @classmethod
    def of(cls, lines: Iterable[str]) -> TextIndex:
        """Index some lines."""
        lines = list(lines)
        return cls(
            exact=frozenset(normalise(line) for line in lines),
            grams=frozenset(g for line in lines for g in shingles(line)),
        )

    def holds(self, text: str, *, share: float = BODY_SHINGLE_SHARE) -> bool:
        """Whether a line is one of the indexed lines, or mostly made of their word 3-grams."""
        if normalise(text) in self.exact:
            return True
        grams = shingles(text)
        # Short lines (under SHINGLE + 2 words) only count when they match a whole line.
        if len(grams) < SHINGLE:
            return False
        return sum(g in self.grams for g in grams) >= share * len(grams)


def _has_pair(words: frozenset[str]) -> bool:
    """Whether the words hold a teaser phrase split over two words ("read-more", "see_also")."""
    return any(a in words and b in words for a, b in TEASER_PAIRS)


def is_comment_region(line: PageLine) -> bool:
    """Whether a line sits in a comment section."""
    return bool(line.words & COMMENT_WORDS)


def is_teaser_region(line: PageLine) -> bool:
    """Whether a line sits in a related / recommended / read-more block."""
    return bool(line.words & TEASER_STRONG) or _has_pair(line.words)


def is_byline(line: PageLine, meta: Metadata) -> bool:
    """Whether a line is a short author/date line by its markup or the article's author name."""
    n_words = len(line.text.split())
    if n_words <= BYLINE_MAX_WORDS and (
        (line.words | line.inline_words) & BYLINE_WORDS
        or (line.tags | line.inline_tags) & BYLINE_TAGS
    ):
        return True
    text = normalise(line.text)
    return n_words <= AUTHOR_LINE_MAX_WORDS and any(name in text for name in meta.authors)


def is_headline(line: PageLine, meta: Metadata) -> bool:
    """Whether a line is the title: equal to a declared title, or an h1 overlapping one."""
    text = normalise(line.text)
    if text in meta.titles:
        return True
    return line.owner == "h1" and any(text in t or t in text for t in meta.titles)


def is_furniture(line: PageLine) -> bool:
    """Whether a line sits in navigation, footer, sidebar, sharing, caption, ... markup."""
    return bool(line.words & BOILERPLATE_WORDS or line.tags & BOILERPLATE_TAGS)


def label_line(
    line: PageLine,
    meta: Metadata,
    main: TextIndex,
    comments: TextIndex,
    *,
    prior: Line | None = None,
) -> Label:
    """The weak label of one page line (the rules of the module docstring, in order).

    `prior` is the line as a model labelled it (label and p), used only where the markup decides
    nothing: inside the main text it may say headline or byline instead of body, or any other
    label when confident; outside it, any label but body, or body when confident.
    """
    if is_comment_region(line) or comments.holds(line.text):
        return Label.COMMENT
    if is_teaser_region(line):
        return Label.TEASER
    if is_headline(line, meta):
        return Label.HEADLINE
    if is_byline(line, meta):
        return Label.BYLINE
    if is_furniture(line):
        return Label.BOILERPLATE
    guess = prior.label if prior is not None else None
    sure = prior is not None and (prior.p or 0.0) >= PRIOR_CONFIDENT
    if main.holds(line.text):
        if guess in (Label.HEADLINE, Label.BYLINE) or (guess is not None and sure):
            return guess
        return Label.BODY
    if guess is not None and (guess is not Label.BODY or sure):
        return guess
    return Label.BOILERPLATE


def model_labels(lines: Sequence[PageLine], model: Model) -> list[Line]:
    """The page lines as a model labels them (label and probability)."""
    from cleaner.label import label_many

    plain = [Line(number=i, text=line.text) for i, line in enumerate(lines, start=1)]
    return label_many([plain], model)[0]


# --- pages -> dumps -----------------------------------------------------------------------------


def weak_label_html(
    page: str,
    *,
    source: str = "<html>",
    min_body: int = MIN_BODY_LINES,
    model: Model | None = None,
) -> AnnotatedDump:
    """The weakly labelled `page` dump of one HTML page; WeakLabelError if it is unreliable.

    With a model, its labels fill in what the markup leaves open (see label_line).
    """
    page = normalise_newlines(page)
    root = parse_page(page, source=source)
    lines = page_lines(root)
    if not lines:
        raise WeakLabelError(f"{source}: no text lines in the page")
    found = extract(page)
    meta = page_metadata(root, extracted_title=found.title)
    main, comments = TextIndex.of(found.main), TextIndex.of(found.comments)
    priors: list[Line | None] = (
        list(model_labels(lines, model)) if model is not None else [None] * len(lines)
    )
    labels = [label_line(line, meta, main, comments, prior=prior)
              for line, prior in zip(lines, priors, strict=True)]
    n_body = labels.count(Label.BODY)
    if n_body < min_body:
        raise WeakLabelError(
            f"{source}: only {n_body} body line(s) found, at least {min_body} needed"
        )
    return AnnotatedDump(
        id=source,
        kind="page",
        origin=f"{WEAK_ORIGIN}: {source}",
        lines=tuple(
            Line(number=i, text=line.text, label=label)
            for i, (line, label) in enumerate(zip(lines, labels, strict=True), start=1)
        ),
        pages=(0,) * len(lines),
    )


def read_page(path: str) -> str:
    """An HTML file's text (BOM, declared or detected charset), InputError when unreadable."""
    with open_file(path) as handle:
        try:
            data = handle.read()
        except OSError as err:
            raise InputError(f"{path}: cannot read ({err.strerror or err})") from None
    check_not_binary(data, source=path)
    return decode_html(data)


def demote_repeated(
    dumps: Sequence[AnnotatedDump],
    *,
    share: float = REPEATED_SHARE,
    min_pages: int = REPEATED_MIN_PAGES,
) -> list[AnnotatedDump]:
    """Body and headline lines that recur on many of a site's pages are furniture: boilerplate."""
    seen = Counter(key for dump in dumps for key in {normalise(line.text) for line in dump.lines})
    threshold = max(min_pages, share * len(dumps))
    repeated = {key for key, count in seen.items() if count >= threshold}
    out = []
    for dump in dumps:
        lines = tuple(
            replace(line, label=Label.BOILERPLATE)
            if line.label in FURNITURE_SUSPECTS and normalise(line.text) in repeated
            else line
            for line in dump.lines
        )
        out.append(replace(dump, lines=lines))
    return out


def transfer_labels(texts: Sequence[str], dump: AnnotatedDump) -> list[Label]:
    """Labels for other lines of the same page (an extractor's output) from the page dump's.

    A line takes the label of the page line with the same text, else the majority label of the
    page lines its word 3-grams come from (when most of them do), else: the first line is the
    title the extractor put first (headline), any other is boilerplate.
    """
    exact: dict[str, Label] = {}
    by_gram: dict[tuple[str, ...], Label] = {}
    for line in dump.lines:
        label = line.label or Label.BOILERPLATE
        exact.setdefault(normalise(line.text), label)
        for gram in shingles(line.text):
            by_gram.setdefault(gram, label)
    labels = []
    for i, text in enumerate(texts):
        key = normalise(text.removeprefix("- "))
        if key in exact:
            labels.append(exact[key])
            continue
        grams = shingles(text)
        votes = Counter(by_gram[g] for g in grams if g in by_gram)
        if grams and sum(votes.values()) >= BODY_SHINGLE_SHARE * len(grams):
            # Ties go to the label order of LABELS (body first): deterministic.
            labels.append(max(LABELS, key=lambda label: votes[label]))
        else:
            labels.append(Label.HEADLINE if i == 0 else Label.BOILERPLATE)
    return labels


def extracted_view(page: str, dump: AnnotatedDump) -> AnnotatedDump:
    """The page as `cleaner split` reads HTML (read.html_to_text), labels carried over from its
    weakly labelled page dump: an `extracted` dump, the other kind of scrape users have."""
    from cleaner.read import html_to_text, split_lines

    lines = split_lines(html_to_text(page, source=dump.id))
    labels = transfer_labels([line.text for line in lines], dump)
    return AnnotatedDump(
        id=f"extracted:{dump.id}",
        kind="extracted",
        origin=f"{WEAK_ORIGIN}, the page's extracted text (cleaner.read.html_to_text): {dump.id}",
        lines=tuple(replace(line, label=label) for line, label in zip(lines, labels, strict=True)),
        pages=(0,) * len(lines),
    )


def weak_label_paths(
    paths: Sequence[str],
    *,
    min_body: int = MIN_BODY_LINES,
    model: Model | None = None,
    kinds: Sequence[str] = KINDS,
) -> tuple[list[AnnotatedDump], list[CleanerError]]:
    """Weakly labelled dumps of HTML files (one site's pages), and each skipped file's error.

    Per page, in input order: its `page` dump, then its `extracted` dump (as `kinds` says).
    """
    pages: list[str] = []
    dumps: list[AnnotatedDump] = []
    errors: list[CleanerError] = []
    for path in paths:
        try:
            page = read_page(path)
            dumps.append(weak_label_html(page, source=path, min_body=min_body, model=model))
            pages.append(page)
        except CleanerError as err:
            errors.append(err)
    out: list[AnnotatedDump] = []
    for page, dump in zip(pages, demote_repeated(dumps), strict=True):
        if "page" in kinds:
            out.append(dump)
        if "extracted" in kinds:
            out.append(extracted_view(page, dump))
    return out, errors
