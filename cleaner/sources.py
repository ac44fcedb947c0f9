"""Inputs at scale: which files a run reads, and the documents inside each one.

`expand_inputs` turns command-line paths into input files (directories walked recursively, in a
sorted, deterministic order); `read_documents` yields every document of one input, whatever its
container (text, HTML, JSON Lines, WARC, any of them compressed), as a stream: per-record and
whole-file failures come out as InputError items, never as exceptions.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import stat
import sys
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO, cast

if sys.version_info >= (3, 14):
    from compression.zstd import ZstdError, ZstdFile
else:
    from backports.zstd import ZstdError, ZstdFile

from cleaner.errors import InputError
from cleaner.read import (
    MAX_DOCUMENT_BYTES,
    MAX_LINE_CHARS,
    UTF8_BOM,
    check_line_lengths,
    document_text,
    normalise_newlines,
)
from cleaner.types import Document

STDIN = "-"


def expand_inputs(paths: Sequence[str], *, glob: str = "*") -> Iterator[str | InputError]:
    """Input files of the given paths, directories walked recursively in sorted order.

    A file (or "-", standard input) is yielded as given, whatever its name. A directory yields
    the regular files under it whose path relative to it matches `glob` (as PurePath.match: "*.txt"
    matches at any depth, "news/*.txt" only in folders named news), sorted by name at every level;
    names starting with "." are skipped (hidden files, and the temporary files of atomic outputs).
    Symbolic links are followed, but a link back into a directory being walked is reported as a
    loop instead of being followed forever. A missing or unreadable path, a broken link, and a
    special file (FIFO, device, socket) found inside a directory come out as InputError items.
    """
    for path in paths:
        if path == STDIN:
            yield path
            continue
        try:
            info = Path(path).stat()
        except OSError as err:
            yield _stat_error(path, err)
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(path, info, glob=glob)
        elif not os.access(path, os.R_OK):
            yield InputError(f"{path}: permission denied")
        else:
            yield path


def _stat_error(path: str, err: OSError) -> InputError:
    """The InputError for a path that cannot even be looked at."""
    if isinstance(err, FileNotFoundError):
        if Path(path).is_symlink():
            return InputError(f"{path}: broken symbolic link (its target does not exist)")
        return InputError(f"{path}: no such file or directory")
    if isinstance(err, PermissionError):
        return InputError(f"{path}: permission denied")
    if err.errno == getattr(os, "ELOOP", -1) or "symbolic links" in str(err):
        return InputError(f"{path}: symbolic link loop")
    return InputError(f"{path}: cannot read ({err.strerror or err})")


def _walk(root: str, info: os.stat_result, *, glob: str) -> Iterator[str | InputError]:
    """The matching files under a directory, depth first, entries sorted by name at every level.

    An explicit stack, not recursion: a hostile tree thousands of folders deep must not hit
    Python's recursion limit. Each frame carries the (device, inode) of the folders above it,
    so a symbolic link back to one of them is reported as a loop, not followed forever.
    """
    stack: list[_Frame] = []
    frame = _open_folder(root, "", ((info.st_dev, info.st_ino),))
    if isinstance(frame, InputError):
        yield frame
        return
    stack.append(frame)
    while stack:
        folder, rel, ancestors, names = stack[-1]
        name = next(names, None)
        if name is None:
            stack.pop()
            continue
        path = str(Path(folder) / name)
        child_rel = f"{rel}/{name}" if rel else name
        try:
            child = Path(path).stat()
        except OSError as err:
            if PurePosixPath(child_rel).match(glob):
                yield _stat_error(path, err)
            continue
        if stat.S_ISDIR(child.st_mode):
            identity = (child.st_dev, child.st_ino)
            if identity in ancestors:
                yield InputError(f"{path}: symbolic link loop (leads back to a folder above it)")
                continue
            opened = _open_folder(path, child_rel, (*ancestors, identity))
            if isinstance(opened, InputError):
                yield opened
            else:
                stack.append(opened)
        elif PurePosixPath(child_rel).match(glob):
            yield _file_entry(path, child)


_Frame = tuple[str, str, tuple[tuple[int, int], ...], Iterator[str]]


def _open_folder(
    path: str, rel: str, ancestors: tuple[tuple[int, int], ...]
) -> _Frame | InputError:
    """A walk frame for a folder: its visible entry names, sorted; InputError if unreadable."""
    try:
        with os.scandir(path) as scan:
            names = sorted(entry.name for entry in scan if not entry.name.startswith("."))
    except OSError as err:
        return _stat_error(path, err)
    return (path, rel, ancestors, iter(names))


def _file_entry(path: str, info: os.stat_result) -> str | InputError:
    """A file found in a folder walk, or why it cannot be read."""
    if not stat.S_ISREG(info.st_mode):
        # Reading a FIFO or a device found in a crawl folder could block forever.
        return InputError(f"{path}: not a regular file (FIFO, device or socket); skipped")
    if not os.access(path, os.R_OK):
        return InputError(f"{path}: permission denied")
    return path


# --- the documents of one input -----------------------------------------------------------------

# A JSON Lines line holds one document: its text field may be MAX_DOCUMENT_BYTES of text, and JSON
# escapes ("\u00e9") make it longer in bytes than in characters.
MAX_JSON_LINE_BYTES = 2 * MAX_DOCUMENT_BYTES
# The header lines of one WARC record (and its HTTP headers): a few kilobytes in real crawls.
MAX_WARC_HEADER_BYTES = 1_000_000
# A JSON Lines id longer than this is refused: it becomes part of every record id.
MAX_ID_CHARS = 256
# Read in chunks of this size: memory is bounded by the caps, never by the size of a file.
CHUNK_BYTES = 1 << 20
# How much of a stream is looked at to tell its compression and format.
HEAD_BYTES = 65_536

COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd"}
COMPRESSION_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
FORMAT_SUFFIXES = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".warc": "warc",
    ".html": "html", ".htm": "html", ".xhtml": "html", ".txt": "text",
}  # fmt: skip
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain"})
WARC_DAY = re.compile(r"(\d{4}-\d\d-\d\d)(?:T|$)")
SURROGATES = re.compile("[\ud800-\udfff]")
# Characters percent-encoded in a JSON Lines id inside a source string: "#" separates a record
# index, "@" marks a line number, "%" is the escape itself; the rest cannot print.
ID_SPECIALS = frozenset("#@%")


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on what one input may hold; the defaults are documented in README ("Limits")."""

    document_bytes: int = MAX_DOCUMENT_BYTES
    line_chars: int = MAX_LINE_CHARS
    json_line_bytes: int = MAX_JSON_LINE_BYTES
    warc_header_bytes: int = MAX_WARC_HEADER_BYTES


DEFAULT_LIMITS = Limits()


def read_documents(
    path: str,
    *,
    stdin: BinaryIO | None = None,
    text_field: str = "text",
    id_field: str = "id",
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[Document | InputError]:
    """Every document of one input ("-" for standard input), streamed, errors as items.

    The format is told by the name: `.txt` text, `.html`/`.htm` a page (its text extracted),
    `.jsonl` one JSON object per line (`text_field` holds the text, `id_field` an optional id),
    `.warc` the HTML and plain-text HTTP responses of a crawl, each optionally compressed
    (`.gz`, `.bz2`, `.xz`, `.zst`: the suffix before it tells the format). A name without a known
    suffix, and standard input, are sniffed: compression by magic bytes, then WARC, JSON Lines,
    HTML or text. A bad record is one InputError item and the next records still come; a file
    that cannot be read at all, or past some point, ends with one InputError item. Nothing is
    raised out of the iterator, and no more than one document (at most `limits.document_bytes`)
    is held in memory at a time.
    """
    name = display_name(path)
    try:
        raw = _open(path, stdin=stdin)
    except InputError as err:
        yield err
        return
    compression = "data"
    try:
        head, raw = _peek(raw)
        compression = _compression(path, head)
        stream = _decompressed(raw, compression)
        head, stream = _peek(stream)
        kind = _format(path, head, text_field=text_field)
        if kind == "jsonl":
            yield from _jsonl_documents(
                stream, path=path, text_field=text_field, id_field=id_field, limits=limits
            )
        elif kind == "warc":
            yield from _warc_documents(stream, path=path, limits=limits)
        else:
            data = _read_capped(stream, cap=limits.document_bytes, name=name,
                                compressed=compression != "plain")
            text, comments_from = document_text(
                data, source=name, html=kind == "html" or None, path=_inner_name(path),
                max_line_chars=limits.line_chars,
            )
            yield Document(source=path, text=text, comments_from=comments_from)
    except InputError as err:
        yield err
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError, ZstdError) as err:
        # Decompressors raise these on corrupt or truncated data, and reads on I/O errors.
        plain = compression == "plain"
        what = "cannot read" if plain else f"corrupt or truncated {compression} data"
        yield InputError(f"{name}: {what} ({_reason(err)})")
    except RecursionError:
        yield InputError(f"{name}: nested too deeply to read")
    finally:
        if path != STDIN:
            raw.close()


def display_name(path: str) -> str:
    """How error messages name an input."""
    return "<stdin>" if path == STDIN else path


def _reason(err: BaseException) -> str:
    """An exception's message on one line."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text[:200]


def _open(path: str, *, stdin: BinaryIO | None) -> BinaryIO:
    """The raw byte stream of an input, OS failures turned into InputError."""
    if path == STDIN:
        return stdin if stdin is not None else sys.stdin.buffer
    return open_file(path)


def open_file(path: str) -> BinaryIO:
    """A file opened for reading bytes; why it cannot be as an InputError naming it."""
    try:
        return Path(path).open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err.strerror or err})") from None


class _Prefixed(io.RawIOBase):
    """A stream that gives some already-read bytes back before the rest (private)."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        """Always: this is a reader."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill the buffer from the head first, then from the rest of the stream."""
        view = memoryview(buffer).cast("B")
        if self._head:
            size = min(len(view), len(self._head))
            view[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)


def _peek(stream: IO[bytes]) -> tuple[bytes, io.BufferedReader]:
    """The first bytes of a stream, and a buffered stream that still starts with them."""
    head = stream.read(HEAD_BYTES)
    return head, io.BufferedReader(_Prefixed(head, stream), buffer_size=CHUNK_BYTES)


def _compression(path: str, head: bytes) -> str:
    """The compression of an input: by its last suffix, else by its magic bytes; or "plain"."""
    suffix = PurePosixPath(path).suffix.lower() if path != STDIN else ""
    if suffix in COMPRESSION_SUFFIXES:
        return COMPRESSION_SUFFIXES[suffix]
    return next((kind for magic, kind in COMPRESSION_MAGIC if head.startswith(magic)), "plain")


def _decompressed(stream: io.BufferedReader, compression: str) -> IO[bytes]:
    """The decompressed stream; every read of it is bounded by the size asked for."""
    if compression == "gzip":
        # Reads every member of a multi-member file (a .warc.gz holds one per record).
        return cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb"))
    if compression == "bzip2":
        return bz2.BZ2File(stream)
    if compression == "xz":
        return lzma.LZMAFile(stream)
    if compression == "zstd":
        # Python 3.14's compression.zstd: bounded reads, every frame, and truncation raises
        # EOFError (the zstandard package's readers end silently on a cut file).
        return cast(IO[bytes], ZstdFile(stream))
    return stream


def _inner_name(path: str) -> str:
    """The name without its compression suffix: "a.jsonl.gz" -> "a.jsonl"."""
    if path == STDIN:
        return path
    pure = PurePosixPath(path)
    return str(pure.with_suffix("")) if pure.suffix.lower() in COMPRESSION_SUFFIXES else path


def _format(path: str, head: bytes, *, text_field: str) -> str:
    """The container format: by the suffix under any compression suffix, else sniffed."""
    suffix = PurePosixPath(_inner_name(path)).suffix.lower() if path != STDIN else ""
    if suffix in FORMAT_SUFFIXES:
        return FORMAT_SUFFIXES[suffix]
    if head.startswith(b"WARC/"):
        return "warc"
    first, newline, _ = head.removeprefix(UTF8_BOM).partition(b"\n")
    if newline and first.lstrip().startswith(b"{"):
        try:
            obj = json.loads(first)
        except (ValueError, RecursionError):
            return "text"
        if isinstance(obj, dict) and isinstance(obj.get(text_field), str):
            return "jsonl"
    return "text"


def _read_capped(stream: IO[bytes], *, cap: int, name: str, compressed: bool = False) -> bytes:
    """All bytes of a stream, read in chunks; InputError once they pass `cap`."""
    data = bytearray()
    while chunk := stream.read(CHUNK_BYTES):
        data += chunk
        if len(data) > cap:
            bomb = " once decompressed (a compression bomb?)" if compressed else ""
            raise InputError(
                f"{name}: more than the {cap:,}-byte cap for one document{bomb}; not read"
            )
    return bytes(data)


# --- JSON Lines ---------------------------------------------------------------------------------


def _jsonl_documents(
    stream: IO[bytes], *, path: str, text_field: str, id_field: str, limits: Limits
) -> Iterator[Document | InputError]:
    """One document per non-blank JSON line; a bad line is one InputError item, then on."""
    name = display_name(path)
    # Ids seen so far (8-byte digests: a repeated id must not give two documents one source).
    seen: set[bytes] = set()
    number = 0
    while line := stream.readline(limits.json_line_bytes + 1):
        number += 1
        where = f"{name}: line {number}"
        if len(line) > limits.json_line_bytes and not line.endswith(b"\n"):
            while (rest := stream.readline(CHUNK_BYTES)) and not rest.endswith(b"\n"):
                pass  # skip the rest of the over-long line, a chunk at a time
            yield InputError(
                f"{where}: longer than the {limits.json_line_bytes:,}-byte cap for one JSON "
                "line; skipped"
            )
            continue
        if number == 1:
            line = line.removeprefix(UTF8_BOM)
        if line.strip():
            yield _json_document(
                line, where=where, path=path, number=number, fields=(text_field, id_field),
                seen=seen, limits=limits,
            )  # fmt: skip


def _json_document(
    line: bytes,
    *,
    where: str,
    path: str,
    number: int,
    fields: tuple[str, str],
    seen: set[bytes],
    limits: Limits,
) -> Document | InputError:
    """The document of one JSON line, or the InputError saying what is wrong with it."""
    text_field, id_field = fields
    try:
        obj = json.loads(line)
    except UnicodeDecodeError as err:
        return InputError(f"{where}: not UTF-8 (invalid byte at offset {err.start})")
    except json.JSONDecodeError as err:
        message = err.msg.removesuffix(" at")
        return InputError(f"{where}: not valid JSON ({message}, column {err.colno})")
    except (ValueError, RecursionError):
        return InputError(f"{where}: not valid JSON (nested too deeply)")
    if not isinstance(obj, dict):
        return InputError(f"{where}: {_json_type(obj)}, not a JSON object")
    text = obj.get(text_field)
    if not isinstance(text, str):
        found = "missing" if text_field not in obj else f"{_json_type(text)}, not a string"
        return InputError(f"{where}: field {text_field!r} is {found}")
    if len(text) > limits.document_bytes:
        return InputError(
            f"{where}: text of {len(text):,} characters, over the {limits.document_bytes:,} cap "
            "for one document"
        )
    key = _json_key(obj.get(id_field), number=number, seen=seen)
    if isinstance(key, str) and key.startswith("!"):
        return InputError(f"{where}: field {id_field!r} is {key[1:]}")
    source = f"{path}:{key}"
    # A lone surrogate cannot be written as UTF-8: it becomes U+FFFD, like undecodable bytes.
    text = normalise_newlines(SURROGATES.sub("\ufffd", text))
    try:
        check_line_lengths(text, source=source, max_chars=limits.line_chars)
    except InputError as err:
        return InputError(f"{where}: {str(err).removeprefix(source + ': ')}")
    return Document(source=source, text=text)


def _json_key(value: Any, *, number: int, seen: set[bytes]) -> str:
    """The part of a source after "path:": the id, made plain, or "@<line>" without one.

    A repeated id gets "@<line>" after it. "!reason" when the id cannot be used.
    """
    if value is None:
        return f"@{number}"
    if isinstance(value, bool) or not isinstance(value, str | int):
        return f"!{_json_type(value)}, not a string or integer"
    ident = str(value)
    if len(ident) > MAX_ID_CHARS:
        return f"!{len(ident):,} characters long, over the {MAX_ID_CHARS}-character cap for an id"
    key = plain_id(ident)
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    if digest in seen:
        return f"{key}@{number}"
    seen.add(digest)
    return key


def plain_id(ident: str) -> str:
    """An id as a plain, printable string: "#", "@", "%" and unprintable characters %-encoded.

    Paths are not sanitised here ("../x" stays as it is): an output side that makes file names
    from sources must make its own safe names.
    """
    ident = SURROGATES.sub("\ufffd", ident)
    return "".join(
        "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
        if ch in ID_SPECIALS or not ch.isprintable()
        else ch
        for ch in ident
    )


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, with its article ("an array")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


# --- WARC ---------------------------------------------------------------------------------------


def _warc_documents(
    stream: IO[bytes], *, path: str, limits: Limits
) -> Iterator[Document | InputError]:
    """A document per HTML or plain-text HTTP 2xx response of a WARC file; the rest skipped."""

    name = display_name(path)
    records = _GuardedArchive(stream, header_cap=limits.warc_header_bytes)
    number = 0
    warned = 0
    record = None
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except _HeaderTooLongError:
            yield InputError(
                f"{name}: record {number + 1}: header lines over the "
                f"{limits.warc_header_bytes:,}-byte cap; rest of the file not read"
            )
            return
        except Exception as err:
            # warcio raises whatever its parsing meets on malformed records (ArchiveLoadFailed,
            # and AttributeError on a header line without a space, found by Hypothesis): after
            # any of them the file's position is unknown.
            yield InputError(
                f"{name}: record {number + 1}: not a WARC record ({_reason(err)}); rest of the "
                "file not read"
            )
            return
        if records.misaligned > warned:
            warned = records.misaligned
            yield InputError(
                f"{name}:{number}: not followed by a blank line, so its Content-Length is wrong; "
                "its document may be cut or hold part of the next record"
            )
        number += 1
        yield from _warc_document(record, path=path, number=number, limits=limits)
    # warcio ends quietly when the file ends inside a record's block: a cut download, or a
    # Content-Length that swallowed the records after it. What it still expected is left.
    if record is not None and _page_type(record) is None:
        records.read_to_end()  # a skipped record is only read through on the next step
        if missing := _missing_bytes(record):
            yield InputError(
                f"{name}:{number}: the file ends {missing:,} bytes short of this record's "
                "Content-Length (truncated, or a wrong length)"
            )


def _warc_document(
    record: Any, *, path: str, number: int, limits: Limits
) -> Iterator[Document | InputError]:
    """The document of one WARC record, if it is an HTML or text response (0 or 1 item)."""
    kind = _page_type(record)
    if kind is None:
        return
    mime, charset = kind
    source = f"{path}:{number}"
    where = f"{display_name(path)}:{number}"
    try:
        payload = _read_capped(record.content_stream(), cap=limits.document_bytes, name=where)
        missing = _missing_bytes(record)
        if missing:
            raise InputError(
                f"{where}: the file ends {missing:,} bytes short of this record's Content-Length "
                "(truncated, or a wrong length)"
            )
        text, comments_from = document_text(
            payload, source=where, html=mime in HTML_TYPES, charset=charset,
            max_line_chars=limits.line_chars,
        )
    except InputError as err:
        yield err
        return
    except Exception as err:
        # warcio's payload decoding (dechunking, gzip, brotli) raises whatever it meets on a
        # corrupt payload; the record is lost, the next ones are still read.
        yield InputError(f"{where}: cannot decode the HTTP payload ({_reason(err)})")
        return
    url = record.rec_headers.get_header("WARC-Target-URI")
    day = WARC_DAY.match(record.rec_headers.get_header("WARC-Date") or "")
    yield Document(
        source=source,
        text=text,
        url=_plain_url(url) if url else None,
        date=_iso_day(day.group(1)) if day else None,
        comments_from=comments_from,
    )


def _page_type(record: Any) -> tuple[str, str | None] | None:
    """(MIME type, charset) of a WARC record that is a 2xx HTML or text response, else None."""
    if record.rec_type != "response" or record.http_headers is None:
        return None
    status = record.http_headers.get_statuscode() or ""
    content_type = record.http_headers.get_header("Content-Type") or ""
    mime, _, params = content_type.partition(";")
    mime = mime.strip().lower()
    if not (status.isdigit() and 200 <= int(status) < 300) or mime not in HTML_TYPES | TEXT_TYPES:
        return None
    return mime, _charset(params)


def _missing_bytes(record: Any) -> int:
    """How many bytes of a record's block the file lacks, once it has been read to its end."""
    # warcio's LimitReader counts down the Content-Length; it ends quietly at end of file.
    return max(0, int(getattr(record.raw_stream, "limit", 0)))


def _charset(params: str) -> str | None:
    """The charset parameter of a Content-Type header's parameters, if any."""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip(" \"'"):
            return value.strip(" \"'")
    return None


def _plain_url(url: str) -> str:
    """A URL without whitespace or unprintable characters (they cannot be part of one)."""
    url = url.strip().strip("<>")  # WARC 1.0 writes the target URI in angle brackets
    return "".join(ch for ch in SURROGATES.sub("", url) if ch.isprintable() and not ch.isspace())


def _iso_day(text: str) -> str | None:
    """A YYYY-MM-DD string if it is a real calendar day."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


class _HeaderTooLongError(Exception):
    """A WARC record's header lines passed their cap (private: turned into an InputError)."""


def _GuardedArchive(stream: IO[bytes], *, header_cap: int) -> Any:  # noqa: N802
    """warcio's ArchiveIterator over a stream, its line reads capped at `header_cap` bytes.

    warcio reads header lines without a limit (a 10 GB "header line" would be read whole, and
    its buffer growth is quadratic); every run of header lines between two payload reads is
    capped here instead. Its own gzip detection stays, for a .warc that is gzipped unnamed.
    """
    from warcio.archiveiterator import ArchiveIterator
    from warcio.bufferedreaders import DecompressingBufferedReader

    class GuardedReader(DecompressingBufferedReader):  # type: ignore[misc]
        """A reader whose consecutive readline() calls share one byte budget."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.line_bytes = 0

        def readline(self, length: int | None = None) -> bytes:
            budget = header_cap - self.line_bytes + 1
            line = bytes(super().readline(budget if length is None else min(length, budget)))
            self.line_bytes += len(line)
            if self.line_bytes > header_cap:
                raise _HeaderTooLongError
            return line

        def read(self, length: int | None = None) -> bytes:
            self.line_bytes = 0
            return bytes(super().read(length))

    class GuardedArchive(ArchiveIterator):  # type: ignore[misc]
        """warcio's iterator, its warning about a wrong Content-Length kept off stderr."""

        misaligned = 0  # records so far not followed by a blank line

        def _consume_blanklines(self) -> Any:
            # warcio writes the warning (and the stray bytes) straight to sys.stderr, which
            # would mix into our one-line errors; it is turned into an InputError instead.
            with contextlib.redirect_stderr(io.StringIO()) as sink:
                result = super()._consume_blanklines()
            if sink.getvalue():
                self.misaligned += 1
            return result

    archive = GuardedArchive(stream)
    archive.reader = GuardedReader(archive.fh, block_size=CHUNK_BYTES)
    return archive
