"""Tests of cleaner.write: JSON Lines objects, their key order, and the atomic file writer."""

from __future__ import annotations

import io
import json
import os
import re
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleaner.types import Label, Line, Record
from cleaner.write import (
    DROPPED_LINE_KEYS,
    KIND_KEYS,
    LABEL_LINE_KEYS,
    MAX_NAME_STEM,
    PARQUET_TYPES,
    RECORD_KEYS,
    Format,
    JsonlWriter,
    Kind,
    ParquetWriter,
    TxtWriter,
    atomic_output,
    dropped_line_to_dict,
    json_line,
    label_line_to_dict,
    open_writer,
    record_file_name,
    record_text,
    record_to_dict,
    rollback_txt,
    shard_path,
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


# --- writers: JSON Lines, Parquet, .txt files, shards -------------------------------------------


def test_parquet_types_cover_every_key() -> None:
    for keys in KIND_KEYS.values():
        assert set(keys) <= set(PARQUET_TYPES)


@pytest.mark.parametrize("kind", ["split", "label", "dropped"])
def test_parquet_writer_round_trips_in_row_groups(
    tmp_path: Path, kind: Kind, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    monkeypatch.setattr("cleaner.write.PARQUET_ROW_GROUP", 3)
    if kind == "split":
        rows = [{**record_to_dict(RECORD), "id": f"a.txt#{k}"} for k in range(7)]
    elif kind == "label":
        rows = [label_line_to_dict(LINE, source="s", article=k % 2 or None) for k in range(7)]
    else:
        rows = [dropped_line_to_dict(LINE, source=f"s{k}") for k in range(7)]
    target = tmp_path / "out.parquet"
    writer = ParquetWriter(str(target), kind=kind)
    for row in rows:
        writer.write(row)
    assert not target.exists()
    writer.commit()
    table = pq.read_table(target)
    assert table.column_names == list(KIND_KEYS[kind])
    assert table.to_pylist() == rows
    # Three rows per group: memory holds one group, never the whole output.
    assert pq.ParquetFile(target).metadata.num_row_groups == 3
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_discarded_writer_leaves_nothing(tmp_path: Path, fmt: Format) -> None:
    writer = open_writer(fmt, kind="split", target=str(tmp_path / f"out.{fmt}"))
    writer.write(record_to_dict(RECORD))
    writer.discard()
    assert list(tmp_path.iterdir()) == []


def test_jsonl_writer_matches_write_rows(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    writer = JsonlWriter(str(target))
    rows = [record_to_dict(RECORD), dropped_line_to_dict(LINE, source="a")]
    for row in rows:
        writer.write(row)
    writer.commit()
    expected = io.BytesIO()
    write_rows(expected, rows)
    assert target.read_bytes() == expected.getvalue()


@pytest.mark.parametrize(
    ("path", "index", "expected"),
    [("out.jsonl", 0, "out-00000.jsonl"), ("d/out.parquet", 12, "d/out-00012.parquet"),
     ("noext", 3, "noext-00003")],
    ids=["jsonl", "parquet-in-dir", "no-suffix"],
)
def test_shard_path(path: str, index: int, expected: str) -> None:
    assert shard_path(path, index) == str(Path(expected))


@pytest.mark.parametrize(
    ("record_id", "expected"),
    [
        ("a.txt#0", "a.txt_0.txt"),
        ("../../etc/passwd#0", "_.._etc_passwd_0.txt"),
        ("/abs/path.txt#1", "_abs_path.txt_1.txt"),
        ("nul\0byte", "nul_byte.txt"),
        ("..", "record.txt"),
        ("", "record.txt"),
        ("CON", "_con.txt"),
        ("Mixed/Case#2", "mixed_case_2.txt"),
        ("x" * 300, "x" * MAX_NAME_STEM + ".txt"),
    ],
    ids=["plain", "dot-dot", "absolute", "nul", "only-dots", "empty", "windows-device", "case",
         "long"],
)
def test_record_file_name(record_id: str, expected: str) -> None:
    assert record_file_name(record_id) == expected


@given(st.text())
def test_record_file_name_stays_inside(record_id: str) -> None:
    name = record_file_name(record_id)
    assert re.fullmatch(r"[a-z0-9_-][a-z0-9._-]*\.txt", name)
    assert len(name) <= MAX_NAME_STEM + len(".txt")
    root = Path("/out")
    assert (root / name).resolve().parent == root


def test_txt_writer_names_collide_deterministically(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a_b_0.txt").write_text("earlier part\n", encoding="utf-8")
    writer = TxtWriter(out, part=1)
    ids = ["a/b#0", "a_b#0", "A_B#0", "../a_b#0"]
    for record_id in ids:
        writer.write({**record_to_dict(RECORD), "id": record_id, "title": None,
                      "text": record_id})
    # Staged: nothing new in the directory until commit.
    assert sorted(p.name for p in out.iterdir()) == [".cleaner-staging", "a_b_0.txt"]
    writer.commit()
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    # Lower-cased, "A_B#0" clashes too, whatever the file system; "../a_b#0" is another name.
    assert names == ["_a_b_0.txt", "a_b_0.txt", "a_b_0~2.txt", "a_b_0~3.txt", "a_b_0~4.txt"]
    assert (out / "a_b_0~2.txt").read_text(encoding="utf-8") == "a/b#0\n"
    assert (out / "a_b_0~3.txt").read_text(encoding="utf-8") == "a_b#0\n"
    assert (out / "a_b_0~4.txt").read_text(encoding="utf-8") == "A_B#0\n"
    assert (out / "a_b_0.txt").read_text(encoding="utf-8") == "earlier part\n"


def test_txt_record_text() -> None:
    assert record_text(record_to_dict(RECORD)) == f"{RECORD.title}\n\n{RECORD.text}\n"
    assert record_text({"title": None, "text": "body"}) == "body\n"


def test_rollback_txt_removes_an_unfinished_part(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for part, record_ids in enumerate([["a#0", "a#1"], ["b#0"]]):
        writer = TxtWriter(out, part=part)
        for record_id in record_ids:
            writer.write({"id": record_id, "title": None, "text": record_id})
        writer.commit()
    # A third part was being staged when the run died.
    TxtWriter(out, part=2).write({"id": "c#0", "title": None, "text": "c"})
    # The run had recorded part 0 as done, not part 1: part 1's files go again.
    rollback_txt(out, done=1)
    assert sorted(p.name for p in out.iterdir()) == ["a_0.txt", "a_1.txt"]
