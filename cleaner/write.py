"""Write results: records, labelled lines and dropped lines as JSON Lines, Parquet or .txt files.

Key order is fixed (evaluation tools and diffs rely on it), text stays readable UTF-8
(`ensure_ascii=False`) and every object ends with "\\n", so equal input gives equal bytes.
Every file is written under a temporary name and renamed when complete, so a file with its
final name is never partial. A writer (`open_writer`) takes rows one at a time and is then
committed or discarded; nothing of a discarded writer stays behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal, Protocol

from cleaner.types import Line, Record

STDOUT = "-"
ENCODING = "utf-8"
# Mode of a new output file before the umask, as open() would create it.
NEW_FILE_MODE = 0o666
TMP_SUFFIX = ".tmp"

RECORD_KEYS = ("id", "source", "url", "title", "byline", "date", "lang", "text", "lines")
LABEL_LINE_KEYS = ("source", "line", "text", "label", "p", "article")
DROPPED_LINE_KEYS = ("source", "line", "text", "label", "p")


def record_to_dict(record: Record) -> dict[str, Any]:
    """A record as a JSON object: id, source, url, title, byline, date, lang, text, lines."""
    return {
        "id": record.id,
        "source": record.source,
        "url": record.url,
        "title": record.title,
        "byline": record.byline,
        "date": record.date,
        "lang": record.lang,
        "text": record.text,
        "lines": list(record.lines),
    }


def label_line_to_dict(line: Line, *, source: str, article: int | None = None) -> dict[str, Any]:
    """A labelled line as a JSON object; `article` is its 0-based record index, None if dropped."""
    return {
        "source": source,
        "line": line.number,
        "text": line.text,
        "label": _label_value(line),
        "p": line.p,
        "article": article,
    }


def dropped_line_to_dict(line: Line, *, source: str) -> dict[str, Any]:
    """A dropped line (in no record) as a JSON object, with the label that dropped it."""
    # The labelled-line object without "article": a dropped line belongs to no record.
    labelled = label_line_to_dict(line, source=source)
    return {key: labelled[key] for key in DROPPED_LINE_KEYS}


def _label_value(line: Line) -> str | None:
    """The label's string, None for a line the labeller has not seen."""
    return line.label.value if line.label is not None else None


def json_line(obj: dict[str, Any]) -> str:
    """One JSON Lines row: the object in its own key order, non-ASCII kept, ending in a newline."""
    return json.dumps(obj, ensure_ascii=False) + "\n"


def write_rows(handle: IO[bytes], rows: Iterable[dict[str, Any]]) -> int:
    """Write objects as UTF-8 JSON Lines to a binary stream; return how many were written."""
    count = 0
    for row in rows:
        handle.write(json_line(row).encode(ENCODING))
        count += 1
    return count


class AtomicFile:
    """A binary file written under a temporary name beside `path`, renamed over it on commit.

    Until `commit` nothing is visible at `path` (an older file there stays as it was); `discard`
    removes the temporary file. A killed process leaves at most a hidden `.NAME.*.tmp` file.
    """

    def __init__(self, path: str | Path) -> None:
        self.target = Path(path)
        # Same directory as the target: os.replace is only atomic within one file system.
        fd, tmp_name = tempfile.mkstemp(
            dir=self.target.parent, prefix=f".{self.target.name}.", suffix=TMP_SUFFIX
        )
        self.tmp = Path(tmp_name)
        self.handle: IO[bytes] = os.fdopen(fd, "wb")

    def commit(self) -> None:
        """Flush the data to disk and rename the file to its final name."""
        try:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            # mkstemp makes the file 0600; give it the mode a plain open() would have given it.
            self.tmp.chmod(_output_mode(self.target))
            self.tmp.replace(self.target)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Close and remove the temporary file; the target is left as it was."""
        with contextlib.suppress(OSError):
            self.handle.close()
        self.tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_output(path: str, *, stdout: IO[bytes] | None = None) -> Iterator[IO[bytes]]:
    """A binary stream for `path` ("-" = standard output) that only appears if the block succeeds.

    A file is written to a temporary file beside it and renamed over `path` when the block ends
    without an exception; on any exception the temporary file is removed, so a reader never sees
    a partial file and an older file at `path` stays as it was.
    """
    if path == STDOUT:
        stream = stdout if stdout is not None else sys.stdout.buffer
        yield stream
        stream.flush()
        return
    atomic = AtomicFile(path)
    try:
        yield atomic.handle
    except BaseException:
        atomic.discard()
        raise
    atomic.commit()


def _output_mode(target: Path) -> int:
    """Permission bits for an output file: those of the file it replaces, else 0666 less umask."""
    with contextlib.suppress(OSError):
        return target.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return NEW_FILE_MODE & ~umask


# --- writers: one row at a time, then commit or discard ------------------------------------------

Format = Literal["jsonl", "parquet", "txt"]
Kind = Literal["split", "label", "dropped"]
FORMATS: tuple[Format, ...] = ("jsonl", "parquet", "txt")
KIND_KEYS: dict[Kind, tuple[str, ...]] = {
    "split": RECORD_KEYS,
    "label": LABEL_LINE_KEYS,
    "dropped": DROPPED_LINE_KEYS,
}
# Parquet column types by key; every key of every kind must have one (checked by the tests).
PARQUET_TYPES = {
    "id": "string", "source": "string", "url": "string", "title": "string", "byline": "string",
    "date": "string", "lang": "string", "text": "string", "lines": "list<int32>",
    "line": "int32", "label": "string", "p": "float64", "article": "int32",
}  # fmt: skip
# Rows per Parquet row group: memory holds one group of rows, and readers can skip by group.
PARQUET_ROW_GROUP = 4096
SHARD_DIGITS = 5
# A record's .txt file name: these characters are kept, every other one becomes "_".
SAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]")
# Longest stem of a .txt file name (file systems allow 255 bytes; leave room for suffixes).
MAX_NAME_STEM = 120
# Names Windows refuses whatever the suffix: never write them, the output may be copied there.
RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{dev}{n}" for dev in ("com", "lpt") for n in range(10)}
)
TXT_STAGING = ".cleaner-staging"


class RowWriter(Protocol):
    """Where output rows go: `write` each row, then `commit` (complete) or `discard` (failed)."""

    def write(self, row: dict[str, Any]) -> None:
        """Add one row."""

    def commit(self) -> None:
        """Make everything written visible under its final name."""

    def discard(self) -> None:
        """Remove everything written; nothing partial stays."""


class JsonlWriter:
    """JSON Lines to a file (atomically) or to standard output ("-")."""

    def __init__(self, path: str, *, stdout: IO[bytes] | None = None) -> None:
        self.file = None if path == STDOUT else AtomicFile(path)
        if self.file is not None:
            self.handle = self.file.handle
        else:
            self.handle = stdout if stdout is not None else sys.stdout.buffer

    def write(self, row: dict[str, Any]) -> None:
        """Write one row as a JSON line."""
        self.handle.write(json_line(row).encode(ENCODING))

    def commit(self) -> None:
        """Rename the file into place (or flush standard output)."""
        if self.file is None:
            self.handle.flush()
        else:
            self.file.commit()

    def discard(self) -> None:
        """Remove the temporary file (standard output cannot be taken back)."""
        if self.file is not None:
            self.file.discard()


class ParquetWriter:
    """A Parquet file with a fixed schema per kind, written one row group at a time."""

    def __init__(self, path: str, *, kind: Kind) -> None:
        import pyarrow.parquet as pq

        self.schema = parquet_schema(kind)
        self.file = AtomicFile(path)
        self.rows: list[dict[str, Any]] = []
        try:
            self.writer = pq.ParquetWriter(self.file.handle, self.schema)
        except BaseException:
            self.file.discard()
            raise

    def write(self, row: dict[str, Any]) -> None:
        """Buffer one row; a full row group goes to disk."""
        self.rows.append(row)
        if len(self.rows) >= PARQUET_ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        """Write the buffered rows as one row group."""
        import pyarrow as pa

        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def commit(self) -> None:
        """Write the last row group and the footer, then rename the file into place."""
        try:
            self._flush()
            self.writer.close()
        except BaseException:
            self.file.discard()
            raise
        self.file.commit()

    def discard(self) -> None:
        """Drop the buffered rows and remove the temporary file."""
        self.rows = []
        with contextlib.suppress(Exception):
            self.writer.close()
        self.file.discard()


def parquet_schema(kind: Kind) -> Any:
    """The fixed pyarrow schema of a kind's rows: its keys in order, with their PARQUET_TYPES."""
    import pyarrow as pa

    types = {"string": pa.string(), "int32": pa.int32(), "float64": pa.float64(),
             "list<int32>": pa.list_(pa.int32())}  # fmt: skip
    return pa.schema([pa.field(key, types[PARQUET_TYPES[key]]) for key in KIND_KEYS[kind]])


class TxtWriter:
    """One .txt file per record in a directory: staged in a hidden folder, moved in on commit.

    File names come from record ids (`record_file_name`); a name already taken, in the
    directory or earlier in this writer, gets "~2", "~3", ... in order, so the names depend
    only on the directory's contents and the order of the records.
    """

    def __init__(self, out_dir: str | Path, *, part: int = 0) -> None:
        self.out_dir = Path(out_dir)
        self.part = part
        self.stage = self.out_dir / TXT_STAGING / f"part-{part:0{SHARD_DIGITS}d}"
        self.stage.mkdir(parents=True, exist_ok=True)
        self.names: list[str] = []
        self.taken: set[str] = set()

    def write(self, row: dict[str, Any]) -> None:
        """Stage one record's text under a free name derived from its id."""
        name = self._free_name(record_file_name(str(row["id"])))
        self.names.append(name)
        self.taken.add(name)
        (self.stage / name).write_bytes(record_text(row).encode(ENCODING))

    def _free_name(self, name: str) -> str:
        """`name`, or it with "~2", "~3", ... before ".txt" if taken."""
        stem = name.removesuffix(".txt")
        candidate, n = name, 1
        while candidate in self.taken or (self.out_dir / candidate).exists():
            n += 1
            candidate = f"{stem}~{n}.txt"
        return candidate

    def commit(self) -> None:
        """List the staged names (for a rollback after a crash), then move the files in."""
        index = self.stage.with_suffix(".names")
        # The lists of earlier parts are no longer needed: the run recorded those parts as done
        # before this one started.
        for old in self.stage.parent.glob("part-*.names"):
            if old != index:
                old.unlink(missing_ok=True)
        with atomic_output(str(index)) as handle:
            handle.write("".join(f"{name}\n" for name in self.names).encode(ENCODING))
        for name in self.names:
            (self.stage / name).replace(self.out_dir / name)
        shutil.rmtree(self.stage, ignore_errors=True)

    def discard(self) -> None:
        """Remove the staged files."""
        shutil.rmtree(self.stage, ignore_errors=True)


def record_text(row: dict[str, Any]) -> str:
    """A record's .txt content: its title, a blank line, its text; or the text alone."""
    title = row.get("title")
    return f"{title}\n\n{row['text']}\n" if title else f"{row['text']}\n"


def record_file_name(record_id: str) -> str:
    """A safe .txt file name for a record id: it can only name a plain file inside the directory.

    Characters other than ASCII letters, digits, ".", "_" and "-" become "_" (so "/" and NUL
    never survive), letters are lower-cased (names then clash alike on case-insensitive file
    systems), leading dots go (no "..", no hidden files), the stem is cut to MAX_NAME_STEM
    characters, and Windows device names get a leading "_".
    """
    stem = SAFE_NAME_CHARS.sub("_", record_id).lower().lstrip(".")[:MAX_NAME_STEM] or "record"
    if stem.split(".")[0] in RESERVED_NAMES:
        stem = f"_{stem}"
    return f"{stem}.txt"


def finish_txt(out_dir: str | Path) -> None:
    """Remove the staging folder of a completed .txt run."""
    shutil.rmtree(Path(out_dir) / TXT_STAGING, ignore_errors=True)


def rollback_txt(out_dir: str | Path, *, done: int) -> None:
    """Undo what a killed run left in a .txt directory: parts from `done` on, and the staging.

    A part's files are moved in only after their names were listed; a part the run did not
    record as done may have been moved in half, so its listed files are removed again.
    """
    out = Path(out_dir)
    staging = out / TXT_STAGING
    for index in sorted(staging.glob("part-*.names")):
        if int(index.stem.removeprefix("part-")) >= done:
            for name in index.read_text(encoding=ENCODING).splitlines():
                (out / name).unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)


def shard_path(path: str, index: int) -> str:
    """The file name of shard `index` of `path`: out.jsonl -> out-00000.jsonl."""
    target = Path(path)
    name = f"{target.stem}-{index:0{SHARD_DIGITS}d}{target.suffix}"
    return str(target.with_name(name))


def open_writer(
    fmt: Format, *, kind: Kind, target: str, stdout: IO[bytes] | None = None, part: int = 0
) -> RowWriter:
    """A writer of `kind` rows in format `fmt` to `target` (a file, "-", or a directory for txt)."""
    if fmt == "parquet":
        return ParquetWriter(target, kind=kind)
    if fmt == "txt":
        return TxtWriter(target, part=part)
    return JsonlWriter(target, stdout=stdout)
