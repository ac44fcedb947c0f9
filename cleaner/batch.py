"""Batch runs: inputs -> cleaned documents -> outputs, streaming, in input order, on many cores.

The stream of documents is cut into batches of `batch_size` documents; each batch is one task
(one model call per stage), so process overhead is paid once per batch. With `jobs` > 1 the
tasks run in joblib workers (loky processes, or a Dask cluster under
`joblib.parallel_config(backend="dask")`) and come back in input order, so the output is
byte-identical to `jobs=1`. Tasks carry the model's path, not the model: each worker loads it
once and keeps it (`cached_model`). At most a few batches are in flight, so memory is bounded
by the batches, not by the input.

`run` drives a whole command-line job: it writes rows through the writers of cleaner.write,
in parts (shards) that are committed one by one, and records after each committed part a small
manifest (where the next part starts in the input stream, and the tally so far) so that a killed
run can be resumed and give exactly the output of an uninterrupted one.
"""

from __future__ import annotations

import gc
import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Literal, TypeAlias, TypeVar

from cleaner.errors import CleanerError, InputError
from cleaner.sources import expand_inputs, read_documents
from cleaner.types import CONTENT_LABELS, LABELS, Document, Label, Line

if TYPE_CHECKING:
    from cleaner.label import Model
    from cleaner.pipeline import Cleaned
    from cleaner.write import Format, Kind, RowWriter

# Documents labelled per model call and sent to a worker as one task: one call over many
# documents is much faster than one each, and memory stays bounded by a few batches.
BATCH_SIZE = 64
# Tasks handed to the workers ahead of the results being read back, per worker.
TASKS_AHEAD = 2
# With --format txt, files are moved into the directory (and the run can resume) per this many.
TXT_PART_SIZE = 1000
MANIFEST_VERSION = 1
TXT_MANIFEST = ".cleaner-manifest.json"
# Files of these kinds hold one document; up to MAX_UNREAD_BYTES they are read by the worker
# that cleans them (a task then holds at most batch_size such files).
SINGLE_DOCUMENT_SUFFIXES = frozenset({".txt", ".html", ".htm", ".xhtml"})
MAX_UNREAD_BYTES = 4 * 1024 * 1024
DROPPED_LABELS: tuple[Label, ...] = tuple(label for label in LABELS if label not in CONTENT_LABELS)
STDIO = "-"

# A model, the path of a model file, or None for the shipped model.
ModelRef: TypeAlias = "Model | str | Path | None"
# What cleaning gives for a document, and for a unit of work (a document, or a file read by the
# worker: the outcome of each of its documents).
Outcome: TypeAlias = "Cleaned | InputError"
UnitResult: TypeAlias = "Outcome | tuple[Outcome, ...]"
T = TypeVar("T")


# --- the model, once per process -----------------------------------------------------------------


@lru_cache(maxsize=4)
def cached_model(path: str | None = None) -> Model:
    """The model at `path` (None: the shipped one), loaded and verified once per process."""
    from cleaner.label import load_model
    from cleaner.pipeline import shipped_model

    return shipped_model() if path is None else load_model(path)


def resolve_model(model: ModelRef) -> Model:
    """A loaded model for a ModelRef: a Model as it is, a path or None through `cached_model`."""
    from cleaner.label import Model

    if isinstance(model, Model):
        return model
    return cached_model(None if model is None else str(model))


# --- cleaning batches, in order, on one or many workers -----------------------------------------


@dataclass(frozen=True, slots=True)
class CleanSettings:
    """How documents are cleaned: model, batch size, parallel jobs (-1: all), language detection."""

    model: ModelRef = None
    batch_size: int = BATCH_SIZE
    jobs: int = 1
    detect_language: bool = True


def clean_batch(
    units: Sequence[Document | Unread], *, model: ModelRef = None, detect_language: bool = True
) -> list[UnitResult]:
    """Clean one batch (a worker's task): per unit, its outcome; an Unread file's, read here.

    A document that fails becomes its InputError; so does a file that cannot be read.
    """
    loaded = resolve_model(model)  # a bad model is fatal, not a per-document error
    items = [[unit] if isinstance(unit, Document) else list(unit.read()) for unit in units]
    documents = [doc for found in items for doc in found if isinstance(doc, Document)]
    cleaned = iter(_clean_documents(documents, model=loaded, detect_language=detect_language))
    out: list[UnitResult] = []
    for unit, found in zip(units, items, strict=True):
        outcomes = tuple(next(cleaned) if isinstance(d, Document) else d for d in found)
        out.append(outcomes[0] if isinstance(unit, Document) else outcomes)
    return out


def _clean_documents(
    documents: Sequence[Document], *, model: Model, detect_language: bool = True
) -> list[Outcome]:
    """Clean documents in one call; if that fails, one by one, a failing one as its InputError."""
    from cleaner.pipeline import clean_documents

    try:
        return list(clean_documents(documents, model=model, detect_language=detect_language))
    except CleanerError:
        if len(documents) == 1:
            raise
    # One bad document must not take its batch down: clean them one by one to find it.
    out: list[Outcome] = []
    for doc in documents:
        try:
            out.extend(clean_documents([doc], model=model, detect_language=detect_language))
        except CleanerError as err:
            out.append(InputError(f"{doc.source}: {err}"))
    return out


def batches(items: Iterable[T], *, size: int, counts: Callable[[T], bool]) -> Iterator[list[T]]:
    """Consecutive lists of items, each closed when it holds `size` items that `counts`."""
    batch: list[T] = []
    counted = 0
    for item in items:
        batch.append(item)
        counted += counts(item)
        if counted == size:
            yield batch
            batch, counted = [], 0
    if batch:
        yield batch


# Young objects are collected every GC_YOUNG_OBJECTS allocations instead of Python's 700: a batch
# allocates a few objects per line (lines, records, lists), none in reference cycles, and the
# default threshold collects them dozens of times per batch for nothing (3% of a `cleaner split`
# run, timed side by side). Only in processes that cleaner owns (the command line and its
# workers): a library caller's process is theirs to tune.
GC_YOUNG_OBJECTS = 50_000


def quiet_gc() -> None:
    """Collect young objects every GC_YOUNG_OBJECTS allocations, the older generations as before."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_OBJECTS, older, oldest)


def _clean_batch_in_worker(
    units: Sequence[Document | Unread], *, model: ModelRef, detect_language: bool,
    own_process: bool,
) -> list[UnitResult]:
    """clean_batch in a worker; in a process cleaner started, its collector quietened first."""
    if own_process:
        quiet_gc()
    return clean_batch(units, model=model, detect_language=detect_language)


def _workers_are_ours() -> bool:
    """Whether joblib's workers are processes it starts for us (loky), not a Dask cluster's,
    whose workers (threads of the caller's own process, with processes=False) are not ours."""
    from joblib.parallel import get_active_backend

    return type(get_active_backend()[0]).__name__ == "LokyBackend"


def _map_batches(
    tasks: Iterable[list[Document | Unread]], *, settings: CleanSettings
) -> Iterator[list[UnitResult]]:
    """Clean each task's documents, results in task order, in this process or in workers."""
    if settings.jobs == 1:
        for documents in tasks:
            yield clean_batch(
                documents, model=settings.model, detect_language=settings.detect_language
            )
        return
    from joblib import Parallel, delayed

    model = _portable_model(settings.model)
    # Results are not held back until read: joblib hands out a new task whenever one completes.
    # Our consumer (writing rows) is much faster than cleaning, so few results ever wait.
    # Our tasks are already batches: joblib must not group them further (batch_size=1).
    parallel = Parallel(
        n_jobs=settings.jobs,
        return_as="generator",
        batch_size=1,
        pre_dispatch=f"{TASKS_AHEAD}*n_jobs",
    )
    task = delayed(_clean_batch_in_worker)
    own = _workers_are_ours()
    try:
        yield from parallel(
            task(docs, model=model, detect_language=settings.detect_language, own_process=own)
            for docs in tasks
        )
    except Exception as err:
        # loky's TerminatedWorkerError (a worker killed, most often for memory), by name: its
        # module is not loaded for --jobs 1.
        if type(err).__name__ != "TerminatedWorkerError":
            raise
        detail = str(err).strip().splitlines()[-1]
        raise CleanerError(
            f"a worker process died ({detail}); out of memory? try a smaller --batch-size "
            "or fewer --jobs"
        ) from None


def _portable_model(model: ModelRef) -> ModelRef:
    """What a task carries for a model: its path (loaded once per worker), else the model."""
    if isinstance(model, Path):
        return str(model)
    # A Model object has no path: it is pickled with each task (pass a path to avoid that).
    return model


def clean_tagged(
    tagged: Iterable[tuple[T, Document | Unread | None]], *, settings: CleanSettings
) -> Iterator[tuple[T, UnitResult | None]]:
    """Clean the units of (tag, unit) pairs, in order; a None unit passes through.

    Only units travel to the workers; tags stay here and are paired back with the results.
    """
    pending: deque[list[tuple[T, Document | Unread | None]]] = deque()

    def tasks() -> Iterator[list[Document | Unread]]:
        for batch in batches(tagged, size=settings.batch_size, counts=lambda p: p[1] is not None):
            pending.append(batch)  # before the task is handed out: its results come after
            yield [doc for _, doc in batch if doc is not None]

    for results in _map_batches(tasks(), settings=settings):
        batch = pending.popleft()
        cleaned = iter(results)
        for tag, doc in batch:
            yield tag, (next(cleaned) if doc is not None else None)


def clean_iter(
    documents: Iterable[Document],
    *,
    model: ModelRef = None,
    batch_size: int = BATCH_SIZE,
    jobs: int = 1,
    detect_language: bool = True,
) -> Iterator[Cleaned]:
    """Clean a stream of documents in batches, on `jobs` workers; results in input order.

    `model` is a Model, a model file's path (loaded once per worker) or None (the shipped model).
    Streaming: only a few batches are held at a time. A document that cannot be cleaned raises
    its InputError.
    """
    settings = CleanSettings(model, batch_size, jobs, detect_language)
    for _, result in clean_tagged(((None, doc) for doc in documents), settings=settings):
        if isinstance(result, InputError):
            raise result
        if result is not None and not isinstance(result, tuple):
            yield result


def clean_partition(
    documents: Iterable[Document],
    *,
    model: ModelRef = None,
    batch_size: int = BATCH_SIZE,
    detect_language: bool = True,
) -> list[dict[str, Any]]:
    """The record dicts of one partition of documents (the function `clean_bag` maps)."""
    from cleaner.write import record_to_dict

    cleaned = clean_iter(
        documents, model=model, batch_size=batch_size, detect_language=detect_language
    )
    return [record_to_dict(record) for result in cleaned for record in result.records]


def clean_bag(
    bag: Any, *, model: ModelRef = None, batch_size: int = BATCH_SIZE, detect_language: bool = True
) -> Any:
    """A dask.bag of Documents cleaned into a bag of record dicts (one task per partition).

    Needs the `dask` extra (`pip install cleaner[dask]`). Give `model` as a path (or None) so
    that each worker loads it once instead of receiving it with every partition.
    """
    return bag.map_partitions(
        clean_partition,
        model=_portable_model(model),
        batch_size=batch_size,
        detect_language=detect_language,
    )


# --- reading the inputs as one stream -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How inputs are found and read: the directory glob, JSON Lines' text and id fields."""

    glob: str = "*"
    text_field: str = "text"
    id_field: str = "id"


@dataclass(frozen=True, slots=True)
class Position:
    """A point in a run's input stream: input `input`, its item `item`, less `skip` rows."""

    input: int = 0
    item: int = 0
    skip: int = 0  # rows of that item already written before the point


@dataclass(frozen=True, slots=True)
class Unread:
    """A small single-document file, to be read where it is cleaned (in a worker).

    HTML extraction is the costly part of reading: done by the workers, it runs on every core
    instead of in the one process that feeds them all.
    """

    path: str
    options: ReadOptions

    def read(self) -> Iterator[Document | InputError]:
        """The file's documents and errors."""
        return documents_of(self.path, options=self.options)


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of the input stream: a document, the error of a file or record, or an Unread."""

    input: int  # index of the input (an expanded path) it came from
    item: int  # its index among that input's items
    path: str
    value: Document | InputError | Unread


@dataclass(frozen=True, slots=True)
class InputDone:
    """The end of one input, with how many documents and errors it held."""

    input: int
    path: str
    documents: int
    errors: int


def expand(paths: Sequence[str], *, glob: str = "*") -> Iterator[str | InputError]:
    """The input files of the command-line paths (directories walked), errors as items."""
    return expand_inputs(paths, glob=glob)


def documents_of(
    path: str, *, options: ReadOptions, stdin: BinaryIO | None = None
) -> Iterator[Document | InputError]:
    """The documents of one input (several for JSON Lines or WARC), errors as items."""
    return read_documents(
        path, stdin=stdin, text_field=options.text_field, id_field=options.id_field
    )


def read_inputs(
    paths: Sequence[str],
    *,
    options: ReadOptions = ReadOptions(),
    stdin: BinaryIO | None = None,
    start: Position = Position(),
    defer: bool = False,
) -> Iterator[Entry | InputDone]:
    """Every document and error of the inputs in order, each input closed by an InputDone.

    From `start` on: earlier inputs are not even opened, earlier items of the start input are
    read (to be counted) but not yielded. With `defer`, a small single-document file comes as
    one Entry holding an Unread, and no InputDone: whoever reads it counts it.
    """
    for index, path in enumerate(expand(paths, glob=options.glob)):
        if index < start.input:
            continue
        if isinstance(path, InputError):
            yield Entry(index, 0, "", path)
            yield InputDone(index, "", 0, 1)
            continue
        resumed_here = index == start.input and (start.item > 0 or start.skip > 0)
        if defer and not resumed_here and single_document(path):
            yield Entry(index, 0, path, Unread(path, options))
            continue
        documents = errors = 0
        for item, value in enumerate(documents_of(path, options=options, stdin=stdin)):
            if isinstance(value, InputError):
                errors += 1
            else:
                documents += 1
            if index > start.input or item >= start.item:
                yield Entry(index, item, path, value)
        yield InputDone(index, path, documents, errors)


def single_document(path: str) -> bool:
    """Whether a file holds one document and is small: plain text or HTML, up to a few MiB."""
    if path == STDIO or Path(path).suffix.lower() not in SINGLE_DOCUMENT_SUFFIXES:
        return False
    try:
        return Path(path).stat().st_size <= MAX_UNREAD_BYTES
    except OSError:
        return False  # read here, where the error is reported as for any input


# --- the tally of a run -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorEntry:
    """An input (file or record) that could not be cleaned, and why."""

    path: str
    reason: str


def error_entry(err: InputError, *, path: str = "") -> ErrorEntry:
    """An InputError as path and reason (its message, less a leading "PATH: ")."""
    message = str(err)
    if path and message.startswith(f"{path}: "):
        return ErrorEntry(path, message.removeprefix(f"{path}: "))
    if not path and ": " in message:
        head, _, reason = message.partition(": ")
        return ErrorEntry(head, reason)
    return ErrorEntry(path, message)


@dataclass
class Tally:
    """What a run has done so far, for the summary (mutable: it is counted up as the run goes)."""

    files: int = 0
    documents: int = 0
    lines: int = 0
    records: int = 0
    dropped: dict[Label, int] = field(default_factory=dict)
    errors: list[ErrorEntry] = field(default_factory=list)

    def add(self, cleaned: Cleaned, *, dropped: Sequence[Line] | None = None) -> None:
        """Count one more cleaned document (`dropped`: its dropped lines, if already at hand)."""
        for line in cleaned.dropped if dropped is None else dropped:
            if line.label is not None:
                self.dropped[line.label] = self.dropped.get(line.label, 0) + 1
        self.documents += 1
        self.lines += len(cleaned.lines)
        self.records += len(cleaned.records)

    def fail(self, error: ErrorEntry) -> None:
        """Count one more input or record that could not be cleaned."""
        self.errors.append(error)

    def input_done(self, done: InputDone) -> None:
        """Count one more file, unless nothing of it could be read."""
        self.files += done.documents > 0 or done.errors == 0


def _plural(count: int, noun: str) -> str:
    """A count and its noun, plural unless the count is one ("1 file", "2 files")."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def summary_line(tally: Tally) -> str:
    """The one-line summary of a run (for people: scripts read --summary's JSON instead)."""
    dropped = ", ".join(f"{label} {tally.dropped.get(label, 0)}" for label in DROPPED_LABELS)
    total = sum(tally.dropped.values())
    return (
        f"cleaner: {_plural(tally.files, 'file')}, {_plural(tally.documents, 'document')}, "
        f"{_plural(tally.lines, 'line')}, {_plural(tally.records, 'record')}, "
        f"{_plural(total, 'dropped line')} ({dropped}), {_plural(len(tally.errors), 'error')}"
    )


def tally_to_dict(tally: Tally) -> dict[str, Any]:
    """The tally as the JSON summary object (also kept in the resume manifest)."""
    return {
        "files": tally.files,
        "documents": tally.documents,
        "lines": tally.lines,
        "records": tally.records,
        "dropped": {str(label): tally.dropped.get(label, 0) for label in DROPPED_LABELS},
        "errors": [{"path": e.path, "reason": e.reason} for e in tally.errors],
    }


def tally_from_dict(obj: dict[str, Any]) -> Tally:
    """The tally of a summary object, as `tally_to_dict` wrote it."""
    dropped = {Label(k): int(v) for k, v in obj["dropped"].items() if int(v)}
    errors = [ErrorEntry(str(e["path"]), str(e["reason"])) for e in obj["errors"]]
    return Tally(
        int(obj["files"]), int(obj["documents"]), int(obj["lines"]), int(obj["records"]),
        dropped, errors,
    )  # fmt: skip


# --- outputs in parts, and the manifest that makes a run resumable ------------------------------


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """Where a run's rows go: what (kind), how (format), where, and in parts of what size."""

    kind: Literal["split", "label"] = "split"
    format: Format = "jsonl"
    output: str = STDIO  # a file or "-"; for txt, the directory
    dropped: str | None = None
    shard_size: int | None = None  # rows per part; None: one part (the whole output)

    @property
    def part_size(self) -> int | None:
        """Rows per part: the shard size; for txt, files are committed TXT_PART_SIZE at a time."""
        if self.shard_size is None and self.format == "txt":
            return TXT_PART_SIZE
        return self.shard_size

    @property
    def resumable(self) -> bool:
        """Whether completed parts survive a crash: sharded output or a txt directory."""
        return self.part_size is not None and self.output != STDIO

    def target(self, part: int) -> str:
        """Where part `part` of the output goes."""
        from cleaner.write import shard_path

        if self.shard_size is None or self.format == "txt":
            return self.output
        return shard_path(self.output, part)

    def dropped_target(self, part: int) -> str | None:
        """Where part `part` of the dropped lines goes (sharded along with the output)."""
        from cleaner.write import shard_path

        if self.dropped is None or self.shard_size is None:
            return self.dropped
        return shard_path(self.dropped, part)

    def manifest_path(self) -> Path:
        """The resume manifest: in the txt directory, else beside the shards."""
        if self.format == "txt":
            return Path(self.output) / TXT_MANIFEST
        out = Path(self.output)
        return out.with_name(f"{out.stem}-manifest.json")


class _Parts:
    """The open part of the output (and of the dropped lines); private mutable run state.

    A part is opened when its first row comes and committed when the next part is needed or the
    run ends, so a part of N rows is closed only once row N+1 exists.
    """

    def __init__(self, spec: OutputSpec, *, stdout: IO[bytes] | None, first: int = 0) -> None:
        self.spec = spec
        self.stdout = stdout
        self.index = first  # the part being written
        self.rows = 0  # rows in the open part
        self.out: RowWriter | None = None
        self.drop: RowWriter | None = None

    def full(self) -> bool:
        """Whether the open part has all its rows (the next row starts a new part)."""
        size = self.spec.part_size
        return size is not None and self.rows >= size

    def write(self, row: dict[str, Any]) -> None:
        """Write an output row into the open part."""
        from cleaner.write import open_writer

        if self.out is None:
            kind: Kind = self.spec.kind
            self.out = open_writer(
                self.spec.format, kind=kind, target=self.spec.target(self.index),
                stdout=self.stdout, part=self.index,
            )  # fmt: skip
        self.out.write(row)
        self.rows += 1

    def write_dropped(self, row: dict[str, Any]) -> None:
        """Write a dropped line into the open part's dropped file."""
        from cleaner.write import open_writer

        target = self.spec.dropped_target(self.index)
        if target is None:
            return
        if self.drop is None:
            self.drop = open_writer("jsonl", kind="dropped", target=target)
        self.drop.write(row)

    def commit(self, *, final: bool = False) -> None:
        """Commit the open part; at the end also an empty unsharded output (as `-o` always did)."""
        from cleaner.write import open_writer

        unsharded = self.spec.shard_size is None
        if final and unsharded and self.out is None and self.spec.format != "txt":
            self.out = open_writer(self.spec.format, kind=self.spec.kind,
                                   target=self.spec.target(0), stdout=self.stdout)  # fmt: skip
        if final and unsharded and self.drop is None and self.spec.dropped is not None:
            self.drop = open_writer("jsonl", kind="dropped", target=self.spec.dropped)
        # Dropped lines first: a committed output part then always has its dropped part. An
        # unsharded dropped file (beside --format txt's parts) stays open until the end.
        if self.drop is not None and (final or not unsharded):
            self.drop.commit()
            self.drop = None
        if self.out is not None:
            self.out.commit()
            self.out = None
        self.index += 1
        self.rows = 0

    def discard(self) -> None:
        """Remove what the open part holds."""
        for writer in (self.out, self.drop):
            if writer is not None:
                writer.discard()
        self.out = self.drop = None


@dataclass(frozen=True, slots=True)
class Manifest:
    """A resumable run's progress: parts done, where the next one starts, the tally before it."""

    job: dict[str, Any]
    parts: int
    next: Position
    tally: Tally
    complete: bool = False


def job_key(
    paths: Sequence[str], *, read: ReadOptions, spec: OutputSpec, model: str
) -> dict[str, Any]:
    """What must be equal for a run to resume another: inputs, options and model."""
    return {
        "paths": list(paths),
        "glob": read.glob,
        "text_field": read.text_field,
        "id_field": read.id_field,
        "kind": spec.kind,
        "format": spec.format,
        "shard_size": spec.shard_size,
        "dropped": spec.dropped,
        "model": model,
    }


def save_manifest(path: Path, manifest: Manifest) -> None:
    """Write the manifest atomically (a crash leaves the previous one)."""
    from cleaner.write import atomic_output

    obj = {
        "version": MANIFEST_VERSION,
        "job": manifest.job,
        "parts": manifest.parts,
        "next": {"input": manifest.next.input, "item": manifest.next.item,
                 "skip": manifest.next.skip},
        "tally": tally_to_dict(manifest.tally),
        "complete": manifest.complete,
    }  # fmt: skip
    with atomic_output(str(path)) as handle:
        handle.write((json.dumps(obj, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))


def load_manifest(path: Path) -> Manifest | None:
    """The manifest at `path`; None when there is none (a fresh run). InputError if unreadable."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: unreadable resume manifest ({err})") from None
    try:
        if obj["version"] != MANIFEST_VERSION:
            raise InputError(f"{path}: resume manifest of another cleaner version")
        nxt = obj["next"]
        return Manifest(
            job=dict(obj["job"]),
            parts=int(obj["parts"]),
            next=Position(int(nxt["input"]), int(nxt["item"]), int(nxt["skip"])),
            tally=tally_from_dict(obj["tally"]),
            complete=bool(obj["complete"]),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"{path}: malformed resume manifest ({err})") from None


# --- a whole run ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hooks:
    """What a run tells its caller as it goes: each error; the tally and inputs done so far."""

    error: Callable[[ErrorEntry], None] = lambda _e: None
    progress: Callable[[Tally, int], None] = lambda _t, _n: None
    stdin: BinaryIO | None = None
    stdout: IO[bytes] | None = None


def output_rows(kind: Literal["split", "label"], cleaned: Cleaned) -> Iterator[dict[str, Any]]:
    """The output objects of one cleaned document: its records, or its labelled lines."""
    from cleaner.write import label_line_to_dict, record_to_dict

    if kind == "split":
        yield from (record_to_dict(record) for record in cleaned.records)
        return
    for line, article in zip(cleaned.lines, cleaned.articles, strict=True):
        yield label_line_to_dict(line, source=cleaned.source, article=article)


@dataclass(frozen=True, slots=True)
class Job:
    """A whole run: the inputs, how to read, clean and write them, and whether to resume."""

    paths: tuple[str, ...]
    read: ReadOptions = ReadOptions()
    clean: CleanSettings = CleanSettings()
    output: OutputSpec = OutputSpec()
    resume: bool = False
    # Workers read small single-document files themselves; off when they may not see our files
    # (a Dask cluster on other machines).
    workers_read: bool = True


def run(job: Job, *, hooks: Hooks = Hooks()) -> Tally:
    """Clean every input and write the rows in parts; return the tally.

    The first rows of a part are only visible once the part is complete. A resumable output
    gets a manifest after every part; with `job.resume` a run continues where that manifest
    says (and does nothing if it says complete). Raises CleanerError for a fatal problem
    (bad model, bad manifest) and OSError when an output cannot be written.
    """
    from cleaner.write import dropped_line_to_dict

    spec = job.output
    model_key = model_fingerprint(job.clean.model)
    manifest_file = spec.manifest_path() if spec.resumable else None
    key = job_key(job.paths, read=job.read, spec=spec, model=model_key)
    state = _start_state(job, key=key, manifest_file=manifest_file)
    if state is not None and state.complete:
        return state.tally
    parts = _Parts(spec, stdout=hooks.stdout, first=state.parts if state else 0)
    start = state.next if state else Position()
    tally = state.tally if state else Tally()
    inputs = start.input

    def checkpoint(position: Position, before: Tally) -> None:
        parts.commit()
        if manifest_file is not None:
            save_manifest(manifest_file, Manifest(key, parts.index, position, before))

    def handle(entry: Entry, outcome: Outcome) -> None:
        if isinstance(outcome, InputError):
            error = error_entry(outcome, path=entry.path)
            hooks.error(error)
            tally.fail(error)
            return
        skip = start.skip if (entry.input, entry.item) == (start.input, start.item) else 0
        for n, row in enumerate(output_rows(spec.kind, outcome)):
            if n < skip:
                continue
            if parts.full():
                checkpoint(Position(entry.input, entry.item, n), tally)
            parts.write(row)
        dropped = outcome.dropped  # a property that walks every line: once per document
        if spec.dropped is not None:
            for line in dropped:
                parts.write_dropped(dropped_line_to_dict(line, source=outcome.source))
        tally.add(outcome, dropped=dropped)

    entries = read_inputs(job.paths, options=job.read, stdin=hooks.stdin, start=start,
                          defer=job.workers_read)  # fmt: skip
    tagged = ((e, None if isinstance(e, InputDone) or isinstance(e.value, InputError) else e.value)
              for e in entries)  # fmt: skip
    try:
        for entry, result in clean_tagged(tagged, settings=job.clean):
            if isinstance(entry, InputDone):
                tally.input_done(entry)
                inputs += 1
            elif isinstance(result, tuple):  # an Unread file: its documents' outcomes
                for item, outcome in enumerate(result):
                    handle(replace(entry, item=item), outcome)
                errors = sum(isinstance(outcome, InputError) for outcome in result)
                tally.input_done(InputDone(entry.input, entry.path, len(result) - errors, errors))
                inputs += 1
            elif result is None:  # an error of the input stream itself: nothing to clean
                assert isinstance(entry.value, InputError)
                handle(entry, entry.value)
            else:
                handle(entry, result)
            hooks.progress(tally, inputs)
        if tally.files == 0 and state is None:
            # Nothing could be read: keep what the outputs held (a mistyped glob must not empty
            # them).
            parts.discard()
            return tally
        parts.commit(final=True)
    except BaseException:
        parts.discard()
        raise
    if manifest_file is not None:
        save_manifest(manifest_file, Manifest(key, parts.index, Position(), tally, complete=True))
    if spec.format == "txt":
        from cleaner.write import finish_txt

        finish_txt(spec.output)
    return tally


def model_fingerprint(model: ModelRef) -> str:
    """The model's identity for a resume check: the SHA-256 its card gives, read, not loaded.

    Loading is left to whoever cleans: with --jobs N the workers load the model, and the
    main process would only pay seconds of unpickling for nothing.
    """
    from cleaner.label import Model, card_path, default_model_path

    if isinstance(model, Model):
        return str(model.card.get("sha256", ""))
    path = default_model_path() if model is None else Path(model)
    try:
        card = json.loads(card_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""  # the cleaning step reports what is wrong with it
    return str(card.get("sha256", "")) if isinstance(card, dict) else ""


def _start_state(job: Job, *, key: dict[str, Any], manifest_file: Path | None) -> Manifest | None:
    """Where a run starts: None for a fresh run, else the manifest it resumes from."""
    from cleaner.write import rollback_txt

    spec = job.output
    if spec.format == "txt":
        _check_out_dir(Path(spec.output), resume=job.resume)
    if not job.resume or manifest_file is None:
        return None
    manifest = load_manifest(manifest_file)
    if manifest is not None and manifest.job != key:
        raise InputError(
            f"{manifest_file}: cannot resume, that run had other inputs or options "
            "(start a new run in another place)"
        )
    if spec.format == "txt":
        rollback_txt(spec.output, done=manifest.parts if manifest else 0)
    else:
        for sharded in (spec.output, spec.dropped):
            if sharded is not None:
                remove_temporaries(sharded)
    return manifest


def remove_temporaries(path: str) -> None:
    """Remove the temporary files a killed run left beside the shards of `path` (and manifest)."""
    from cleaner.write import TMP_SUFFIX

    target = Path(path)
    for leftover in target.parent.glob(f".{target.stem}-*{TMP_SUFFIX}"):
        if re.fullmatch(rf"\.{re.escape(target.stem)}-(\d+{re.escape(target.suffix)}"
                        rf"|manifest\.json)\..+{re.escape(TMP_SUFFIX)}", leftover.name):
            leftover.unlink(missing_ok=True)


def _check_out_dir(out_dir: Path, *, resume: bool) -> None:
    """Make the txt output directory; refuse one holding other files unless resuming ours."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        used = any(out_dir.iterdir())
    except OSError as err:
        reason = err.strerror or err
        raise InputError(f"{out_dir}: cannot use as output directory ({reason})") from None
    if used and not (resume and (out_dir / TXT_MANIFEST).exists()):
        hint = "a directory of another run" if (out_dir / TXT_MANIFEST).exists() else "not empty"
        raise InputError(
            f"{out_dir}: output directory is {hint}; use an empty one"
            + (", or --resume to continue that run" if "run" in hint else "")
        )
