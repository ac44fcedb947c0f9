"""cleaner.annotated: parsing, errors naming the place, round trips, the page-grouped split."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.annotated import (
    dump_to_json,
    held_out,
    page_ids,
    parse_dump,
    read_dumps,
    write_dumps,
)
from cleaner.errors import DataError
from cleaner.types import LABELS, AnnotatedDump

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TRAIN = FIXTURES / "annotated" / "train.jsonl"


def obj(*lines: Any) -> dict[str, Any]:
    return {"id": "t-1", "kind": "page", "origin": "test", "lines": list(lines)}


OK = {"text": "Some body text.", "label": "body", "page": 0}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param([], "not an annotated dump", id="not-an-object"),
        pytest.param({"lines": "x"}, "not an annotated dump", id="lines-not-a-list"),
        pytest.param(obj(OK, {"label": "body", "page": 0}), "line 2 has no 'text'", id="no-text"),
        pytest.param(obj({"text": 3, "label": "body"}), "line 1 has no 'text'", id="text-not-str"),
        pytest.param(obj(OK, "plain string"), "line 2 has no 'text'", id="line-not-object"),
        pytest.param(obj({"text": "x", "label": "article", "page": 0}),
                     "line 1 has label 'article'", id="bad-label"),
        pytest.param(obj({"text": "x", "label": None, "page": 0}), "line 1 has label None",
                     id="null-label-on-text"),
        pytest.param(obj({"text": "", "label": None}, {"text": "x", "label": "body", "page": -1}),
                     "line 2 has page -1", id="negative-page"),
        pytest.param(obj({"text": "x", "label": "body", "page": "0"}), "line 1 has page '0'",
                     id="page-not-int"),
    ],
)
def test_parse_dump_errors_name_the_place(data: Any, message: str) -> None:
    with pytest.raises(DataError) as err:
        parse_dump(data, where="corpus.jsonl:7")
    assert str(err.value).startswith("corpus.jsonl:7: ")
    assert message in str(err.value)


def test_parse_dump_skips_blanks_and_counts_them() -> None:
    dump = parse_dump(obj(
        {"text": "Title", "label": "headline", "page": 0},
        {"text": "", "label": None, "page": None},
        {"text": "   ", "label": None},
        {"text": "Body.", "label": "body", "page": 1},
    ))
    assert [(ln.number, ln.text, ln.blank_before) for ln in dump.lines] == [
        (1, "Title", 0), (4, "Body.", 2)]
    assert dump.pages == (0, 1)
    assert dump.text == "Title\n\n\nBody."


@pytest.mark.parametrize(
    ("content", "where"),
    [
        pytest.param(json.dumps(obj(OK)) + "\n{broken\n", ":2: invalid JSON", id="invalid-json"),
        pytest.param("\n" + json.dumps(obj(OK, {"text": "x", "label": "nope", "page": 0})),
                     ":2: line 2 has label 'nope'", id="bad-label-after-blank-line"),
        pytest.param(json.dumps(obj(OK)) + "\n[1, 2]\n", ":2: not an annotated dump",
                     id="not-a-dump"),
    ],
)
def test_read_dumps_names_file_and_line(tmp_path: Path, content: str, where: str) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=f"^{path}{where}".replace("\\", "\\\\")):
        list(read_dumps(path))


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        pytest.param("missing.jsonl", None, "cannot read", id="missing-file"),
        pytest.param("latin1.jsonl", b"\xff\xfe{}\n", "not UTF-8", id="not-utf8"),
    ],
)
def test_read_dumps_unreadable(tmp_path: Path, name: str, payload: bytes | None,
                               message: str) -> None:
    path = tmp_path / name
    if payload is not None:
        path.write_bytes(payload)
    with pytest.raises(DataError, match=message):
        list(read_dumps(path))


def test_fixtures_read_cleanly() -> None:
    dumps = list(read_dumps(TRAIN))
    assert len(dumps) == 24
    for dump in dumps:
        assert len(dump.lines) == len(dump.pages) > 0
        assert list(dump.pages) == sorted(dump.pages)


text_line = st.text(st.characters(codec="utf-8", exclude_characters="\n"),
                    min_size=1, max_size=30).filter(lambda t: bool(t.strip()))
json_line = st.one_of(
    st.builds(lambda t, lab, p: {"text": t, "label": lab.value, "page": p},
              text_line, st.sampled_from(LABELS), st.integers(0, 4)),
    st.just({"text": "", "label": None, "page": None}),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(json_line, max_size=15), st.sampled_from(["page", "concat", "bare"]))
def test_dump_to_json_round_trip(lines: list[dict[str, Any]], kind: str) -> None:
    source = {"id": "x-1", "origin": "hypothesis", "kind": kind, "lines": lines}
    dump = parse_dump(json.loads(json.dumps(source, ensure_ascii=False)))
    again = dump_to_json(dump)
    assert parse_dump(json.loads(json.dumps(again))) == dump
    # Blank lines come back with label null, except trailing ones (the dump does not keep those).
    keep = len(lines)
    while keep and lines[keep - 1]["label"] is None:
        keep -= 1
    assert again["lines"] == lines[:keep]
    assert {k: again[k] for k in ("id", "origin", "kind")} == {
        "id": "x-1", "origin": "hypothesis", "kind": kind}


def test_write_then_read_fixture_dumps(tmp_path: Path) -> None:
    dumps = list(read_dumps(TRAIN))
    out = tmp_path / "copy.jsonl"
    write_dumps(dumps, out)
    assert list(read_dumps(out)) == dumps


@pytest.mark.parametrize(
    ("dump_id", "expected"),
    [
        pytest.param("l3s-0007", ["l3s-0007"], id="plain"),
        pytest.param("extracted:l3s-0007", ["l3s-0007"], id="kind-prefix"),
        pytest.param("concat:l3s-1+dragnet-0123+l3s-9", ["l3s-1", "dragnet-0123", "l3s-9"],
                     id="joined"),
        pytest.param("train-concat-01", ["train-concat-01"], id="fixture-id"),
        pytest.param("000_712ab4d5695d9159", ["000_712ab4d5695d9159"], id="seed-without-digits"),
        pytest.param("", [""], id="empty"),
    ],
)
def test_page_ids(dump_id: str, expected: list[str]) -> None:
    assert page_ids(dump_id) == expected


def named(dump_id: str) -> AnnotatedDump:
    return AnnotatedDump(dump_id, "page", "test", (), ())


page = st.integers(0, 30).map(lambda k: f"site-{k:03d}")
dump_ids = st.one_of(
    page,
    page.map(lambda p: f"extracted:{p}"),
    st.lists(page, min_size=2, max_size=4).map(lambda ps: "concat:" + "+".join(ps)),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(dump_ids, min_size=1, max_size=25), st.integers(0, 100))
def test_held_out_keeps_page_groups_together(ids: list[str], percent: int) -> None:
    dumps = [named(i) for i in ids]
    side = held_out(dumps, percent=percent)
    assert len(side) == len(dumps)
    for a in range(len(dumps)):
        for b in range(a):
            if set(page_ids(ids[a])) & set(page_ids(ids[b])):
                assert side[a] == side[b], (ids[a], ids[b])
    # Stable: the same answer for each dump whatever the order of the list.
    assert held_out(dumps[::-1], percent=percent) == side[::-1]
    if percent == 0:
        assert not any(side)
    if percent == 100:
        assert all(side)


def test_held_out_follows_the_sha256_of_the_smallest_page() -> None:
    dumps = [named(f"page-{k}") for k in range(400)]
    side = held_out(dumps)
    expected = [int(hashlib.sha256(d.id.encode()).hexdigest()[:8], 16) % 100 < 20 for d in dumps]
    assert side == expected
    assert 40 < sum(side) < 120  # about a fifth
    # A concat joining page-k to a smaller id moves with that smaller id's group.
    joined = held_out([named("page-1+page-2"), named("page-2"), named("page-1")])
    assert joined == [side[1]] * 3
