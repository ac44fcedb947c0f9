"""Tests of cleaner.write: JSON Lines objects, their key order, and the atomic file writer."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleaner.types import Label, Line, Record
from cleaner.write import (
    DROPPED_LINE_KEYS,
    LABEL_LINE_KEYS,
    RECORD_KEYS,
    atomic_output,
    dropped_line_to_dict,
    json_line,
    label_line_to_dict,
    record_to_dict,
    write_rows,
)

RECORD = Record(
    id="a.txt#0",
    source="a.txt",
    title="Zürich café reopens",
    byline="By Jane Doe | 3 May 2021",
    date="2021-05-03",
    lang="en",
    text="First line.\nSecond — line.",
    lines=(1, 3, 4, 5),
)
LINE = Line(number=7, text="Read more …", label=Label.TEASER, p=0.8125)


class BoomError(Exception):
    pass


def test_record_keys_in_order() -> None:
    obj = record_to_dict(RECORD)
    assert tuple(obj) == RECORD_KEYS == (
        "id", "source", "url", "title", "byline", "date", "lang", "text", "lines",
    )
    assert obj["url"] is None
    assert obj["lines"] == [1, 3, 4, 5]
    assert obj["date"] == "2021-05-03"


def test_record_with_missing_fields_keeps_nulls() -> None:
    bare = Record("b#0", "b", None, None, None, None, "text", (2,))
    assert json.loads(json_line(record_to_dict(bare))) == {
        "id": "b#0", "source": "b", "url": None, "title": None, "byline": None, "date": None,
        "lang": None, "text": "text", "lines": [2],
    }


@pytest.mark.parametrize(("article", "expected"), [(0, 0), (3, 3), (None, None)],
                         ids=["first", "fourth", "dropped"])
def test_label_line(article: int | None, expected: int | None) -> None:
    obj = label_line_to_dict(LINE, source="-", article=article)
    assert tuple(obj) == LABEL_LINE_KEYS == ("source", "line", "text", "label", "p", "article")
    assert obj == {"source": "-", "line": 7, "text": "Read more …", "label": "teaser",
                   "p": 0.8125, "article": expected}


def test_label_line_without_label() -> None:
    obj = label_line_to_dict(Line(number=1, text="x"), source="s")
    assert obj["label"] is None
    assert obj["p"] is None
    assert obj["article"] is None


def test_dropped_line() -> None:
    obj = dropped_line_to_dict(LINE, source="dir/a.txt")
    assert tuple(obj) == DROPPED_LINE_KEYS == ("source", "line", "text", "label", "p")
    assert obj == {"source": "dir/a.txt", "line": 7, "text": "Read more …", "label": "teaser",
                   "p": 0.8125}


def test_json_line_is_one_readable_line() -> None:
    row = json_line(record_to_dict(RECORD))
    assert row.endswith("}\n")
    assert row.count("\n") == 1  # the "\n" inside text is escaped
    assert "Zürich café" in row  # not \u00fc escapes
    assert row.startswith('{"id": "a.txt#0", "source": "a.txt", ')


@given(st.text(), st.integers(min_value=1, max_value=10**6),
       st.sampled_from(list(Label)), st.floats(0, 1))
def test_label_line_round_trips(text: str, number: int, label: Label, p: float) -> None:
    line = Line(number=number, text=text, label=label, p=p)
    row = json_line(label_line_to_dict(line, source="s", article=None))
    assert row.count("\n") == 1
    back = json.loads(row)
    assert (back["line"], back["text"], back["label"], back["p"]) == (number, text, label.value, p)


def test_write_rows_counts_and_encodes_utf8() -> None:
    sink = io.BytesIO()
    n = write_rows(sink, [record_to_dict(RECORD), dropped_line_to_dict(LINE, source="a")])
    assert n == 2
    rows = sink.getvalue().decode("utf-8").splitlines()
    assert [json.loads(r)["source"] for r in rows] == ["a.txt", "a"]
    assert "café".encode() in sink.getvalue()


def test_write_rows_is_deterministic() -> None:
    first, second = io.BytesIO(), io.BytesIO()
    write_rows(first, [record_to_dict(RECORD)])
    write_rows(second, [record_to_dict(RECORD)])
    assert first.getvalue() == second.getvalue()


# --- atomic output ------------------------------------------------------------------------------


def test_atomic_output_writes_file(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with atomic_output(str(target)) as handle:
        handle.write(b"{}\n")
        # Nothing is visible at the target until the block ends.
        assert not target.exists()
    assert target.read_bytes() == b"{}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_atomic_output_failure_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with pytest.raises(BoomError), atomic_output(str(target)) as handle:
        handle.write(b"partial")
        raise BoomError
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_failure_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old\n")
    with pytest.raises(BoomError), atomic_output(str(target)) as handle:
        handle.write(b"new")
        raise BoomError
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_atomic_output_replaces_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old\n")
    target.chmod(0o640)
    with atomic_output(str(target)) as handle:
        handle.write(b"new\n")
    assert target.read_bytes() == b"new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_atomic_output_new_file_is_not_private(tmp_path: Path) -> None:
    # mkstemp's 0600 must not leak into the output: others may read it as with open().
    target = tmp_path / "out.jsonl"
    with atomic_output(str(target)) as handle:
        handle.write(b"x")
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_atomic_output_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), atomic_output(str(tmp_path / "no" / "out.jsonl")):
        pass
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_dash_is_stdout() -> None:
    sink = io.BytesIO()
    with atomic_output("-", stdout=sink) as handle:
        handle.write(b"row\n")
    assert sink.getvalue() == b"row\n"
