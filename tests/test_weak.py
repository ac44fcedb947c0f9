"""Tests of cleaner.weak: weak labels of HTML pages from their structure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.annotated import dump_to_json, page_groups, read_dumps, write_dumps
from cleaner.errors import CleanerError, InputError
from cleaner.read import html_block_lines, html_to_text, split_lines
from cleaner.types import AnnotatedDump, Label, Line
from cleaner.weak import (
    WeakLabelError,
    demote_repeated,
    extracted_view,
    json_ld,
    label_line,
    page_lines,
    page_metadata,
    parse_page,
    read_page,
    transfer_labels,
    weak_label_html,
    weak_label_paths,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WEAK = FIXTURES / "weak"
ARTICLES = ["ferry-timetable.html", "allotment-blog.html", "council-budget.html"]
ALL_PAGES = sorted(WEAK.glob("*.html")) + sorted((FIXTURES / "html").glob("*.htm*"))


def label_of(dump: AnnotatedDump, text: str) -> Label | None:
    """The label of the (first) line with this text."""
    matches = [line.label for line in dump.lines if line.text == text]
    assert matches, f"no line {text!r} in {dump.id}"
    return matches[0]


@pytest.fixture(scope="module")
def dumps() -> dict[str, AnnotatedDump]:
    return {name: weak_label_html(read_page(str(WEAK / name)), source=name) for name in ARTICLES}


@pytest.mark.parametrize("path", ALL_PAGES, ids=lambda p: p.name)
def test_lines_are_those_of_html_block_lines(path: Path) -> None:
    page = read_page(str(path))
    assert [line.text for line in page_lines(parse_page(page))] == html_block_lines(page)


@pytest.mark.parametrize(
    ("name", "text", "label"),
    [
        ("ferry-timetable.html", "Larkspur ferry timetable to change in March after pier repairs",
         Label.HEADLINE),
        ("ferry-timetable.html", "By Mara Quinn, Transport Reporter", Label.BYLINE),
        ("ferry-timetable.html", "February 11, 2026, 8:30 a.m.", Label.BYLINE),
        ("ferry-timetable.html", "What changes for passengers", Label.BODY),
        ("ferry-timetable.html",
         "The board expects the full timetable to return on April 13, weather permitting.",
         Label.BODY),
        ("ferry-timetable.html", "The town pier at low tide. Photo: Ledger staff",
         Label.BOILERPLATE),
        ("ferry-timetable.html", "Related stories", Label.TEASER),
        ("ferry-timetable.html",
         "Storm damage to Larkspur pier worse than first thought, board says", Label.TEASER),
        ("ferry-timetable.html", "2 Comments", Label.COMMENT),
        ("ferry-timetable.html", "February 11, 2026 at 10:02 am", Label.COMMENT),
        ("ferry-timetable.html", "Leave a Reply", Label.COMMENT),
        ("ferry-timetable.html", "Home › News › Transport", Label.BOILERPLATE),
        ("ferry-timetable.html", "Things to do", Label.BOILERPLATE),
        ("ferry-timetable.html", "© 2026 The Larkspur Ledger. All rights reserved.",
         Label.BOILERPLATE),
        ("allotment-blog.html", "Frost cloth, fleece and the great broad bean gamble",
         Label.HEADLINE),
        ("allotment-blog.html", "Posted on January 28, 2026 by Solveig Arkwright", Label.BYLINE),
        ("allotment-blog.html", "Keep a bag of bricks by the shed door.", Label.BODY),
        ("allotment-blog.html", "Read more from the garden blog", Label.TEASER),
        ("allotment-blog.html", "hedgerow_hal", Label.COMMENT),
        ("allotment-blog.html", "Powered by Disqus", Label.COMMENT),
        ("allotment-blog.html", "Get the garden blog by email every Friday.", Label.BOILERPLATE),
        ("council-budget.html", "Council agrees budget with library hours protected",
         Label.HEADLINE),
        ("council-budget.html", "By Teodor Vance | 4 March 2026", Label.BYLINE),
        ("council-budget.html", "The vote was carried by fourteen votes to three, with two "
         "abstentions.", Label.BODY),
        ("council-budget.html", "Recommended for you", Label.TEASER),
        ("council-budget.html", "Comments are closed for this article.", Label.COMMENT),
        ("council-budget.html", "We use cookies to improve your experience. Find out more",
         Label.BOILERPLATE),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else None,
)
def test_known_lines(dumps: dict[str, AnnotatedDump], name: str, text: str, label: Label) -> None:
    assert label_of(dumps[name], text) is label


@pytest.mark.parametrize("name", ARTICLES)
def test_every_line_labelled_once(dumps: dict[str, AnnotatedDump], name: str) -> None:
    dump = dumps[name]
    page = read_page(str(WEAK / name))
    assert [line.text for line in dump.lines] == html_block_lines(page)
    assert all(line.label is not None for line in dump.lines)
    assert [line.number for line in dump.lines] == list(range(1, len(dump.lines) + 1))
    assert dump.kind == "page"
    assert set(dump.pages) == {0}


def test_script_and_json_ld_text_is_never_a_line(dumps: dict[str, AnnotatedDump]) -> None:
    texts = " ".join(line.text for dump in dumps.values() for line in dump.lines)
    assert "dataLayer" not in texts
    assert "@context" not in texts


def test_page_without_article_is_refused() -> None:
    page = read_page(str(WEAK / "news-index.html"))
    with pytest.raises(WeakLabelError, match=r"^news-index\.html: only \d body line"):
        weak_label_html(page, source="news-index.html")


@pytest.mark.parametrize(
    ("min_body", "refused"), [(1, False), (8, False), (9, True)], ids=["1", "8", "9"]
)
def test_min_body(min_body: int, refused: bool) -> None:
    # The ferry story has exactly 8 body lines (7 paragraphs and a subhead).
    page = read_page(str(WEAK / "ferry-timetable.html"))
    if refused:
        with pytest.raises(WeakLabelError):
            weak_label_html(page, source="f", min_body=min_body)
    else:
        dump = weak_label_html(page, source="f", min_body=min_body)
        assert sum(line.label is Label.BODY for line in dump.lines) == 8


@pytest.mark.parametrize(
    "page",
    ["", "   ", "<html><body></body></html>", "<p>one short line</p>"],
    ids=["empty", "blank", "no-text", "one-line"],
)
def test_pages_with_nothing_reliable(page: str) -> None:
    with pytest.raises(WeakLabelError, match=r"^p\.html: "):
        weak_label_html(page, source="p.html")


def test_paths_report_bad_files_and_keep_the_rest(tmp_path: Path) -> None:
    binary = tmp_path / "image.html"
    binary.write_bytes(b"<html>\0\0")
    paths = [str(WEAK / "ferry-timetable.html"), str(tmp_path / "missing.html"), str(binary),
             str(WEAK / "news-index.html"), str(WEAK / "council-budget.html")]
    dumps, errors = weak_label_paths(paths)
    assert [d.id for d in dumps] == [paths[0], f"extracted:{paths[0]}", paths[4],
                                     f"extracted:{paths[4]}"]
    assert [d.kind for d in dumps] == ["page", "extracted"] * 2
    assert [type(e) for e in errors] == [InputError, InputError, WeakLabelError]
    assert all(isinstance(e, CleanerError) for e in errors)
    assert "missing.html: no such file" in str(errors[0])


def test_read_page_names_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r": is a directory, not a file$"):
        read_page(str(tmp_path))


def test_output_loads_with_read_dumps_and_is_deterministic(tmp_path: Path) -> None:
    paths = [str(WEAK / name) for name in ARTICLES]
    first, _ = weak_label_paths(paths)
    second, _ = weak_label_paths(paths)
    assert [dump_to_json(d) for d in first] == [dump_to_json(d) for d in second]
    out = tmp_path / "weak.jsonl"
    write_dumps(first, out)
    loaded = list(read_dumps(out))
    assert [[(ln.text, ln.label) for ln in d.lines] for d in loaded] == [
        [(ln.text, ln.label) for ln in d.lines] for d in first
    ]


def test_metadata_titles_authors_and_site_name() -> None:
    root = parse_page(read_page(str(WEAK / "allotment-blog.html")))
    meta = page_metadata(root)
    assert meta.titles == {"frost cloth, fleece and the great broad bean gamble"}
    assert meta.authors == {"solveig arkwright"}
    assert meta.site_name == "The Larkspur Ledger"


@pytest.mark.parametrize(
    ("script", "headlines"),
    [
        ('{"@type": "NewsArticle", "headline": "A"}', ["A"]),
        ('{"@graph": [{"@type": "WebSite"}, {"@type": ["BlogPosting"], "headline": "B"}]}', ["B"]),
        ('[{"@type": "Article", "headline": "C"}, {"@type": "Person", "name": "x"}]', ["C"]),
        ('{"@type": "NewsArticle", "headline": ', []),
        ("[" * 5000 + "]" * 5000, []),
        ('{"@type": "Recipe", "headline": "D"}', []),
    ],
    ids=["plain", "graph", "list", "broken", "deep", "not-article"],
)
def test_json_ld(script: str, headlines: list[str]) -> None:
    page = f'<html><head><script type="application/ld+json">{script}</script></head></html>'
    found = json_ld(parse_page(page))
    assert [obj.get("headline") for obj in found] == headlines


def test_author_named_in_metadata_makes_a_byline() -> None:
    paragraphs = "".join(f"<p>Paragraph {i} of the story, long enough to be text.</p>"
                         for i in range(6))
    page = (
        '<html><head><meta name="author" content="Wren Adeyemi"></head><body>'
        f"<article><h1>Title</h1><div>Words by Wren Adeyemi</div>{paragraphs}</article>"
        "</body></html>"
    )
    dump = weak_label_html(page, source="p", min_body=1)
    assert label_of(dump, "Words by Wren Adeyemi") is Label.BYLINE


def _dump(name: str, texts: list[str]) -> AnnotatedDump:
    lines = tuple(Line(number=i, text=t, label=Label.BODY) for i, t in enumerate(texts, 1))
    return AnnotatedDump(id=name, kind="page", origin="", lines=lines, pages=(0,) * len(lines))


@pytest.mark.parametrize(
    ("n_pages", "demoted"), [(2, False), (3, True), (6, True)], ids=["2-pages", "3", "6"]
)
def test_demote_repeated(n_pages: int, demoted: bool) -> None:
    dumps = [_dump(f"p{i}", ["Site tagline", f"Story {i} text"]) for i in range(n_pages)]
    out = demote_repeated(dumps)
    expected = Label.BOILERPLATE if demoted else Label.BODY
    assert [d.lines[0].label for d in out] == [expected] * n_pages
    assert all(d.lines[1].label is Label.BODY for d in out)


@pytest.mark.parametrize(
    ("on_pages", "demoted"), [(3, False), (4, True)], ids=["3-of-20", "4-of-20"]
)
def test_demote_repeated_needs_a_share_of_pages(on_pages: int, demoted: bool) -> None:
    dumps = [_dump(f"p{i}", ["Shared line" if i < on_pages else f"x{i}", f"Story {i}"])
             for i in range(20)]
    out = demote_repeated(dumps, share=0.2)
    assert (out[0].lines[0].label is Label.BOILERPLATE) is demoted


# Random markup from a small grammar: the walker must cut lines exactly as read.py does.
TAGS = ["div", "p", "span", "a", "b", "li", "ul", "h1", "section", "br", "time", "script", "nav"]
WORDS = st.sampled_from(["alpha", "beta", " ", "gamma delta", "\n", "é", "&amp;", ""])


@st.composite
def markup(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        if depth < 3 and draw(st.booleans()):
            tag = draw(st.sampled_from(TAGS))
            cls = draw(st.sampled_from(["", ' class="comment"', ' id="related"', ' rel="author"']))
            inner = draw(markup(depth + 1))
            parts.append(f"<{tag}{cls}>{inner}</{tag}>" if tag != "br" else "<br>")
        else:
            parts.append(draw(WORDS))
    return "".join(parts)


@settings(max_examples=60, deadline=None)
@given(markup())
def test_walker_agrees_with_read_on_random_markup(body: str) -> None:
    page = f"<html><body>{body}</body></html>"
    assert [line.text for line in page_lines(parse_page(page))] == html_block_lines(page)


def test_dump_json_is_the_annotated_format(dumps: dict[str, AnnotatedDump]) -> None:
    obj = json.loads(json.dumps(dump_to_json(dumps["council-budget.html"])))
    assert list(obj) == ["id", "origin", "kind", "lines"]
    assert obj["kind"] == "page"
    assert all(set(line) == {"text", "label", "page"} for line in obj["lines"])


# --- the extracted view and the model prior -----------------------------------------------------


def test_extracted_view_is_what_split_reads_labelled_like_the_page(
    dumps: dict[str, AnnotatedDump],
) -> None:
    page = read_page(str(WEAK / "ferry-timetable.html"))
    view = extracted_view(page, dumps["ferry-timetable.html"])
    assert view.kind == "extracted"
    assert view.id == "extracted:ferry-timetable.html"
    # One page, two views: cross-validation must keep them in one fold (and held_out on one side).
    assert page_groups([view, dumps["ferry-timetable.html"]]) == ["ferry-timetable.html"] * 2
    assert [ln.text for ln in view.lines] == [ln.text for ln in split_lines(html_to_text(page))]
    labels = {ln.text: ln.label for ln in view.lines}
    assert labels["Larkspur ferry timetable to change in March after pier repairs"] is (
        Label.HEADLINE)
    assert labels["What changes for passengers"] is Label.BODY
    assert labels["At least they are fixing it before the summer crowds arrive."] is (
        Label.COMMENT)


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["A Title", "the first body line of the story here"], [Label.HEADLINE, Label.BODY]),
        (["- the first body line of the story here"], [Label.BODY]),
        (["the first body line of the story", "unknown words nobody wrote"],
         [Label.BODY, Label.BOILERPLATE]),
        (["Something new at the top", "Home"], [Label.HEADLINE, Label.BOILERPLATE]),
        (["Menu: the first body line of the story here"], [Label.BODY]),
    ],
    ids=["exact", "item-marker", "shingles-and-unknown", "title-first", "merged-majority"],
)
def test_transfer_labels(texts: list[str], expected: list[Label]) -> None:
    lines = (Line(1, "Home", label=Label.BOILERPLATE),
             Line(2, "A Title", label=Label.HEADLINE),
             Line(3, "the first body line of the story here", label=Label.BODY))
    dump = AnnotatedDump(id="d", kind="page", origin="", lines=lines, pages=(0, 0, 0))
    assert transfer_labels(texts, dump) == expected


@pytest.mark.parametrize(
    ("in_main", "prior", "p", "expected"),
    [
        (True, None, 0.0, Label.BODY),
        (True, Label.HEADLINE, 0.5, Label.HEADLINE),
        (True, Label.BYLINE, 0.5, Label.BYLINE),
        (True, Label.BOILERPLATE, 0.6, Label.BODY),
        (True, Label.BOILERPLATE, 0.95, Label.BOILERPLATE),
        (False, None, 0.0, Label.BOILERPLATE),
        (False, Label.BODY, 0.6, Label.BOILERPLATE),
        (False, Label.BODY, 0.95, Label.BODY),
        (False, Label.TEASER, 0.5, Label.TEASER),
        (False, Label.COMMENT, 0.5, Label.COMMENT),
    ],
    ids=["main", "main-headline", "main-byline", "main-boilerplate-unsure",
         "main-boilerplate-sure", "rest", "rest-body-unsure", "rest-body-sure", "rest-teaser",
         "rest-comment"],
)
def test_model_prior_only_fills_what_markup_leaves_open(
    in_main: bool, prior: Label | None, p: float, expected: Label
) -> None:
    from cleaner.weak import Metadata, PageLine, TextIndex

    text = "A plain paragraph of the story with enough words in it."
    line = PageLine(text=text, tags=frozenset({"p"}), words=frozenset(),
                    inline_tags=frozenset(), inline_words=frozenset(), owner="p")
    main = TextIndex.of([text] if in_main else [])
    meta = Metadata(frozenset(), frozenset())
    guess = Line(1, text, label=prior, p=p) if prior is not None else None
    assert label_line(line, meta, main, TextIndex.of([]), prior=guess) is expected
    # Markup still wins over the prior.
    nav = PageLine(text=text, tags=frozenset({"nav", "p"}), words=frozenset(),
                   inline_tags=frozenset(), inline_words=frozenset(), owner="p")
    assert label_line(nav, meta, main, TextIndex.of([]), prior=guess) is Label.BOILERPLATE
