"""Tests of `cleaner weak-label` and `cleaner inspect`, through click's CliRunner."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from clirun import invoke

from cleaner.annotated import parse_text, read_dumps
from cleaner.label import default_model_path
from cleaner.read import html_block_lines, html_to_text, split_lines
from cleaner.types import LABELS

ROOT = Path(__file__).resolve().parent.parent
WEAK = ROOT / "fixtures" / "weak"
PAGES = [str(WEAK / name) for name in
         ("ferry-timetable.html", "news-index.html", "allotment-blog.html", "council-budget.html")]
SEED = ROOT / "fixtures" / "dumps" / "004_4c2784c82f799182.txt"
MODEL = default_model_path()
requires_model = pytest.mark.skipif(
    not MODEL.exists(), reason=f"shipped model {MODEL} not built yet (`make train`, then commit it)"
)


# --- weak-label ---------------------------------------------------------------------------------


def test_weak_label_writes_loadable_dumps_and_reports_skipped(tmp_path: Path) -> None:
    out = tmp_path / "weak.jsonl"
    result = invoke("weak-label", *PAGES, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped: ")]
    assert skipped == [f"skipped: {PAGES[1]}: only 2 body line(s) found, at least 3 needed"]
    dumps = list(read_dumps(out))
    assert [d.id for d in dumps] == [
        view for p in (PAGES[0], PAGES[2], PAGES[3]) for view in (p, f"extracted:{p}")]
    for dump in dumps:
        page = Path(dump.id.removeprefix("extracted:")).read_text(encoding="utf-8")
        lines = html_block_lines(page) if dump.kind == "page" else [
            line.text for line in split_lines(html_to_text(page))]
        assert [line.text for line in dump.lines] == lines
        assert {line.label for line in dump.lines} <= set(LABELS)


def test_weak_label_is_deterministic_and_defaults_to_stdout(tmp_path: Path) -> None:
    first = invoke("weak-label", *PAGES)
    second = invoke("weak-label", *PAGES)
    assert first.exit_code == second.exit_code == 0
    assert first.stdout_bytes == second.stdout_bytes
    assert [json.loads(row)["kind"] for row in first.stdout.splitlines()] == [
        "page", "extracted"] * 3


def test_weak_label_min_body(tmp_path: Path) -> None:
    result = invoke("weak-label", PAGES[0], PAGES[3], "--min-body", "6", "--kind", "page")
    assert result.exit_code == 0
    # The budget story has 5 body lines: refused at 6, the ferry story (8) kept.
    assert [json.loads(row)["id"] for row in result.stdout.splitlines()] == [PAGES[0]]


def test_weak_label_unreadable_page_is_an_error_others_still_written(tmp_path: Path) -> None:
    out = tmp_path / "weak.jsonl"
    missing = str(tmp_path / "gone.html")
    result = invoke("weak-label", PAGES[0], missing, "-o", str(out))
    assert result.exit_code == 1
    assert f"error: {missing}: no such file" in result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert [d.id for d in read_dumps(out)] == [PAGES[0], f"extracted:{PAGES[0]}"]


def test_weak_label_nothing_labelled_leaves_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "weak.jsonl"
    out.write_text("old\n", encoding="utf-8")
    result = invoke("weak-label", PAGES[1], "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "error: no page could be weak-labelled; nothing written")
    assert out.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["weak.jsonl"]  # no temporary file left


# --- inspect ------------------------------------------------------------------------------------


def line_count(page: str) -> int:
    return len(re.findall(r'<div class="line[ "]', page))


@requires_model
@pytest.mark.parametrize(
    "source", [SEED, ROOT / "fixtures" / "html" / "harbour-ferry.html"], ids=["text", "html"]
)
def test_inspect_writes_one_element_per_line(tmp_path: Path, source: Path) -> None:
    out = tmp_path / "report.html"
    result = invoke("inspect", str(source), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    if source.suffix == ".txt":
        expected = len(split_lines(source.read_text(encoding="utf-8")))
        assert line_count(page) == expected
    assert line_count(page) > 0
    assert page.startswith("<!DOCTYPE html>")
    export = re.search(r'<textarea id="export-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert export is not None
    (dump,) = parse_text(html.unescape(export.group(1)), source="export.txt")
    assert len(dump.lines) == line_count(page)


@requires_model
def test_inspect_escapes_hostile_text_and_writes_stdout(tmp_path: Path) -> None:
    dump = tmp_path / "hostile.txt"
    dump.write_text("Headline here\n<script>alert(1)</script>\nA body line about things.\n",
                    encoding="utf-8")
    result = invoke("inspect", str(dump))
    assert result.exit_code == 0
    assert "<script>alert(1)</script>" not in result.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result.stdout
    assert line_count(result.stdout) == 3


@requires_model
@pytest.mark.parametrize("threshold", ["0", "1"], ids=["none", "all"])
def test_inspect_review_below(tmp_path: Path, threshold: str) -> None:
    result = invoke("inspect", str(SEED), "--review-below", threshold)
    flagged = len(re.findall(r'<div class="line review"', result.stdout))
    assert flagged == (0 if threshold == "0" else line_count(result.stdout))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.txt"], "error: missing.txt: no such file"),
        ([str(SEED), "--model", "nowhere/model.joblib"], "error: nowhere/model"),
        ([str(SEED), "--review-below", "2"], "Invalid value for '--review-below'"),
    ],
    ids=["missing-input", "bad-model", "bad-threshold"],
)
def test_inspect_errors_leave_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    if args == ["missing.txt"] and not MODEL.exists():
        pytest.skip("needs the shipped model to get as far as reading the input")
    result = invoke("inspect", *args, "-o", "report.html")
    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 or "Usage:" in result.stderr
    assert list(tmp_path.iterdir()) == []


@requires_model
def test_weak_label_use_model_still_writes_every_line() -> None:
    result = invoke("weak-label", PAGES[0], "--use-model", "--kind", "page")
    assert result.exit_code == 0, result.stderr
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    page = Path(PAGES[0]).read_text(encoding="utf-8")
    assert [line["text"] for line in row["lines"]] == html_block_lines(page)
    assert all(line["label"] in {label.value for label in LABELS} for line in row["lines"])


def test_weak_label_model_needs_use_model() -> None:
    result = invoke("weak-label", PAGES[0], "--model", "m.joblib")
    assert result.exit_code == 2
    assert "--model needs --use-model" in result.stderr
