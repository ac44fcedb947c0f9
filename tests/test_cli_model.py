"""Tests of `cleaner convert`, `train`, `eval` and `info`, through click's CliRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cleaner.annotated import read_annotated, read_dumps
from cleaner.cli import cleaner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "annotated"
HANDWRITTEN = FIXTURES / "handwritten.txt"
TRAIN = FIXTURES / "train.jsonl"


def invoke(*args: str | Path) -> Result:
    """Run `cleaner ARGS...`; exceptions other than SystemExit propagate (a traceback is a bug)."""
    return CliRunner(catch_exceptions=False).invoke(cleaner, [str(a) for a in args])


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
