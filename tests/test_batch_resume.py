"""Tests of cleaner.batch's crash safety: what a killed run leaves, and how --resume goes on."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from clirun import invoke, rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner.batch import CleanSettings, Job, OutputSpec, run
from cleaner.label import default_model_path
from cleaner.pipeline import Cleaned, clean_documents
from cleaner.read import split_lines
from cleaner.types import Document, Label, Record
from cleaner.write import JsonlWriter, TxtWriter

ROOT = Path(__file__).resolve().parent.parent
# Fixture paths are given relative to the repository root, as a user would give them.
pytestmark = pytest.mark.usefixtures("in_repo")
DUMPS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "fixtures" / "dumps").glob("*.txt"))
requires_model = pytest.mark.skipif(
    not default_model_path().exists(), reason="shipped model not built yet (`make train`)"
)


def shards(folder: Path, stem: str) -> list[Path]:
    """The shard files `stem-NNNNN.jsonl` in a folder, in order."""
    return sorted(folder.glob(f"{stem}-[0-9][0-9][0-9][0-9][0-9].jsonl"))


# --- crash and resume ---------------------------------------------------------------------------


class CrashError(Exception):
    """Stands for the process dying in the middle of a run."""


@requires_model
def test_resume_after_a_crash_gives_the_same_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = [*DUMPS, *DUMPS]
    args = ["split", "-q", "--shard-size", "2", "--batch-size", "2"]
    whole = tmp_path / "whole"
    whole.mkdir()
    assert invoke(*args, "-o", str(whole / "out.jsonl"), *inputs).exit_code == 0

    crashed = tmp_path / "crashed"
    crashed.mkdir()
    commit = JsonlWriter.commit

    def crash_on_third_shard(self: JsonlWriter) -> None:
        if self.file is not None and self.file.target.name == "out-00002.jsonl":
            raise CrashError
        commit(self)

    monkeypatch.setattr(JsonlWriter, "commit", crash_on_third_shard)
    with pytest.raises(CrashError):
        invoke(*args, "-o", str(crashed / "out.jsonl"), *inputs)
    monkeypatch.setattr(JsonlWriter, "commit", commit)
    # Two complete shards and the manifest; nothing partial, not even a temporary file.
    assert sorted(p.name for p in crashed.iterdir()) == [
        "out-00000.jsonl", "out-00001.jsonl", "out-manifest.json",
    ]  # fmt: skip
    manifest = json.loads((crashed / "out-manifest.json").read_text(encoding="utf-8"))
    assert manifest["parts"] == 2
    assert not manifest["complete"]

    cleaned: list[str] = []
    real = clean_documents

    def counting(docs: list[Document], **kwargs: Any) -> Any:
        cleaned.extend(doc.source for doc in docs)
        return real(docs, **kwargs)

    monkeypatch.setattr("cleaner.pipeline.clean_documents", counting)
    resumed = invoke(*args, "-o", str(crashed / "out.jsonl"), "--resume", *inputs)
    assert resumed.exit_code == 0
    # The inputs of the complete shards were skipped, not cleaned again.
    assert 0 < len(cleaned) < len(inputs)
    for mine, theirs in zip(shards(crashed, "out"), shards(whole, "out"), strict=True):
        assert mine.read_bytes() == theirs.read_bytes()
    final = json.loads((crashed / "out-manifest.json").read_text(encoding="utf-8"))
    assert final["complete"]
    assert final["tally"] == json.loads(
        (whole / "out-manifest.json").read_text(encoding="utf-8")
    )["tally"]
    # Resuming a complete run cleans nothing and changes nothing.
    cleaned.clear()
    again = invoke(*args, "-o", str(crashed / "out.jsonl"), "--resume", *inputs)
    assert again.exit_code == 0
    assert cleaned == []


@requires_model
def test_resume_inside_a_container(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Shards of one record: the run dies inside wire.jsonl and crawl.warc.gz, whose earlier
    # documents the resumed run reads again but skips.
    inputs = ["fixtures/inputs/wire.jsonl", "fixtures/inputs/crawl.warc.gz"]
    args = ["split", "-q", "--shard-size", "1", "--batch-size", "1"]
    whole, crashed = tmp_path / "whole", tmp_path / "crashed"
    whole.mkdir()
    crashed.mkdir()
    assert invoke(*args, "-o", str(whole / "out.jsonl"), *inputs).exit_code == 1
    commit = JsonlWriter.commit
    for dies_at in (2, 4):

        def crash(self: JsonlWriter, _at: int = dies_at) -> None:
            if self.file is not None and self.file.target.name == f"out-{_at:05d}.jsonl":
                raise CrashError
            commit(self)

        monkeypatch.setattr(JsonlWriter, "commit", crash)
        with pytest.raises(CrashError):
            invoke(*args, "-o", str(crashed / "out.jsonl"), "--resume", *inputs)
        monkeypatch.setattr(JsonlWriter, "commit", commit)
    assert len(shards(crashed, "out")) == 4
    assert invoke(*args, "-o", str(crashed / "out.jsonl"), "--resume", *inputs).exit_code == 1
    assert [p.read_bytes() for p in shards(crashed, "out")] == [
        p.read_bytes() for p in shards(whole, "out")
    ]
    assert len(shards(whole, "out")) > 4


@requires_model
def test_resume_txt_after_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = [*DUMPS, *DUMPS]
    args = ["split", "-q", "--format", "txt", "--shard-size", "3", "--batch-size", "2"]
    whole, crashed = tmp_path / "whole", tmp_path / "crashed"
    assert invoke(*args, "--out-dir", str(whole), *inputs).exit_code == 0

    commit = TxtWriter.commit

    def crash_mid_move(self: TxtWriter) -> None:
        if self.part == 2:
            # Die after moving one file of the part in: the rollback must take it out again.
            self.names = self.names[:1]
            commit(self)
            raise CrashError
        commit(self)

    monkeypatch.setattr(TxtWriter, "commit", crash_mid_move)
    with pytest.raises(CrashError):
        invoke(*args, "--out-dir", str(crashed), *inputs)
    monkeypatch.setattr(TxtWriter, "commit", commit)
    # Without --resume the directory is refused; with it the run completes.
    assert invoke(*args, "--out-dir", str(crashed), *inputs).exit_code == 1
    assert invoke(*args, "--out-dir", str(crashed), "--resume", *inputs).exit_code == 0

    def contents(folder: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")}

    assert contents(crashed) == contents(whole)
    assert len(contents(whole)) == len(rows(invoke("split", "-q", *inputs).stdout))


@requires_model
def test_resume_refuses_another_job(tmp_path: Path) -> None:
    out = str(tmp_path / "out.jsonl")
    assert invoke("split", "-q", "--shard-size", "2", "-o", out, *DUMPS).exit_code == 0
    result = invoke("split", "-q", "--shard-size", "2", "-o", out, "--resume", *DUMPS[:2])
    assert result.exit_code == 1
    assert "cannot resume, that run had other inputs or options" in result.stderr


@requires_model
def test_killed_process_leaves_only_complete_shards(tmp_path: Path) -> None:
    inputs = DUMPS * 8
    args = ["split", "-q", "--shard-size", "1", "--batch-size", "1"]
    out = tmp_path / "out.jsonl"
    manifest = tmp_path / "out-manifest.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cleaner", *args, "-o", str(out), *inputs],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if manifest.exists() and json.loads(manifest.read_text("utf-8"))["parts"] >= 3:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    # Every shard with a final name parses whole; only hidden temporary files may be partial.
    for part in shards(tmp_path, "out"):
        assert all(json.loads(line) for line in part.read_text("utf-8").splitlines())
    assert all(p.name.startswith(".") or p.name.startswith("out-") for p in tmp_path.iterdir())
    (tmp_path / ".out-00999.jsonl.x1y2.tmp").write_text("{\"partial", encoding="utf-8")
    (tmp_path / ".keep.tmp").write_text("not ours", encoding="utf-8")
    resumed = invoke(*args, "-o", str(out), "--resume", *inputs)
    assert resumed.exit_code == 0
    # --resume cleared what the killed run left behind, and only that.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [".keep.tmp"]
    whole = invoke("split", "-q", *inputs).stdout
    assert "".join(p.read_text("utf-8") for p in shards(tmp_path, "out")) == whole


# --- the resume invariant, on a stand-in cleaner (no model: fast enough for Hypothesis) ----------


def fake_clean(documents: Sequence[Document], **_kwargs: Any) -> list[Cleaned]:
    """Every line starting with "r" is a record of its own; the others are dropped as teasers."""
    out = []
    for doc in documents:
        lines = tuple(replace(line, label=Label.BODY if line.text.startswith("r") else Label.TEASER,
                              p=0.5) for line in split_lines(doc.text))  # fmt: skip
        records: list[Record] = []
        articles: list[int | None] = []
        for line in lines:
            if line.label is Label.BODY:
                articles.append(len(records))
                records.append(Record(f"{doc.source}#{len(records)}", doc.source, None, None, None,
                                      None, line.text, (line.number,)))  # fmt: skip
            else:
                articles.append(None)
        out.append(Cleaned(doc.source, lines, tuple(articles), tuple(records)))
    return out


class StopError(Exception):
    """The run dying."""


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    files=st.lists(st.lists(st.sampled_from(["r1", "r2", "x", ""]), max_size=6), min_size=1,
                   max_size=6),
    shard_size=st.integers(1, 4),
    batch_size=st.integers(1, 3),
    crash_at=st.integers(0, 6),
)  # fmt: skip
def test_resume_from_any_shard_gives_the_same_bytes(
    files: list[list[str]], shard_size: int, batch_size: int, crash_at: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("cleaner.batch._clean_documents", fake_clean)
    monkeypatch.setattr("cleaner.batch.resolve_model", lambda _model: None)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        inputs = []
        for k, lines in enumerate(files):
            path = work / f"in{k}.txt"
            path.write_text("\n".join(lines), encoding="utf-8")
            inputs.append(str(path))
        spec = OutputSpec("split", "jsonl", str(work / "a" / "out.jsonl"),
                          str(work / "a" / "drop.jsonl"), shard_size)  # fmt: skip
        (work / "a").mkdir()
        (work / "b").mkdir()
        job = Job(tuple(inputs), clean=CleanSettings(batch_size=batch_size), output=spec)
        whole = run(job)
        crash_spec = replace(spec, output=str(work / "b" / "out.jsonl"),
                             dropped=str(work / "b" / "drop.jsonl"))  # fmt: skip
        crash_job = replace(job, output=crash_spec)
        commit = JsonlWriter.commit

        def dies(self: JsonlWriter) -> None:
            if self.file is not None and self.file.target.name == f"out-{crash_at:05d}.jsonl":
                raise StopError
            commit(self)

        with monkeypatch.context() as patch:
            patch.setattr(JsonlWriter, "commit", dies)
            with contextlib.suppress(StopError):
                run(crash_job)
        resumed = run(replace(crash_job, resume=True))
        assert resumed == whole

        def contents(folder: Path) -> dict[str, bytes]:
            return {p.name: p.read_bytes() for p in folder.iterdir() if "manifest" not in p.name}

        assert contents(work / "b") == contents(work / "a")
