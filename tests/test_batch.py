"""Tests of cleaner.batch (the run engine) and of the batch options of the CLI."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from clirun import invoke, rows

from cleaner import batch as batch_module
from cleaner.batch import (
    GC_YOUNG_OBJECTS,
    Entry,
    ErrorEntry,
    InputDone,
    Position,
    ReadOptions,
    Tally,
    Unread,
    batches,
    clean_bag,
    clean_batch,
    clean_iter,
    error_entry,
    quiet_gc,
    read_inputs,
    single_document,
    summary_line,
    tally_from_dict,
    tally_to_dict,
)
from cleaner.errors import InputError
from cleaner.label import default_model_path
from cleaner.pipeline import clean_documents
from cleaner.types import Document, Label

ROOT = Path(__file__).resolve().parent.parent
# Fixture paths are given relative to the repository root, as a user would give them.
pytestmark = pytest.mark.usefixtures("in_repo")
DUMPS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "fixtures" / "dumps").glob("*.txt"))
HTML = str((ROOT / "fixtures" / "html" / "harbour-ferry.html").relative_to(ROOT))
INPUTS = "fixtures/inputs"  # the readers' fixtures: JSON Lines, WARC, other encodings
requires_model = pytest.mark.skipif(
    not default_model_path().exists(), reason="shipped model not built yet (`make train`)"
)


def documents() -> list[Document]:
    """The seed dumps as documents."""
    return [Document(path, Path(path).read_text(encoding="utf-8")) for path in DUMPS]


def shards(folder: Path, stem: str) -> list[Path]:
    """The shard files `stem-NNNNN.jsonl` in a folder, in order."""
    return sorted(folder.glob(f"{stem}-[0-9][0-9][0-9][0-9][0-9].jsonl"))


# --- the engine ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 10], ids=["one", "two", "three", "all"])
def test_batches_count_only_documents(size: int) -> None:
    items = [1, None, 2, 3, None, None, 4, 5]
    out = list(batches(items, size=size, counts=lambda x: x is not None))
    assert [x for batch in out for x in batch] == items
    assert all(sum(x is not None for x in batch) <= size for batch in out)
    assert all(sum(x is not None for x in batch) == size for batch in out[:-1])


def test_read_inputs_stream_and_resume_point(tmp_path: Path) -> None:
    good = tmp_path / "a.txt"
    good.write_text("One line.\n", encoding="utf-8")
    missing = str(tmp_path / "missing.txt")
    stream = list(read_inputs([str(good), missing, str(good)]))
    assert [type(e).__name__ for e in stream] == [
        "Entry", "InputDone", "Entry", "InputDone", "Entry", "InputDone",
    ]  # fmt: skip
    assert isinstance(stream[2], Entry)
    assert isinstance(stream[2].value, InputError)
    assert stream[3] == InputDone(1, "", 0, 1)  # no file: the error names the path
    assert error_entry(stream[2].value) == ErrorEntry(missing, "no such file or directory")
    # From input 2 on: earlier inputs are not even looked at.
    later = list(read_inputs([str(good), missing, str(good)], start=Position(2, 0, 0)))
    assert later == stream[4:]


def test_small_single_document_files_are_left_to_the_workers(tmp_path: Path) -> None:
    page = tmp_path / "a.html"
    page.write_text("<html><body><p>One line.</p></body></html>", encoding="utf-8")
    lines = tmp_path / "b.jsonl"  # may hold many documents: read here, streamed
    lines.write_text("", encoding="utf-8")
    first, *middle, last = read_inputs([str(page), str(lines), str(page)], defer=True)
    options = ReadOptions()
    assert first == Entry(0, 0, str(page), Unread(str(page), options))
    assert last == Entry(2, 0, str(page), Unread(str(page), options))
    assert isinstance(middle[-1], InputDone)
    assert all(e.input == 1 and not isinstance(e.value if isinstance(e, Entry) else 0, Unread)
               for e in middle)  # fmt: skip
    # The input a resumed run starts in is read here, to skip what was written.
    for start in (Position(0, 1, 0), Position(0, 0, 2)):
        resumed = list(read_inputs([str(page)], defer=True, start=start))
        assert isinstance(resumed[0], Entry) == (start.item == 0)
        assert resumed[-1] == InputDone(0, str(page), 1, 0)
    assert single_document(str(page))
    assert not single_document("-")
    assert not single_document(str(tmp_path / "missing.txt"))


@requires_model
def test_clean_batch_reads_unread_files_in_order(tmp_path: Path) -> None:
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\x01")
    docs = documents()
    units: list[Document | Unread] = [docs[0], Unread(DUMPS[1], ReadOptions()),
                                      Unread(str(binary), ReadOptions()), docs[2]]  # fmt: skip
    out = clean_batch(units)
    expected = clean_documents([docs[0], docs[1], docs[2]])
    assert out[0] == expected[0]
    assert out[1] == (expected[1],)
    assert isinstance(out[2], tuple)
    [error] = out[2]
    assert isinstance(error, InputError)
    assert str(error).startswith(f"{binary}: binary")
    assert out[3] == expected[2]


def test_error_entry_splits_path_and_reason() -> None:
    assert error_entry(InputError("a.txt: no such file"), path="a.txt") == ErrorEntry(
        "a.txt", "no such file"
    )
    assert error_entry(InputError("d/x: loop"), path="") == ErrorEntry("d/x", "loop")
    assert error_entry(InputError("odd"), path="p") == ErrorEntry("p", "odd")


def test_tally_round_trips() -> None:
    tally = Tally(3, 4, 50, 6, {Label.TEASER: 2, Label.COMMENT: 1}, [ErrorEntry("x", "bad")])
    assert tally_from_dict(json.loads(json.dumps(tally_to_dict(tally)))) == tally



def test_summary_line_says_one_and_many() -> None:
    one = Tally(1, 1, 1, 1, {Label.TEASER: 1}, [ErrorEntry("x", "bad")])
    assert summary_line(one) == (
        "cleaner: 1 file, 1 document, 1 line, 1 record, 1 dropped line "
        "(teaser 1, comment 0, boilerplate 0), 1 error"
    )
    many = Tally(2, 3, 40, 0, {Label.TEASER: 2, Label.COMMENT: 1}, [])
    assert summary_line(many) == (
        "cleaner: 2 files, 3 documents, 40 lines, 0 records, 3 dropped lines "
        "(teaser 2, comment 1, boilerplate 0), 0 errors"
    )

@requires_model
def test_clean_iter_streams_in_order() -> None:
    docs = documents() * 2
    expected = clean_documents(docs)
    assert list(clean_iter(iter(docs), batch_size=3)) == expected
    # A generator in, a generator out: nothing is cleaned before it is asked for.
    seen: list[str] = []

    def source() -> Iterator[Document]:
        for doc in docs:
            seen.append(doc.source)
            yield doc

    first = next(clean_iter(source(), batch_size=2))
    assert first == expected[0]
    assert len(seen) == 2


@requires_model
def test_clean_iter_two_jobs_equal_one() -> None:
    docs = documents() * 2
    assert list(clean_iter(docs, batch_size=2, jobs=2)) == list(clean_iter(docs, batch_size=2))


@requires_model
def test_clean_bag_gives_record_dicts() -> None:
    import dask.bag as db

    from cleaner.write import record_to_dict

    docs = documents()
    bag = db.from_sequence(docs, npartitions=2)  # type: ignore[no-untyped-call]
    records = clean_bag(bag, batch_size=2).compute(scheduler="synchronous")
    assert records == [record_to_dict(r) for c in clean_documents(docs) for r in c.records]


# --- parallel runs: identical output ------------------------------------------------------------


@requires_model
def test_jobs_two_is_byte_identical() -> None:
    inputs = [*DUMPS, HTML, "missing.txt", *DUMPS]
    one = invoke("split", "--batch-size", "2", *inputs)
    two = invoke("split", "--batch-size", "2", "--jobs", "2", *inputs)
    assert one.stdout == two.stdout
    assert one.stdout
    assert one.stderr == two.stderr
    assert two.exit_code == 1  # the missing file, reported among the others


@requires_model
def test_containers_jobs_two_is_byte_identical(tmp_path: Path) -> None:
    # JSON Lines and WARC inputs hold many documents each, streamed to the workers.
    inputs = [str(p.relative_to(ROOT)) for p in sorted((ROOT / INPUTS).iterdir())]
    summary = tmp_path / "summary.json"
    one = invoke("split", "--batch-size", "2", "--summary", str(summary), *inputs)
    two = invoke("split", "--batch-size", "2", "--jobs", "2", *inputs)
    assert (one.stdout, one.stderr, one.exit_code) == (two.stdout, two.stderr, two.exit_code)
    records = rows(one.stdout)
    warc = [r for r in records if r["source"].startswith(f"{INPUTS}/crawl.warc.gz")]
    assert warc
    assert all(r["url"].startswith("https://") for r in warc)
    assert all(r["url"] is None for r in records if r not in warc)
    # A bad record of a .jsonl is an error with its reason; its good records still come.
    errors = json.loads(summary.read_text(encoding="utf-8"))["errors"]
    assert errors
    assert {e["path"] for e in errors} == {f"{INPUTS}/wire.jsonl"}
    assert all(e["reason"].startswith("line ") for e in errors)
    assert any(r["source"].startswith(f"{INPUTS}/wire.jsonl") for r in records)


@requires_model
def test_dask_backend_is_byte_identical() -> None:
    import gc

    from dask.distributed import LocalCluster

    threshold = gc.get_threshold()
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        dask = invoke(
            "split", "-q", "--batch-size", "2", "--backend", "dask",
            "--scheduler", cluster.scheduler_address, *DUMPS,
        )  # fmt: skip
    assert dask.exit_code == 0, dask.output
    assert dask.stdout == invoke("split", "-q", *DUMPS).stdout
    # The cluster's workers are threads of this process, which is not cleaner's to tune.
    assert gc.get_threshold() == threshold


def test_unreachable_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cleaner.cli.DASK_TIMEOUT", "1s")
    result = invoke("split", "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9", DUMPS[0])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")


# --- formats ------------------------------------------------------------------------------------


@requires_model
@pytest.mark.parametrize("kind", ["split", "label"])
def test_parquet_reads_back_as_the_jsonl(tmp_path: Path, kind: str) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "out.parquet"
    assert invoke(kind, "-q", "--format", "parquet", "-o", str(out), *DUMPS).exit_code == 0
    assert pq.read_table(out).to_pylist() == rows(invoke(kind, "-q", *DUMPS).stdout)


@requires_model
def test_shards_concatenate_to_the_whole(tmp_path: Path) -> None:
    whole_dropped = tmp_path / "dropped.jsonl"
    whole = invoke("split", "-q", "--dropped", str(whole_dropped), *DUMPS, *DUMPS).stdout
    result = invoke(
        "split", "-q", "--shard-size", "3", "-o", str(tmp_path / "out.jsonl"),
        "--dropped", str(tmp_path / "drop.jsonl"), *DUMPS, *DUMPS,
    )  # fmt: skip
    assert result.exit_code == 0
    parts = shards(tmp_path, "out")
    sizes = [len(p.read_text(encoding="utf-8").splitlines()) for p in parts]
    assert sizes[:-1] == [3] * (len(parts) - 1)
    assert 1 <= sizes[-1] <= 3
    assert "".join(p.read_text(encoding="utf-8") for p in parts) == whole
    dropped = "".join(p.read_text(encoding="utf-8") for p in shards(tmp_path, "drop"))
    assert dropped == whole_dropped.read_text(encoding="utf-8")


@requires_model
def test_txt_files_stay_inside_out_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Sources (and so record ids) with "..", an absolute path and duplicates.
    work = tmp_path / "work"
    work.mkdir()
    dump = ROOT / DUMPS[0]
    (tmp_path / "up.txt").write_bytes(dump.read_bytes())
    monkeypatch.chdir(work)
    out = tmp_path / "work" / "out"
    result = invoke("split", "-q", "--format", "txt", "--out-dir", "out",
                    "../up.txt", str(dump), str(dump))  # fmt: skip
    assert result.exit_code == 0, result.output
    records = rows(invoke("split", "-q", "../up.txt", str(dump), str(dump)).stdout)
    files = sorted(p for p in out.iterdir() if not p.name.startswith("."))
    assert len(files) == len(records)
    assert all(p.resolve().parent == out.resolve() for p in files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["up.txt", "work"]
    texts = sorted(p.read_text(encoding="utf-8") for p in files)
    assert texts == sorted(f"{r['title']}\n\n{r['text']}\n" if r["title"] else f"{r['text']}\n"
                           for r in records)  # fmt: skip
    assert any(p.name.endswith("~2.txt") for p in files)  # the duplicate input
    assert not (out / ".cleaner-staging").exists()


@requires_model
def test_txt_parts_keep_one_dropped_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # .txt files are moved in a few at a time; the (unsharded) dropped file holds every line.
    monkeypatch.setattr("cleaner.batch.TXT_PART_SIZE", 2)
    expected = tmp_path / "expected.jsonl"
    invoke("split", "-q", "--dropped", str(expected), *DUMPS)
    dropped = tmp_path / "dropped.jsonl"
    result = invoke("split", "-q", "--format", "txt", "--out-dir", str(tmp_path / "out"),
                    "--dropped", str(dropped), *DUMPS)  # fmt: skip
    assert result.exit_code == 0
    assert dropped.read_bytes() == expected.read_bytes() != b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dropped.jsonl", "expected.jsonl", "out"]


@requires_model
def test_out_dir_not_empty_is_refused(tmp_path: Path) -> None:
    (tmp_path / "someone-elses.txt").write_text("x", encoding="utf-8")
    result = invoke("split", "--format", "txt", "--out-dir", str(tmp_path), DUMPS[0])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line == f"error: {tmp_path}: output directory is not empty; use an empty one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["someone-elses.txt"]


@requires_model
def test_out_dir_that_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("x", encoding="utf-8")
    result = invoke("split", "--format", "txt", "--out-dir", str(file), DUMPS[0])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {file}: cannot use as output directory")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "parquet"], "--format parquet needs -o FILE"),
        (["--shard-size", "2"], "--shard-size needs -o FILE"),
        (["--format", "txt"], "--format txt writes to --out-dir DIR"),
        (["--format", "txt", "--out-dir", "d", "-o", "x"], "--format txt writes to --out-dir"),
        (["--out-dir", "d"], "--out-dir is for --format txt"),
        (["--resume", "-o", "x.jsonl"], "--resume needs output in parts"),
        (["--resume", "--shard-size", "2", "-o", "x.jsonl", "--dropped", "d.jsonl"], None),
        (["--scheduler", "tcp://x:1"], "--backend dask and --scheduler ADDRESS go together"),
        (["--backend", "dask"], "--backend dask and --scheduler ADDRESS go together"),
        (["--summary", "-"], "--summary"),
        (["--jobs", "-2"], "--jobs"),
        (["--jobs", "0"], "0 workers cannot run anything"),
    ],
    ids=["parquet-stdout", "shards-stdout", "txt-no-dir", "txt-and-o", "dir-not-txt",
         "resume-one-file", "resume-ok", "scheduler-alone", "dask-alone", "summary-stdout",
         "negative-jobs", "zero-jobs"],
)  # fmt: skip
def test_option_errors(args: list[str], message: str | None, tmp_path: Path) -> None:
    result = invoke("split", *args, str(tmp_path / "missing.txt"))
    if message is None:  # accepted; the missing input is the only error
        assert result.exit_code == 1
        assert "no such file" in result.stderr
        return
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "txt", "--out-dir", "d"], "--format txt is for split only"),
        (["--resume", "--shard-size", "2", "-o", "x.jsonl", "-"], "--resume cannot skip"),
    ],
    ids=["label-txt", "resume-stdin"],
)
def test_label_option_errors(args: list[str], message: str) -> None:
    result = invoke("label", *args, DUMPS[0])
    assert result.exit_code == 2
    assert message in result.stderr


@requires_model
def test_glob_picks_the_files_of_a_directory(tmp_path: Path) -> None:
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "a.txt").write_bytes((ROOT / DUMPS[1]).read_bytes())
    (tmp_path / "b.html").write_bytes((ROOT / HTML).read_bytes())
    records = rows(invoke("split", "-q", "--glob", "*.txt", str(tmp_path)).stdout)
    assert {r["source"] for r in records} == {str(tmp_path / "deep" / "er" / "a.txt")}
    both = rows(invoke("split", "-q", str(tmp_path)).stdout)
    assert {r["source"] for r in both} == {str(tmp_path / "b.html"),
                                           str(tmp_path / "deep" / "er" / "a.txt")}


@requires_model
def test_jsonl_fields_reach_the_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def read_documents(path: str, **kwargs: Any) -> Iterator[Document | InputError]:
        calls.append({"path": path, **kwargs})
        yield Document(f"{path}:doc-1", Path(path).read_text(encoding="utf-8"))
        yield InputError(f"{path}: line 2: no field 'body'")

    monkeypatch.setattr(batch_module, "read_documents", read_documents)
    result = invoke("split", "--text-field", "body", "--id-field", "url", DUMPS[1])
    assert [(c["path"], c["text_field"], c["id_field"]) for c in calls] == [
        (DUMPS[1], "body", "url")
    ]
    assert {r["source"] for r in rows(result.stdout)} == {f"{DUMPS[1]}:doc-1"}
    # A bad record is reported; its file still counts, the run goes on, and exits 1.
    assert result.exit_code == 1
    assert f"error: {DUMPS[1]}: line 2: no field 'body'" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("cleaner: 1 file, 1 document, ")


# --- summary and progress -----------------------------------------------------------------------


@requires_model
def test_summary_file_with_errors(tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\x01")
    result = invoke("split", "--summary", str(summary), DUMPS[0], str(binary), DUMPS[1])
    assert result.exit_code == 1
    obj = json.loads(summary.read_text(encoding="utf-8"))
    records = rows(result.stdout)
    assert obj["files"] == 2
    assert obj["documents"] == 2
    assert obj["records"] == len(records)
    assert set(obj["dropped"]) == {"teaser", "comment", "boilerplate"}
    assert [e["path"] for e in obj["errors"]] == [str(binary)]
    assert "binary" in obj["errors"][0]["reason"]
    # The summary line says the same.
    last = result.stderr.splitlines()[-1]
    assert last.startswith("cleaner: 2 files, 2 documents, ")
    assert last.endswith(", 1 error")


@requires_model
def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = invoke("split", DUMPS[0], DUMPS[1])
    assert len(plain.stderr.splitlines()) == 1  # the summary line only
    monkeypatch.setattr("cleaner.cli.stderr_is_terminal", lambda: True)
    monkeypatch.setattr("click._termui_impl.isatty", lambda _stream: True)
    shown = invoke("split", DUMPS[0], DUMPS[1])
    assert "files/s" in shown.stderr
    assert "lines/s" in shown.stderr
    assert "2/2" in shown.stderr
    assert shown.stdout == plain.stdout
    assert invoke("split", "--quiet", DUMPS[0]).stderr == ""


@requires_model
def test_bad_model_with_workers_stops_before_any_output(tmp_path: Path) -> None:
    # With --jobs 2 the workers load the model: a corrupt one still ends the run in one line.
    model = tmp_path / "model" / "cleaner.joblib"
    model.parent.mkdir()
    card = json.loads(default_model_path().with_suffix(".json").read_text(encoding="utf-8"))
    model.with_suffix(".json").write_text(json.dumps(card), encoding="utf-8")
    model.write_bytes(b"not the model the card describes")
    out = tmp_path / "out.jsonl"
    result = invoke("split", "--jobs", "2", "--model", str(model), "-o", str(out), *DUMPS)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {model}: SHA-256 does not match")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


class DiesWhenUnpickled:
    """A 'model' whose unpickling ends the worker process that receives it."""

    def __reduce__(self) -> tuple[Any, tuple[int]]:
        return (os._exit, (3,))


def test_a_dying_worker_is_one_clean_error() -> None:
    # Last in this file: loky replaces its broken pool of workers at the next parallel call.
    from cleaner.errors import CleanerError

    with pytest.raises(CleanerError, match=r"^a worker process died \(.*\); out of memory\?"):
        list(clean_iter(documents(), model=cast(Any, DiesWhenUnpickled()), jobs=2))


def test_quiet_gc_raises_only_the_young_generations_threshold() -> None:
    import gc

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 11, 12)  # Python's default young threshold, older ones marked
        quiet_gc()
        assert gc.get_threshold() == (GC_YOUNG_OBJECTS, 11, 12)
        assert GC_YOUNG_OBJECTS >= 10_000  # the point: far fewer young collections per batch
    finally:
        gc.set_threshold(*before)
