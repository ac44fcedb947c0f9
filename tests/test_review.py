"""Tests of cleaner.review: the HTML review page, in Python and in a real headless Chromium."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import html
import json
import os
import re
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleaner.annotated import dumps_to_text, parse_text
from cleaner.pipeline import Cleaned
from cleaner.review import LABEL_COLOURS, line_pages, review_dump, review_page, script_json
from cleaner.types import LABELS, Label, Line, Record

HOSTILE = '<script>alert("x")</script> & </textarea><img src=x onerror=alert(1)>'
# (text, blank lines above, label, p, record index or None)
ROWS: list[tuple[str, int, Label, float, int | None]] = [
    ("Home | News | Sport", 0, Label.BOILERPLATE, 0.97, None),
    ("Ferry timetable to change in March", 1, Label.HEADLINE, 0.91, 0),
    ("By Mara Quinn | 11 February 2026", 0, Label.BYLINE, 0.55, 0),
    ("The ferry will run on a reduced timetable for six weeks.", 0, Label.BODY, 0.93, 0),
    (HOSTILE, 0, Label.BODY, 0.42, 0),
    ("Related: Storm damage to the pier", 2, Label.TEASER, 0.58, None),
    ("Council agrees budget", 0, Label.HEADLINE, 0.88, 1),
    ("The budget was approved on Wednesday night by fourteen votes.", 0, Label.BODY, 0.99, 1),
    ("2 Comments", 0, Label.COMMENT, 0.77, None),
    ("  spaced\ttext  ", 0, Label.BOILERPLATE, 0.7, None),
]


def make_cleaned(rows: list[tuple[str, int, Label, float, int | None]] = ROWS) -> Cleaned:
    """A cleaned dump built by hand: no model involved."""
    lines, number = [], 0
    for text, blank, label, p, _ in rows:
        number += blank + 1
        lines.append(Line(number=number, text=text, blank_before=blank, label=label, p=p))
    articles = tuple(row[4] for row in rows)
    records = []
    for k in sorted({a for a in articles if a is not None}):
        members = [ln for ln, a in zip(lines, articles, strict=True) if a == k]
        records.append(Record(
            id=f"dump.txt#{k}", source="dump.txt",
            title=next((ln.text for ln in members if ln.label is Label.HEADLINE), None),
            byline=next((ln.text for ln in members if ln.label is Label.BYLINE), None),
            date="2026-02-11" if k == 0 else None, lang="en",
            text="\n".join(ln.text for ln in members if ln.label is Label.BODY),
            lines=tuple(ln.number for ln in members)))
    return Cleaned("dump.txt", tuple(lines), articles, tuple(records))


def line_elements(page: str) -> list[str]:
    return re.findall(r'<div class="line[^"]*"[^>]*>', page)


def attr(element: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', element)
    assert found is not None, name
    return html.unescape(found.group(1))


def textarea(page: str) -> str:
    found = re.search(r'<textarea id="export-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None
    return html.unescape(found.group(1))


def test_one_element_per_line_with_its_data() -> None:
    page = review_page(make_cleaned())
    elements = line_elements(page)
    assert len(elements) == len(ROWS)
    numbers = [int(attr(e, "data-line")) for e in elements]
    assert numbers == [1, 3, 4, 5, 6, 9, 10, 11, 12, 13]
    assert [attr(e, "data-label") for e in elements] == [row[2].value for row in ROWS]
    assert [float(attr(e, "data-p")) for e in elements] == [row[3] for row in ROWS]


@pytest.mark.parametrize(("threshold", "flagged"), [(0.6, 3), (0.5, 1), (0.0, 0), (1.0, 10)],
                         ids=["0.6", "0.5", "0", "1"])
def test_review_flags(threshold: float, flagged: int) -> None:
    page = review_page(make_cleaned(), review_below=threshold)
    elements = line_elements(page)
    assert sum(attr(e, "data-review") == "1" for e in elements) == flagged
    assert sum('class="line review"' in e for e in elements) == flagged
    assert f'<span id="n-review">{flagged}</span>' in page


def test_records_are_marked_with_their_fields() -> None:
    page = review_page(make_cleaned())
    heads = re.findall(r'<div class="record" data-record="(\d)" data-first-line="(\d+)">', page)
    assert heads == [("0", "3"), ("1", "10")]
    assert "<b>date</b> 2026-02-11" in page
    assert "<b>title</b> Council agrees budget" in page
    # A record header comes right before its first line.
    assert re.search(r'data-first-line="10">.*?</div>\s*<div class="line[^"]*" id="L10"', page)


def test_hostile_text_is_escaped() -> None:
    page = review_page(make_cleaned())
    assert page.count("<script") == 2  # the JSON data and the page's own script
    assert "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    data = re.search(r'<script type="application/json" id="cleaner-data">(.*?)</script>', page,
                     re.S)
    assert data is not None
    assert "<" not in data.group(1)


@given(st.text(max_size=60))
def test_script_json_round_trips_and_never_closes_the_script(text: str) -> None:
    out = script_json({"t": text})
    assert "</" not in out and "<" not in out
    assert json.loads(out) == {"t": text}


def test_page_is_self_contained() -> None:
    page = review_page(make_cleaned())
    assert not re.search(r'\b(?:src|href)="(?:https?:)?//', page)
    assert "@import" not in page and "url(" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_textarea_holds_the_annotation_text_format() -> None:
    cleaned = make_cleaned()
    exported = textarea(review_page(cleaned))
    assert exported == dumps_to_text([review_dump(cleaned)])
    (dump,) = parse_text(exported, source="export.txt")
    assert [ln.text for ln in dump.lines] == [ln.text for ln in cleaned.lines]
    assert [ln.label for ln in dump.lines] == [row[2] for row in ROWS]
    assert [ln.blank_before for ln in dump.lines] == [row[1] for row in ROWS]
    assert list(dump.pages) == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]


@pytest.mark.parametrize(
    ("articles", "pages"),
    [([None, 0, 0, None, 1, None], [0, 0, 0, 0, 1, 1]), ([None, None], [0, 0]), ([], [])],
    ids=["trailing-furniture", "no-records", "empty"],
)
def test_line_pages(articles: list[int | None], pages: list[int]) -> None:
    assert line_pages(articles) == pages


def test_empty_dump() -> None:
    page = review_page(Cleaned("empty.txt", (), (), ()))
    assert line_elements(page) == []
    assert '<span id="n-lines">0</span>' in page


def test_deterministic() -> None:
    assert review_page(make_cleaned()) == review_page(make_cleaned())


# --- in a real headless Chromium ------------------------------------------------------------------

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
    "--remote-debugging-pipe",
)
BROWSER_TIMEOUT = 60.0


def find_chromium() -> str | None:
    """The Chromium binary: /usr/bin/chromium (Debian's package) or one on PATH."""
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


class Browser:
    """Chromium driven over the DevTools protocol on a pipe (fds 3 and 4): no extra package."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_fds() -> None:  # runs in the child: Chromium reads fd 3 and writes fd 4
            # Move both ends above 4 first: a pipe end may itself be fd 3 or 4, and dup2 onto
            # the same number would neither move it nor clear its close-on-exec flag.
            high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_fds, close_fds=False,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.session = ""

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its result (events on the way are skipped)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + BROWSER_TIMEOUT
        while True:
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                ready, _, _ = select.select([self._from_chrome], [], [], max(left, 0))
                if not ready:
                    raise TimeoutError(f"no answer from Chromium to {method}")
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the pipe during {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result

    def open(self, url: str) -> None:
        """Open a page in a new tab, attach to it and wait until it has loaded."""
        target = self.call("Target.createTarget", url=url)["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"]
        deadline = time.monotonic() + BROWSER_TIMEOUT
        # The new tab holds about:blank (already "complete") until the file's document commits.
        loaded = f"location.href === {json.dumps(url)} && document.readyState === 'complete'"
        while not self.js(loaded):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not load")
            time.sleep(0.05)

    def js(self, expression: str) -> Any:
        """Evaluate JavaScript in the page and return its (JSON) value."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        """Save a PNG of the page."""
        self.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                  deviceScaleFactor=1, mobile=False)
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")[
            "data"]))

    def close(self) -> None:
        """Close the browser (and kill it if it does not go)."""
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    binary = find_chromium()
    if binary is None:
        pytest.skip("Chromium not found (/usr/bin/chromium or on PATH): `make browser` installs "
                    "Debian's chromium package")
    driver = Browser(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.close()


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_review_page_in_headless_chromium(browser: Browser, tmp_path: Path) -> None:
    cleaned = make_cleaned()
    page_file = tmp_path / "review.html"
    page_file.write_text(review_page(cleaned), encoding="utf-8")
    browser.open(page_file.as_uri())

    # One element per non-blank line, in order, with its label's colour.
    shown = browser.js(
        "Array.from(document.querySelectorAll('.line')).map(e => [e.dataset.line, "
        "e.dataset.label, getComputedStyle(e).backgroundColor, "
        "e.querySelector('.text').textContent, e.classList.contains('review')])"
    )
    assert len(shown) == len(cleaned.lines)
    for (number, label, colour, text, review), line in zip(shown, cleaned.lines, strict=True):
        assert int(number) == line.number
        assert label == line.label
        assert colour == rgb(LABEL_COLOURS[Label(label)])
        assert text == line.text  # the hostile line shows as text, its markup inert
        assert review == (line.p is not None and line.p < 0.6)
    assert browser.js("document.querySelectorAll('img').length") == 0
    assert browser.js("document.querySelectorAll('.record').length") == 2
    legend = browser.js("Array.from(document.querySelectorAll('.key')).map(e => "
                        "getComputedStyle(e).backgroundColor)")
    assert legend == [rgb(LABEL_COLOURS[label]) for label in LABELS]

    # The script's export equals the Python writer's before any change.
    assert browser.js("document.getElementById('export-text').value") == dumps_to_text(
        [review_dump(cleaned)])

    # Change line 4 (a byline) to body: colour, changed count and export follow.
    browser.js("(() => { const s = document.querySelector('#L4 select'); s.value = 'body'; "
               "s.dispatchEvent(new Event('change')); })()")
    assert browser.js("getComputedStyle(document.getElementById('L4')).backgroundColor") == rgb(
        LABEL_COLOURS[Label.BODY])
    assert browser.js("document.getElementById('changed').textContent") == "1"
    exported = browser.js("document.getElementById('export-text').value")
    (dump,) = parse_text(exported, source="export.txt")
    expected = [Label.BODY if ln.number == 4 else ln.label for ln in cleaned.lines]
    assert [ln.label for ln in dump.lines] == expected
    assert [ln.text for ln in dump.lines] == [ln.text for ln in cleaned.lines]
    href = browser.js("document.getElementById('download').href")
    assert href.startswith("data:text/plain;charset=utf-8,")
    assert browser.js("decodeURIComponent(document.getElementById('download').href"
                      ".split(',').slice(1).join(','))") == exported

    shot = tmp_path / "review.png"
    browser.screenshot(shot)
    assert shot.read_bytes().startswith(b"\x89PNG")
