"""Tests of the `cleaner` command line, through click's CliRunner."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from clirun import invoke, rows

from cleaner import __version__
from cleaner.label import card_path, default_model_path
from cleaner.read import split_lines
from cleaner.write import DROPPED_LINE_KEYS, LABEL_LINE_KEYS, RECORD_KEYS

ROOT = Path(__file__).resolve().parent.parent
# Fixture paths are given relative to the repository root, as a user would give them.
pytestmark = pytest.mark.usefixtures("in_repo")
DUMPS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "fixtures" / "dumps").glob("*.txt"))
HTML = ROOT / "fixtures" / "html" / "harbour-ferry.html"
MODEL = default_model_path()
requires_model = pytest.mark.skipif(
    not MODEL.exists(), reason=f"shipped model {MODEL} not built yet (`make train`, then commit it)"
)


def non_blank(path: str | Path) -> list[int]:
    """Line numbers of the non-blank lines of a file."""
    return [line.number for line in split_lines(Path(path).read_text(encoding="utf-8"))]


def stderr_lines(result: Result) -> list[str]:
    return result.stderr.splitlines()


# --- start-up, help and version -----------------------------------------------------------------


def test_help_lists_commands() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "split" in result.stdout
    assert "label" in result.stdout


@pytest.mark.parametrize("command", ["split", "label"])
def test_command_help_documents_output_and_errors(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert f"Usage: cleaner {command} [OPTIONS] PATH..." in text
    assert "-o, --output FILE" in text
    assert "left untouched if the model cannot be loaded or no input could be read" in text
    assert "error: PATH: ..." in text


def test_cli_import_is_light() -> None:
    # `cleaner --help` must not pay for scikit-learn, scipy, trafilatura or langdetect.
    code = (
        "import sys, cleaner.cli; "
        "print(sorted(m for m in ('sklearn', 'scipy', 'trafilatura', 'langdetect', 'joblib') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cleaner", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0
    assert out.stdout.startswith("Usage: cleaner ")


def test_version_reads_card_not_model(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("--version must not load the model")

    monkeypatch.setattr("cleaner.label.load_model", refuse)
    result = invoke("--version")
    assert result.exit_code == 0
    first, second = result.stdout.splitlines()
    assert first == f"cleaner {__version__}"
    assert second.startswith("model: ")
    if card_path(MODEL).exists():
        card = json.loads(card_path(MODEL).read_text(encoding="utf-8"))
        assert card["created"] in second
        assert card["sha256"][:12] in second
    else:
        assert "make train" in second


# --- split --------------------------------------------------------------------------------------


@requires_model
def test_split_dumps() -> None:
    result = invoke("split", *DUMPS)
    assert result.exit_code == 0, result.output
    records = rows(result.stdout)
    assert records
    assert all(tuple(record) == RECORD_KEYS for record in records)
    # Records come out in input order, numbered per source from 0.
    sources = [record["source"] for record in records]
    assert sorted(set(sources), key=sources.index) == DUMPS
    assert sources == sorted(sources)
    for path in DUMPS:
        ids = [r["id"] for r in records if r["source"] == path]
        assert ids == [f"{path}#{k}" for k in range(len(ids))]
    assert all(r["text"] or r["title"] for r in records)
    # One summary line on stderr.
    [summary] = stderr_lines(result)
    assert summary.startswith(f"cleaner: {len(DUMPS)} files, ")
    assert f"{len(records)} records" in summary
    assert summary.endswith(", 0 errors")


@requires_model
def test_split_known_seed() -> None:
    # 001_: one article, its date "Friday, 22 February, 2019 - 12:00" read from the byline.
    [record] = rows(invoke("split", "-q", DUMPS[1]).stdout)
    assert record["title"] == "Officials: ISIS Widens Reach in Iraq as it Faces Defeat in Syria"
    assert record["date"] == "2019-02-22"
    assert record["lang"] == "en"
    assert "Read More" not in record["text"]


@requires_model
def test_split_quiet() -> None:
    result = invoke("split", "--quiet", DUMPS[0])
    assert result.exit_code == 0
    assert result.stderr == ""
    assert rows(result.stdout)


@requires_model
def test_split_stdin_matches_file() -> None:
    path = DUMPS[4]
    from_file = rows(invoke("split", "-q", path).stdout)
    from_stdin = rows(invoke("split", "-q", "-", stdin=Path(path).read_bytes()).stdout)
    assert [r["source"] for r in from_stdin] == ["-"] * len(from_file)
    strip = ("id", "source")
    assert [{k: v for k, v in r.items() if k not in strip} for r in from_stdin] == [
        {k: v for k, v in r.items() if k not in strip} for r in from_file
    ]


@requires_model
def test_split_html(tmp_path: Path) -> None:
    result = invoke("split", "-q", str(HTML))
    assert result.exit_code == 0, result.output
    records = rows(result.stdout)
    assert records
    assert all(r["source"] == str(HTML) for r in records)


@requires_model
def test_split_html_keeps_the_comment_section_out_of_records(tmp_path: Path) -> None:
    # The page's comment thread (trafilatura's <comments>) reads like article paragraphs; the
    # labeller alone put its heading, a commenter's name and a comment into the record.
    dropped_file = tmp_path / "dropped.jsonl"
    result = invoke("split", "-q", "--dropped", str(dropped_file), str(HTML))
    assert result.exit_code == 0, result.output
    [record] = rows(result.stdout)
    assert record["title"] == "Harbour ferry returns after winter repairs"
    assert record["text"].endswith("a decision on the summer timetable is expected by early May.")
    dropped = rows(dropped_file.read_text(encoding="utf-8"))
    thread = ["2 Comments", "islandgran", "So glad to have the ferry back.", "Pete M.",
              "Eight crossings is not enough in May."]
    for snippet in thread:
        assert snippet not in record["text"]
        assert [row["label"] for row in dropped if row["text"].startswith(snippet)] == ["comment"]


@requires_model
def test_split_output_file_equals_stdout(tmp_path: Path) -> None:
    out = tmp_path / "records.jsonl"
    result = invoke("split", "-q", "-o", str(out), *DUMPS)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8") == invoke("split", "-q", *DUMPS).stdout
    assert [p.name for p in tmp_path.iterdir()] == ["records.jsonl"]


@requires_model
def test_split_is_deterministic() -> None:
    assert invoke("split", "-q", *DUMPS).stdout == invoke("split", "-q", *DUMPS).stdout


@requires_model
def test_dropped_accounts_for_every_line(tmp_path: Path) -> None:
    dropped_file = tmp_path / "dropped.jsonl"
    result = invoke("split", "-q", "--dropped", str(dropped_file), *DUMPS)
    assert result.exit_code == 0
    records = rows(result.stdout)
    dropped = rows(dropped_file.read_text(encoding="utf-8"))
    assert all(tuple(row) == DROPPED_LINE_KEYS for row in dropped)
    assert {row["label"] for row in dropped} <= {"teaser", "comment", "boilerplate"}
    for path in DUMPS:
        kept = [n for r in records if r["source"] == path for n in r["lines"]]
        gone = [row["line"] for row in dropped if row["source"] == path]
        # Every non-blank line exactly once: in a record or in the dropped file.
        assert sorted(kept + gone) == non_blank(path)
        texts = {line.number: line.text for line in split_lines(Path(path).read_text("utf-8"))}
        assert all(row["text"] == texts[row["line"]] for row in dropped if row["source"] == path)
    summary = invoke("split", *DUMPS).stderr
    assert f"{len(dropped)} dropped lines" in summary


def test_dropped_refuses_stdout() -> None:
    result = invoke("split", "--dropped", "-", "x.txt")
    assert result.exit_code == 2
    assert "--dropped" in result.stderr


# --- label --------------------------------------------------------------------------------------


@requires_model
def test_label_lines_agree_with_split() -> None:
    labelled = rows(invoke("label", *DUMPS).stdout)
    records = rows(invoke("split", "-q", *DUMPS).stdout)
    assert all(tuple(row) == LABEL_LINE_KEYS for row in labelled)
    for path in DUMPS:
        mine = [row for row in labelled if row["source"] == path]
        # One object per non-blank line, in order, with a label and its probability.
        assert [row["line"] for row in mine] == non_blank(path)
        assert all(0.0 <= row["p"] <= 1.0 for row in mine)
        # `article` is the index of the record holding the line, null for a dropped line.
        theirs = [r for r in records if r["source"] == path]
        for row in mine:
            holders = [k for k, r in enumerate(theirs) if row["line"] in r["lines"]]
            assert holders == ([] if row["article"] is None else [row["article"]])
            content = row["label"] in {"body", "headline", "byline"}
            assert content == (row["article"] is not None)


@requires_model
@pytest.mark.parametrize("size", ["1", "2", "64"])
def test_label_batches_keep_input_order(size: str) -> None:
    inputs = [DUMPS[3], DUMPS[0], DUMPS[3], DUMPS[2], DUMPS[1]]
    labelled = rows(invoke("label", "--batch-size", size, *inputs).stdout)
    expected = [(path, n) for path in inputs for n in non_blank(path)]
    assert [(row["source"], row["line"]) for row in labelled] == expected


# --- bad input ----------------------------------------------------------------------------------


def make_bad(tmp_path: Path, kind: str) -> str:
    """A path that cannot be read as a dump, of the given kind."""
    path = tmp_path / f"{kind}.txt"
    if kind == "binary":
        path.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    return str(path)


@requires_model
@pytest.mark.parametrize("kind", ["missing", "binary"])
def test_bad_file_is_reported_and_others_processed(tmp_path: Path, kind: str) -> None:
    bad = make_bad(tmp_path, kind)
    result = invoke("split", DUMPS[1], bad, DUMPS[3])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    records = rows(result.stdout)
    assert {r["source"] for r in records} == {DUMPS[1], DUMPS[3]}
    errors = [line for line in stderr_lines(result) if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith(f"error: {bad}: ")
    assert stderr_lines(result)[-1].endswith(", 1 error")


@requires_model
def test_label_bad_file(tmp_path: Path) -> None:
    result = invoke("label", str(tmp_path / "nope.txt"), DUMPS[3])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {tmp_path / 'nope.txt'}: no such file")
    assert {row["source"] for row in rows(result.stdout)} == {DUMPS[3]}


@requires_model
def test_every_input_bad_leaves_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    result = invoke("split", "-o", str(out), str(tmp_path / "typo*.txt"))
    assert result.exit_code == 1
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


@requires_model
def test_empty_file_gives_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.txt"
    blank.write_bytes(b"\n  \n\t\n")
    result = invoke("split", str(empty), str(blank))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert stderr_lines(result) == [
        "cleaner: 2 files, 2 documents, 0 lines, 0 records, 0 dropped lines "
        "(teaser 0, comment 0, boilerplate 0), 0 errors"
    ]
    assert invoke("label", str(empty)).stdout == ""


@requires_model
def test_empty_file_with_output_writes_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    out = tmp_path / "out.jsonl"
    assert invoke("split", "-q", "-o", str(out), str(empty)).exit_code == 0
    assert out.read_bytes() == b""


@requires_model
def test_output_into_missing_directory(tmp_path: Path) -> None:
    result = invoke("split", "-o", str(tmp_path / "no" / "out.jsonl"), DUMPS[3])
    assert result.exit_code == 1
    [line] = stderr_lines(result)
    assert line.startswith("error: cannot write output: ")


# --- bad model ----------------------------------------------------------------------------------


def assert_model_error(result: Result, *, expect: str) -> None:
    """Exit 1, one line on stderr naming the problem and how to rebuild, nothing on stdout."""
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = stderr_lines(result)
    assert line.startswith("error: ")
    assert expect in line
    assert "make train" in line
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["split", "label"])
def test_missing_model(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "none.joblib"
    result = invoke(command, "--model", str(missing), DUMPS[3])
    # Neither the file nor its card exists: the message names the path the user typed.
    assert_model_error(result, expect=f"{missing}: model file missing")


def corrupt_copy(tmp_path: Path) -> Path:
    """A copy of the shipped model and its card, with one byte of the model flipped."""
    model = tmp_path / "model" / "cleaner.joblib"
    model.parent.mkdir()
    shutil.copy(card_path(MODEL), card_path(model))
    data = bytearray(MODEL.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    return model


@requires_model
@pytest.mark.parametrize("command", ["split", "label"])
def test_corrupt_model(tmp_path: Path, command: str) -> None:
    result = invoke(command, "--model", str(corrupt_copy(tmp_path)), DUMPS[3])
    assert_model_error(result, expect="SHA-256")


@requires_model
def test_corrupt_model_leaves_no_output(tmp_path: Path) -> None:
    model = corrupt_copy(tmp_path)
    out = tmp_path / "out.jsonl"
    dropped = tmp_path / "dropped.jsonl"
    result = invoke(
        "split", "--model", str(model), "-o", str(out), "--dropped", str(dropped), DUMPS[3]
    )
    assert_model_error(result, expect="SHA-256")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
