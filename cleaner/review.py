"""A self-contained HTML review page of a cleaned dump (`cleaner inspect`).

Every non-blank line is one element (`div.line`, with data-line, data-label, data-p) coloured by
its label, with its probability; records are marked where they start, with their fields; lines
below a probability threshold are flagged for review. A reviewer changes a line's label with its
select box, and the page exports the dump in the plain-text annotation format of
`cleaner.annotated` (a textarea and a download link), ready for `cleaner train`.

The page loads nothing: CSS and JavaScript are inline, and a Content-Security-Policy forbids any
fetch. All text is escaped (the input is hostile): in elements and attributes by html.escape, in
the embedded JSON by \\u escapes of <, > and &.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from cleaner.annotated import SHORT_TAGS, dump_to_text, dumps_to_text
from cleaner.errors import DataError
from cleaner.pipeline import Cleaned
from cleaner.types import LABELS, AnnotatedDump, Label, Line, Record

# Lines whose label probability is below this are flagged for review.
REVIEW_BELOW = 0.6
# Background colour of each label (light, so that black text stays readable).
LABEL_COLOURS: dict[Label, str] = {
    Label.BODY: "#d7f0d2",
    Label.HEADLINE: "#bcd5ff",
    Label.BYLINE: "#e3d4ff",
    Label.TEASER: "#ffe2b3",
    Label.COMMENT: "#ffd0dc",
    Label.BOILERPLATE: "#e4e4e4",
}
MARKER_PREFIX = "=== "
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; form-action 'none'; base-uri 'none'"
)


def line_pages(articles: Sequence[int | None]) -> list[int]:
    """A page index per line: its record, else the record it trails (0 before the first)."""
    pages, current = [], 0
    for article in articles:
        if article is not None:
            current = article
        pages.append(current)
    return pages


def review_dump(cleaned: Cleaned) -> AnnotatedDump:
    """The cleaned dump as an annotated dump: the predicted labels, records as pages."""
    lines = tuple(
        line if line.label is not None else Line(line.number, line.text, line.blank_before,
                                                 Label.BOILERPLATE, line.p)
        for line in cleaned.lines
    )
    return AnnotatedDump(
        id=cleaned.source,
        kind="page" if len(cleaned.records) <= 1 else "concat",
        origin=f"cleaner inspect: {cleaned.source}, labels predicted by the model, reviewed",
        lines=lines,
        pages=tuple(line_pages(cleaned.articles)),
    )


def export_parts(dump: AnnotatedDump) -> tuple[str, str, list[str]]:
    """The export's text split for the page's script: preamble, dump header line, and per line
    what follows the tag ("| text" or "|json ...") exactly as `cleaner.annotated` writes it."""
    body = dump_to_text(dump)
    full = dumps_to_text([dump])
    preamble = full[: len(full) - len(body)]
    rows = body.split("\n")
    rests = [row.split("|", 1)[1] for row in rows[1:]
             if row.strip() and not row.startswith(MARKER_PREFIX)]
    if len(rests) != len(dump.lines):
        raise DataError(f"{dump.id}: the annotation text has {len(rests)} tag lines for "
                        f"{len(dump.lines)} lines")
    return preamble, rows[0], rests


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element: <, > and & as \\u escapes."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _esc(text: str) -> str:
    """Text escaped for an element or a double-quoted attribute."""
    return html.escape(text, quote=True)


def _options(selected: Label) -> str:
    """The <option>s of a label select box."""
    return "".join(
        f'<option value="{label.value}"{" selected" if label is selected else ""}>'
        f"{label.value}</option>"
        for label in LABELS
    )


def record_html(record: Record, index: int) -> str:
    """The header shown where a record starts: its index and fields."""
    fields = [("title", record.title), ("byline", record.byline), ("date", record.date),
              ("lang", record.lang)]
    cells = "".join(
        f'<span class="field" data-field="{name}"><b>{name}</b> '
        f"{_esc(value) if value is not None else '<i>none</i>'}</span>"
        for name, value in fields
    )
    return (f'<div class="record" data-record="{index}" data-first-line="{record.lines[0]}">'
            f'<span class="rec-id">record {index}</span>{cells}</div>')


def is_flagged(line: Line, *, review_below: float = REVIEW_BELOW) -> bool:
    """Whether a line's label is unsure enough to ask a reviewer (no probability: unsure)."""
    return line.p is None or line.p < review_below


def line_html(line: Line, *, page: int, rest: str, review_below: float = REVIEW_BELOW) -> str:
    """One line's element: number, label select, probability, text; flagged when unsure."""
    label = line.label if line.label is not None else Label.BOILERPLATE
    p = line.p if line.p is not None else 0.0
    flagged = is_flagged(line, review_below=review_below)
    classes = "line review" if flagged else "line"
    return (
        f'<div class="{classes}" id="L{line.number}" data-line="{line.number}" '
        f'data-label="{label.value}" data-orig="{label.value}" data-p="{p:.4f}" '
        f'data-page="{page}" data-blank="{line.blank_before}" '
        f'data-review="{"1" if flagged else "0"}" data-rest="{_esc(rest)}">'
        f'<span class="n">{line.number}</span>'
        f'<select class="label" aria-label="label of line {line.number}">{_options(label)}'
        f'</select><span class="p">{p:.2f}</span><span class="text">{_esc(line.text)}</span>'
        "</div>"
    )


def _css() -> str:
    """The page's style sheet: one background colour per label."""
    colours = "\n".join(
        f'.line[data-label="{label.value}"] {{ background: {colour}; }}'
        f'\n.key[data-label="{label.value}"] {{ background: {colour}; }}'
        for label, colour in LABEL_COLOURS.items()
    )
    return f"""
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #111; background: #fff; }}
header {{ position: sticky; top: 0; background: #fafafa; border-bottom: 1px solid #ccc;
  padding: 8px 16px; z-index: 1; }}
h1 {{ font-size: 16px; margin: 0 0 4px; word-break: break-all; }}
.key {{ display: inline-block; padding: 1px 8px; margin-right: 4px; border-radius: 3px; }}
main {{ padding: 8px 16px; }}
.line {{ display: grid; grid-template-columns: 3.5em 8.5em 3.5em 1fr; gap: 6px;
  align-items: baseline; padding: 2px 6px; margin: 1px 0; border-left: 4px solid transparent; }}
.line .n, .line .p {{ color: #555; font-variant-numeric: tabular-nums; text-align: right; }}
.line .text {{ white-space: pre-wrap; overflow-wrap: anywhere; }}
.line.review {{ border-left-color: #d00; }}
.line.review .p::after {{ content: " \\2691"; color: #d00; }}
.line.changed {{ outline: 2px dashed #333; }}
.record {{ margin: 14px 0 2px; padding: 4px 6px; border-top: 3px solid #234;
  background: #f3f6fa; }}
.record .field {{ margin-left: 14px; }}
.record .rec-id {{ font-weight: bold; }}
#export {{ padding: 8px 16px 24px; border-top: 1px solid #ccc; }}
#export-text {{ width: 100%; height: 18em; font: 12px/1.4 monospace; }}
{colours}
"""


SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("cleaner-data").textContent);
  var lines = Array.prototype.slice.call(document.querySelectorAll(".line"));
  var area = document.getElementById("export-text");
  var link = document.getElementById("download");
  var changed = document.getElementById("changed");

  function exportText() {
    var out = [data.header], page = null;
    lines.forEach(function (el) {
      for (var i = 0; i < Number(el.dataset.blank); i++) { out.push(""); }
      if (el.dataset.page !== page) {
        out.push("=== article " + el.dataset.page);
        page = el.dataset.page;
      }
      var tag = data.tags[el.dataset.label];
      while (tag.length < data.width) { tag += " "; }
      out.push(tag + " |" + el.dataset.rest);
    });
    return data.preamble + out.join("\\n") + "\\n";
  }

  function refresh() {
    var text = exportText();
    area.value = text;
    link.href = "data:text/plain;charset=utf-8," + encodeURIComponent(text);
    changed.textContent = String(document.querySelectorAll(".line.changed").length);
  }

  lines.forEach(function (el) {
    var select = el.querySelector("select");
    select.addEventListener("change", function () {
      el.dataset.label = select.value;
      el.classList.toggle("changed", select.value !== el.dataset.orig);
      refresh();
    });
  });
  refresh();
}());
"""


def review_page(cleaned: Cleaned, *, review_below: float = REVIEW_BELOW) -> str:
    """The whole review page of one cleaned dump, as an HTML string."""
    dump = review_dump(cleaned)
    preamble, header, rests = export_parts(dump)
    body = dump_to_text(dump)
    starts = {record.lines[0]: (k, record) for k, record in enumerate(cleaned.records)
              if record.lines}
    rows: list[str] = []
    for line, page, rest in zip(dump.lines, dump.pages, rests, strict=True):
        if line.number in starts:
            rows.append(record_html(starts[line.number][1], starts[line.number][0]))
        rows.append(line_html(line, page=page, rest=rest, review_below=review_below))
    flagged = sum(is_flagged(line, review_below=review_below) for line in dump.lines)
    data = {
        "preamble": preamble,
        "header": header,
        "tags": {label.value: SHORT_TAGS[label] for label in LABELS},
        "width": max(len(tag) for tag in SHORT_TAGS.values()),
    }
    legend = "".join(f'<span class="key" data-label="{label.value}">{label.value}</span>'
                     for label in LABELS)
    source = _esc(cleaned.source)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cleaner review: {source}</title>
<style>{_css()}</style>
</head>
<body>
<header>
<h1>cleaner review: {source}</h1>
<div id="summary"><span id="n-lines">{len(dump.lines)}</span> lines,
<span id="n-records">{len(cleaned.records)}</span> records,
<span id="n-review">{flagged}</span> flagged for review (p &lt; {review_below:g}),
labels changed: <span id="changed">0</span>.
<a href="#export">Annotations</a></div>
<div id="legend">{legend}</div>
</header>
<main id="lines">
{"".join(row + chr(10) for row in rows)}</main>
<section id="export">
<h2>Annotations (text format of <code>cleaner convert</code>; train with <code>cleaner train</code>)
</h2>
<p><a id="download" download="annotations.txt" href="#">Download annotations</a></p>
<textarea id="export-text" readonly spellcheck="false">{_esc(preamble + body)}</textarea>
</section>
<script type="application/json" id="cleaner-data">{script_json(data)}</script>
<script>{SCRIPT}</script>
</body>
</html>
"""
