"""Tests of `cleaner convert`, `train`, `eval` and `info`, through click's CliRunner."""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from clirun import invoke

from cleaner.annotated import format_dumps, held_out, read_annotated, read_dumps
from cleaner.cli_model import Progress
from cleaner.evaluate import evaluate_model, scores_json
from cleaner.features import PAIR_FEATURES
from cleaner.label import arrays_path, card_path, load_model
from cleaner.train import FIXTURE_WEIGHT

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "annotated"
HANDWRITTEN = FIXTURES / "handwritten.txt"
TRAIN = FIXTURES / "train.jsonl"


@contextmanager
def single_thread() -> Iterator[None]:
    """One OpenMP/BLAS thread (OpenMP loaded first so that threadpoolctl can reach it)."""
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def one_error_line(result: Result) -> str:
    """The single `error: ...` line a failed command printed on stderr."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# --- convert ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "suffixes"),
    [
        pytest.param(HANDWRITTEN, ("jsonl", "txt"), id="text-to-jsonl-and-back"),
        pytest.param(TRAIN, ("ann", "jsonl"), id="jsonl-to-text-and-back"),
    ],
)
def test_convert_round_trip(tmp_path: Path, source: Path, suffixes: tuple[str, str]) -> None:
    there, back = (tmp_path / f"there.{suffixes[0]}", tmp_path / f"back.{suffixes[1]}")
    first = invoke("convert", source, "-o", there)
    assert first.exit_code == 0, first.output
    assert first.stdout == ""
    assert first.stderr.startswith(f"cleaner: {len(list(read_annotated(source)))} dumps from ")
    assert invoke("convert", there, "-o", back).exit_code == 0
    assert list(read_annotated(back)) == list(read_annotated(source))


def test_convert_to_option_overrides_suffix(tmp_path: Path) -> None:
    out = tmp_path / "dumps.data"
    assert invoke("convert", HANDWRITTEN, "-o", out, "--to", "jsonl").exit_code == 0
    assert [d.id for d in read_dumps(out)] == ["example-0001", "example-0002"]


@pytest.mark.parametrize(
    ("content", "output", "message"),
    [
        pytest.param("body | ok\nhead |\n", "out.jsonl", "in.txt:2: tagged line has no text",
                     id="parse-error-names-line"),
        pytest.param("body | ok\n", "out.dat", "cannot tell the format", id="unknown-suffix"),
        pytest.param("body | ok\n", "missing-dir/out.jsonl", "cannot write", id="unwritable"),
    ],
)
def test_convert_errors(tmp_path: Path, content: str, output: str, message: str) -> None:
    source = tmp_path / "in.txt"
    source.write_text(content, encoding="utf-8")
    line = one_error_line(invoke("convert", source, "-o", tmp_path / output))
    assert message in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]  # no partial output


# --- train --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained by `cleaner train` on a text-format base file plus an extra JSONL file,
    with word pairs (so the commands below that use it also run a model that has them)."""
    root = tmp_path_factory.mktemp("cli-train")
    dumps = list(read_dumps(TRAIN))
    (root / "base.txt").write_text(format_dumps(dumps[::3], fmt="text"), encoding="utf-8")
    (root / "extra.jsonl").write_text(format_dumps(dumps[1::6], fmt="jsonl"), encoding="utf-8")
    model = root / "model" / "m.joblib"
    # One extra dump's page is excluded (a list with a comment and a blank line).
    (root / "exclude.txt").write_text(f"# gold wrong as a whole\n\n{dumps[1].id}  # why\n",
                                      encoding="utf-8")
    with single_thread():
        result = invoke("train", root / "base.txt", root / "extra.jsonl", "--holdout",
                        "--folds", "2", "--seed", "7", "--licence", "invented text: MIT",
                        "--word-pairs", "12", "--exclude", root / "exclude.txt", "-o", model)
    assert result.exit_code == 0, result.output
    # Not a terminal: no progress bar, just the summary line.
    assert result.stdout == ""
    [summary] = result.stderr.splitlines()
    assert summary.startswith(f"saved {model}: ")
    return model


def test_train_card_records_both_files(cli_model: Path) -> None:
    card = json.loads(card_path(cli_model).read_text(encoding="utf-8"))
    base = list(read_dumps(TRAIN))[::3]
    held = sum(held_out(base))
    assert 0 < held < len(base)  # the holdout really holds something out of this base file
    assert [(d["format"], d["weight"], d["held_out_dumps"]) for d in card["training_data"]] == [
        ("text", 1.0, held), ("jsonl", FIXTURE_WEIGHT, 0)]
    # The excluded page's dump (the extra file's first) did not train; the base is whole.
    assert [d["dumps"] for d in card["training_data"]] == [len(base) - held, 3]
    assert [d.get("excluded_dumps", 0) for d in card["training_data"]] == [0, 1]
    excluded = card["excluded"]
    assert (excluded["pages"], excluded["dumps"]) == (1, 1)
    assert excluded["path"].endswith("exclude.txt") and len(excluded["sha256"]) == 64
    assert (card["seed"], card["folds"], card["held_out_dumps"]) == (7, 2, held)
    assert card["licences"] == "invented text: MIT"
    assert card["holdout"].startswith("20% of the page groups of ")
    assert card["features"]["pairs"] == {"max_words": 12, "buckets": PAIR_FEATURES}


def test_train_quiet_dropping_contradicted_labels(tmp_path: Path) -> None:
    model = tmp_path / "m.joblib"
    (tmp_path / "d.txt").write_text(HANDWRITTEN.read_text(encoding="utf-8"), encoding="utf-8")
    with single_thread():
        result = invoke("train", tmp_path / "d.txt", "-o", model, "--folds", "2", "-q",
                        "--drop-contradicted", "--contradicted", tmp_path / "c.jsonl")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert model.exists()
    noise = json.loads(card_path(model).read_text(encoding="utf-8"))["contradicted_lines"]
    assert noise["rule"].startswith("weight 0 where")
    assert noise["lines"] == sum(noise["by_labels"].values())
    assert all(re.fullmatch(r"\w+ -> \w+", pair) for pair in noise["by_labels"])
    rows = [json.loads(line) for line in (tmp_path / "c.jsonl").read_text("utf-8").splitlines()]
    assert len(rows) == noise["lines"]
    assert all(set(row) == {"file", "dump", "line", "text", "label", "predicted", "p_label", "p"}
               for row in rows)


def test_contradicted_report_must_be_a_file(tmp_path: Path) -> None:
    result = invoke("train", HANDWRITTEN, "-o", tmp_path / "m.joblib", "--contradicted", "-")
    assert result.exit_code == 2
    assert "'--contradicted': must be a file, not -" in result.stderr
    assert not (tmp_path / "m.joblib").exists()


@pytest.mark.parametrize(
    ("files", "output", "message"),
    [
        pytest.param({"d.txt": "body | a\nmystery | b\n"}, "m.joblib", "d.txt:2: unknown tag",
                     id="bad-text-line"),
        pytest.param({"d.jsonl": '{"lines": [}\n'}, "m.joblib", "d.jsonl:1: invalid JSON",
                     id="bad-json"),
        pytest.param({"d.txt": "body | only body\n"}, "m.joblib", "has no headline", id="labels"),
        pytest.param({"d.txt": HANDWRITTEN.read_text(encoding="utf-8")}, "d.txt/m.joblib",
                     "cannot write the model there", id="unwritable"),
        pytest.param({"d.txt": HANDWRITTEN.read_text(encoding="utf-8")}, "m.json",
                     "cannot end in .json", id="card-name"),
    ],
)
def test_train_errors(tmp_path: Path, files: dict[str, str], output: str, message: str) -> None:
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    (tmp_path / "m.joblib").write_bytes(b"older model")
    before = sorted(p.name for p in tmp_path.iterdir())
    line = one_error_line(invoke("train", *(tmp_path / n for n in files), "-o",
                                 tmp_path / output))
    assert message in line
    # Nothing new was written and the older model is as it was.
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "m.joblib").read_bytes() == b"older model"


def test_train_exclusion_of_an_unknown_page(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text(HANDWRITTEN.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "x.txt").write_text("dragnet-9999\n", encoding="utf-8")
    line = one_error_line(invoke("train", tmp_path / "d.txt", "-o", tmp_path / "m.joblib",
                                 "--exclude", tmp_path / "x.txt"))
    assert "x.txt: 1 listed page(s) in none of the training files: dragnet-9999" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.txt", "x.txt"]
    # An exclusion list that cannot be read is named too.
    line = one_error_line(invoke("train", tmp_path / "d.txt", "-o", tmp_path / "m.joblib",
                                 "--exclude", tmp_path / "missing.txt"))
    assert "missing.txt: cannot read the exclusion list" in line


def test_progress_bar_redraws_one_line() -> None:
    runner = CliRunner()
    with runner.isolation() as (_, err, _):
        progress = Progress(4, enabled=True)
        for step in ("reading", "fold 1/2", "fold 2/2", "saving", "one too many"):
            progress(step)
        progress.close()
    text = err.getvalue().decode()
    assert text.count("\r\x1b[K") == 5
    assert text.endswith("] 4/4 0:00 one too many\n")  # capped at its length
    assert "[######------------------] 1/4" in text
    with runner.isolation() as (_, err, _):
        quiet = Progress(4, enabled=False)
        quiet("reading")
        quiet.close()
    assert err.getvalue() == b""


# --- eval ---------------------------------------------------------------------------------------


def test_eval_json_is_the_library_scores(cli_model: Path) -> None:
    result = invoke("eval", TRAIN, HANDWRITTEN, "--model", cli_model, "--json", "--by-kind")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    dumps = [*read_dumps(TRAIN), *read_annotated(HANDWRITTEN)]
    expected = evaluate_model(dumps, load_model(cli_model), by_kind=True)
    assert data["scores"] == scores_json(expected)["scores"]
    assert set(data["scores"]) == {d.kind for d in dumps} | {"all"}
    assert data["gold"] == [{"path": str(TRAIN), "dumps": 24},
                            {"path": str(HANDWRITTEN), "dumps": 2}]
    card = json.loads(card_path(cli_model).read_text(encoding="utf-8"))
    assert data["model"] == {"path": str(cli_model), "sha256": card["sha256"],
                             "created": card["created"]}


def test_eval_table(cli_model: Path) -> None:
    result = invoke("eval", HANDWRITTEN, "--model", cli_model)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"model: {cli_model} (sha256 ")
    assert f"gold: {HANDWRITTEN} (2 dumps)" in out.splitlines()[0]
    assert "Line labels, all (2 dumps, 13 lines)" in out
    for name in ("body", "headline", "byline", "teaser", "comment", "boilerplate",
                 "body-vs-rest", "macro-F1", "accuracy", "gold \\ predicted"):
        assert f"\n{name} " in out
    summary = next(line for line in out.splitlines() if line.startswith("all "))
    assert summary.split()[1:3] == ["2", "13"]
    assert "concat" not in out  # no --by-kind: only "all"


def test_eval_held_out_scores_only_held_out_groups(cli_model: Path) -> None:
    result = invoke("eval", TRAIN, "--model", cli_model, "--held-out", "--json")
    assert result.exit_code == 0, result.output
    held = sum(held_out(list(read_dumps(TRAIN))))
    assert json.loads(result.stdout)["scores"]["all"]["n_dumps"] == held
    assert json.loads(result.stdout)["held_out_only"] is True


def test_eval_bad_gold_file_reported_others_scored(cli_model: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("body | fine\nhead | \n", encoding="utf-8")
    result = invoke("eval", bad, HANDWRITTEN, "--model", cli_model, "--json")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error: {bad}:2: tagged line has no text "
                                          "(leave a blank line blank)"]
    assert json.loads(result.stdout)["scores"]["all"]["n_dumps"] == 2
    only_bad = invoke("eval", bad, "--model", cli_model)
    assert (only_bad.exit_code, only_bad.stdout) == (1, "")



def _floors(tmp_path: Path, **data: Any) -> Path:
    path = tmp_path / "floors.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_eval_floors_hold_or_are_named(cli_model: Path, tmp_path: Path) -> None:
    held = _floors(tmp_path, min={"all.lines.accuracy": 0.0}, max={"all.segmentation.pk": 1.0})
    result = invoke("eval", HANDWRITTEN, "--model", cli_model, "--floors", held)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [f"floors: 2 of 2 in {held} hold"]
    assert "Line labels, all" in result.stdout  # the scores are printed as without floors
    # An F1 above 1 cannot hold; a kind the gold lacks is not shown to hold either.
    missed = _floors(tmp_path, min={"all.lines.body_f1": 1.5, "all.lines.accuracy": 0.0},
                     max={"bare.segmentation.pk": 0.5})
    result = invoke("eval", HANDWRITTEN, "--model", cli_model, "--floors", missed, "--json")
    assert result.exit_code == 1
    body_f1 = json.loads(result.stdout)["scores"]["all"]["lines"]["body_f1"]
    assert result.stderr.splitlines() == [
        f"floor missed: all.lines.body_f1: {body_f1:.3f}, wanted >= 1.5",
        "floor missed: bare.segmentation.pk: no score (no dump of that kind), wanted <= 0.5",
        f"floors: 1 of 3 in {missed} hold",
    ]


def test_eval_floors_set_on_another_gold_file_are_refused(cli_model: Path, tmp_path: Path) -> None:
    floors = _floors(tmp_path, gate_sha256="0" * 64, min={"all.lines.accuracy": 0.0})
    line = one_error_line(invoke("eval", HANDWRITTEN, "--model", cli_model, "--floors", floors))
    assert line == (f"error: {floors}: its bounds were set on the gold file with SHA-256 "
                    "000000000000..., and no GOLD file is that file")
    mine = _floors(tmp_path, gate_sha256=hashlib.sha256(HANDWRITTEN.read_bytes()).hexdigest(),
                   min={"all.lines.accuracy": 0.0})
    assert invoke("eval", HANDWRITTEN, "--model", cli_model, "--floors", mine).exit_code == 0


@pytest.mark.parametrize(
    ("content", "error"),
    [
        pytest.param("{", "not JSON", id="not-json"),
        pytest.param('{"min": {"all.lines.body_f2": 0.5}}', "'all.lines.body_f2' names no score",
                     id="misspelt-score"),
    ],
)
def test_eval_bad_floors_file_is_one_error_line(
    cli_model: Path, tmp_path: Path, content: str, error: str
) -> None:
    path = tmp_path / "floors.json"
    path.write_text(content, encoding="utf-8")
    line = one_error_line(invoke("eval", HANDWRITTEN, "--model", cli_model, "--floors", path))
    assert line.startswith(f"error: {path}: ") and error in line


def test_eval_missing_floors_file_is_one_error_line(cli_model: Path, tmp_path: Path) -> None:
    path = tmp_path / "none.json"
    line = one_error_line(invoke("eval", HANDWRITTEN, "--model", cli_model, "--floors", path))
    assert line.startswith(f"error: {path}: cannot read floors (")

# --- info ---------------------------------------------------------------------------------------


def test_info_summarises_the_card(cli_model: Path) -> None:
    result = invoke("info", "--model", cli_model)
    assert result.exit_code == 0, result.output
    card = json.loads(card_path(cli_model).read_text(encoding="utf-8"))
    out = result.stdout
    assert out.startswith(f"cleaner line labeller ({cli_model})\n")
    for text in (f"built by cleaner {card['cleaner_version']} on {card['created']}, seed 7",
                 f"sha256 {card['sha256']}", "labels: body, headline, byline, teaser, comment, "
                 "boilerplate", f"scikit-learn {card['versions']['scikit-learn']}",
                 card["training_data_sha256"], card["training_data"][0]["sha256"],
                 card["training_data"][1]["sha256"], "licences: invented text: MIT",
                 f"macro-F1 {card['scores']['labeller']['macro_f1']}", "2-fold",
                 "stage 1 also reads word pairs of lines of at most 12 words"):
        assert text in out, text
    body = card["scores"]["labeller"]["per_label"]["body"]
    [row] = [line.split() for line in out.splitlines() if line.startswith("  body ")]
    assert row == ["body", *(f"{body[k]:.3f}" for k in ("precision", "recall", "f1")),
                   f"{body['support']:,}"]


def test_info_json_is_the_card(cli_model: Path) -> None:
    result = invoke("info", "--model", cli_model, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(card_path(cli_model).read_text("utf-8"))


# --- model file safety --------------------------------------------------------------------------

COMMANDS = ["split", "label", "eval", "info"]


def run_with_model(command: str, model: Path, tmp_path: Path) -> Result:
    """Run one of the model-loading commands on a small input with the given model."""
    scrape = tmp_path / "scrape.txt"
    scrape.write_text("A headline\n\nSome body text of the article.\n", encoding="utf-8")
    inputs: dict[str, list[str | Path]] = {
        "split": [scrape, "-q"], "label": [scrape], "eval": [HANDWRITTEN], "info": []}
    return invoke(command, *inputs[command], "--model", model)


def copy_model(source: Path, target: Path) -> Path:
    """A copy of a model file, its arrays and its card under another name."""
    target.write_bytes(source.read_bytes())
    arrays_path(target).write_bytes(arrays_path(source).read_bytes())
    card_path(target).write_bytes(card_path(source).read_bytes())
    return target


def edit_card(model: Path, **changes: Any) -> None:
    """Change fields of a model's card (the model file's hash stays valid)."""
    card = json.loads(card_path(model).read_text(encoding="utf-8"))
    card.update(changes)
    card_path(model).write_text(json.dumps(card), encoding="utf-8")


@pytest.mark.parametrize("command", COMMANDS)
def test_flipped_byte_refused(cli_model: Path, tmp_path: Path, command: str) -> None:
    model = copy_model(cli_model, tmp_path / "flipped.joblib")
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    line = one_error_line(run_with_model(command, model, tmp_path))
    assert line == (f"error: {model}: SHA-256 does not match its model card (corrupt or "
                    "tampered); rebuild it with `make train`")


class Payload:
    """Unpickling this opens (so creates) a file: a stand-in for code a pickle can run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("command", COMMANDS)
def test_foreign_pickle_never_unpickled(cli_model: Path, tmp_path: Path, command: str) -> None:
    marker = tmp_path / "code-ran"
    model = copy_model(cli_model, tmp_path / "foreign.joblib")
    model.write_bytes(pickle.dumps(Payload(marker)))  # the card still names the real model
    line = one_error_line(run_with_model(command, model, tmp_path))
    assert "SHA-256 does not match its model card" in line
    assert not marker.exists()
    # The payload is live: loading it without the check runs it (so the test can fail).
    import joblib

    joblib.load(model)
    assert marker.exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_other_label_set_refused(cli_model: Path, tmp_path: Path, command: str) -> None:
    model = copy_model(cli_model, tmp_path / "labels.joblib")
    edit_card(model, labels=["body", "headline", "byline", "teaser", "comment", "ads"])
    line = one_error_line(run_with_model(command, model, tmp_path))
    assert line.startswith(f"error: {model}: model has labels ")
    assert "'ads'" in line
    assert line.endswith("not ours; rebuild it with `make train`")


def older(model: Path) -> None:
    """Make a model look saved before the arrays: its card records none, and it has none."""
    card = json.loads(card_path(model).read_text(encoding="utf-8"))
    del card["arrays"]
    card_path(model).write_text(json.dumps(card), encoding="utf-8")
    arrays_path(model).unlink()


@pytest.mark.parametrize("command", ["eval", "info"])
def test_other_sklearn_version_warned(cli_model: Path, tmp_path: Path, command: str) -> None:
    # Only a model without arrays is unpickled, so only there can the version matter.
    model = copy_model(cli_model, tmp_path / "old.joblib")
    edit_card(model, versions={"scikit-learn": "1.8.0"})
    older(model)
    result = run_with_model(command, model, tmp_path)
    assert result.exit_code == 0, result.output
    import sklearn

    assert result.stderr.splitlines() == [
        f"warning: {model}: trained with scikit-learn 1.8.0, running {sklearn.__version__}"]


@pytest.mark.parametrize("command", ["split", "label"])
def test_other_sklearn_version_warned_by_split(cli_model: Path, tmp_path: Path,
                                               command: str) -> None:
    model = copy_model(cli_model, tmp_path / "old.joblib")
    edit_card(model, versions={"scikit-learn": "1.8.0"})
    older(model)
    with pytest.warns(UserWarning, match=r"trained with scikit-learn 1\.8\.0, running "):
        result = run_with_model(command, model, tmp_path)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_other_sklearn_version_is_no_matter_to_the_arrays(cli_model: Path, tmp_path: Path,
                                                          command: str) -> None:
    model = copy_model(cli_model, tmp_path / "old.joblib")
    edit_card(model, versions={"scikit-learn": "1.8.0"})
    result = run_with_model(command, model, tmp_path)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_malformed_card_fields_are_errors_not_tracebacks(cli_model: Path, tmp_path: Path,
                                                         command: str) -> None:
    model = copy_model(cli_model, tmp_path / "odd.joblib")
    edit_card(model, features=["not", "an", "object"], versions="1.9")
    line = one_error_line(run_with_model(command, model, tmp_path))
    assert line == (f"error: {model}: model was built for other features; "
                    "rebuild it with `make train`")
