"""bench.recipe: overriding recipe constants, counting body leaks, the mean/spread table."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from bench.recipe import (
    EXCLUSIONS,
    FIXTURES,
    MAKE_TRAIN_FIXTURES,
    OWN_SETS,
    apply_settings,
    body_errors,
    load,
    miscounted,
    parse_setting,
    seed_line,
    summary,
    table,
)
from cleaner import augment, train
from cleaner.annotated import read_dumps, write_dumps
from cleaner.errors import DataError
from cleaner.features import PAIR_MAX_WORDS
from cleaner.label import Model
from cleaner.types import AnnotatedDump, Label, Line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cleaner.train.FIXTURE_WEIGHT=5", ("cleaner.train", "FIXTURE_WEIGHT", 5)),
        ("cleaner.augment.TITLE_AFTER_SHARE=0.5", ("cleaner.augment", "TITLE_AFTER_SHARE", 0.5)),
        ("a.b.NAME=(1, 2)", ("a.b", "NAME", (1, 2))),
        ("a.NAME=word", ("a", "NAME", "word")),
    ],
)
def test_parse_setting(text: str, expected: tuple[str, str, object]) -> None:
    assert parse_setting(text) == expected


@pytest.mark.parametrize("text", ["FIXTURE_WEIGHT=5", "cleaner.train.FIXTURE_WEIGHT", "a.=1"])
def test_parse_setting_refuses_malformed(text: str) -> None:
    with pytest.raises(ValueError, match=r"MODULE\.NAME=VALUE"):
        parse_setting(text)


def test_apply_settings_sets_a_constant_and_refuses_unknown_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(augment, "BARE_SHARE", augment.BARE_SHARE)  # restored afterwards
    apply_settings(["cleaner.augment.BARE_SHARE=0.5"])
    assert augment.BARE_SHARE == 0.5
    with pytest.raises(ValueError, match="no BARE_SHAR"):
        apply_settings(["cleaner.augment.BARE_SHAR=0.5"])


def test_body_errors_count_leaks_both_ways() -> None:
    gold = [Label.BODY, Label.TEASER, Label.BYLINE, Label.BODY]
    dump = AnnotatedDump("d", "page", "test",
                         tuple(Line(i, f"line {i}", label=g) for i, g in enumerate(gold, 1)),
                         (0,) * 4)
    predicted = [Label.BODY, Label.BODY, Label.HEADLINE, Label.COMMENT]
    # teaser -> body leaks in, body -> comment is lost; byline -> headline is not a body error
    assert body_errors([dump], [predicted]) == 2


def test_summary_and_table() -> None:
    rows = {"1": {"body F1": 0.8, "errors": 4.0}, "7": {"body F1": 0.84, "errors": 11.0}}
    mean, spread = summary(list(rows.values()))
    assert mean == pytest.approx({"body F1": 0.82, "errors": 7.5})
    assert spread == pytest.approx({"body F1": 0.04, "errors": 7.0})
    lines = table(rows).splitlines()
    assert lines[0] == "| seed | body F1 | errors |"
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| 1", "| 7", "| mean", "| spread"]


def test_seed_line_gives_every_column_of_a_row() -> None:
    assert seed_line({"body F1": 0.85612, "seeds count": 1.0}) == "body F1=0.856, seeds count=1.000"


def test_set_fixture_weight_reaches_the_training_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus.jsonl"
    write_dumps(list(read_dumps(FIXTURES))[:3], corpus)
    monkeypatch.setattr(train, "FIXTURE_WEIGHT", train.FIXTURE_WEIGHT)  # restored afterwards
    apply_settings(["cleaner.train.FIXTURE_WEIGHT=5"])
    data = load(corpus)
    fixture_ids = {d.id for path in MAKE_TRAIN_FIXTURES for d in read_dumps(path)}
    weights = {d.id: w for d, w in zip(data.train, data.weights, strict=True)}
    # Our fixtures weigh 5; the corpus's dumps (the same three, read as the corpus) weigh 1.
    assert 5.0 in weights.values()
    assert all(w in (1.0, 5.0) for w in weights.values())
    assert {d.id for d in data.train} <= fixture_ids


def test_fixtures_option_replaces_extra_files_and_refuses_scored_sets(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    extra = tmp_path / "extra.jsonl"
    dumps = list(read_dumps(FIXTURES))
    write_dumps(dumps[:2], corpus)
    write_dumps(dumps[5:6], extra)
    data = load(corpus, [extra])
    weights = {d.id: w for d, w in zip(data.train, data.weights, strict=True)}
    # The extra file's one dump trains at the fixture weight; train.jsonl's others are not read.
    assert weights[dumps[5].id] == train.FIXTURE_WEIGHT
    read = {d.id for d in data.train} | {d.id for d in data.held}
    assert read == {dumps[0].id, dumps[1].id, dumps[5].id}
    for scored in ("gate", "misses"):
        with pytest.raises(ValueError, match="never trained on"):
            load(corpus, [OWN_SETS[scored]])


def test_exclude_option_drops_the_listed_pages_and_refuses_unknown_ones(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    extra = tmp_path / "extra.jsonl"
    listed = tmp_path / "exclude.txt"
    dumps = list(read_dumps(FIXTURES))
    write_dumps(dumps[:2], corpus)
    write_dumps(dumps[5:6], extra)
    listed.write_text(f"{dumps[5].id}  # gold wrong\n", encoding="utf-8")
    data = load(corpus, [extra], exclude=listed)
    read = {d.id for d in data.train} | {d.id for d in data.held}
    assert read == {dumps[0].id, dumps[1].id}
    listed.write_text("dragnet-9999\n", encoding="utf-8")
    with pytest.raises(DataError, match="in none of the training files: dragnet-9999"):
        load(corpus, [extra], exclude=listed)


def test_miscounted_names_the_dumps_cut_into_another_number_of_records(model: Model) -> None:
    # The seeds' two concat dumps come out as two records each with the shipped model: told
    # they hold one page, or three, they are miscounted, and only they are named.
    seeds = [d for d in read_dumps(OWN_SETS["seeds"]) if d.kind == "concat"]
    assert len(seeds) == 2
    assert miscounted(seeds, model) == []
    first, second = seeds
    one_page = dataclasses.replace(first, id="told-one", pages=(0,) * len(first.pages))
    # The last page's second half called a third page.
    last = [i for i, p in enumerate(second.pages) if p == max(second.pages)]
    cut = last[len(last) // 2]
    three = dataclasses.replace(second, id="told-three", pages=tuple(
        p + (i >= cut) for i, p in enumerate(second.pages)))
    assert miscounted([one_page, first, three, second], model) == ["told-one", "told-three"]


def test_default_exclusions_are_make_trains_and_the_shipped_models() -> None:
    """bench.recipe compares with `make train`'s recipe: the same list, the one the card names."""
    root = EXCLUSIONS.parent.parent
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    assert re.findall(r"cleaner train .*--exclude (\S+)", makefile) == [
        str(EXCLUSIONS.relative_to(root))]
    card = json.loads((root / "models" / "cleaner.json").read_text(encoding="utf-8"))
    assert card["excluded"]["sha256"] == train.file_sha256(EXCLUSIONS)


def test_default_fixtures_and_word_pairs_are_make_trains_and_the_shipped_models() -> None:
    """bench.recipe's default training files and word pairs are make train's and the card's."""
    root = EXCLUSIONS.parent.parent
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    [command] = re.findall(r"cleaner train \$\(CORPUS\) (.*)", makefile)
    named = re.findall(r"(fixtures/annotated/\S+\.jsonl)", command)
    assert named == [str(path.relative_to(root)) for path in MAKE_TRAIN_FIXTURES]
    [pairs] = [int(v) for v in re.findall(r"--word-pairs (\d+)", command)]
    assert pairs == PAIR_MAX_WORDS  # the recipe's default, which bench.recipe trains with
    card = json.loads((root / "models" / "cleaner.json").read_text(encoding="utf-8"))
    assert [entry["path"] for entry in card["training_data"][1:]] == named
    assert card["features"]["pairs"]["max_words"] == pairs
