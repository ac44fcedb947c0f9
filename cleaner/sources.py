"""Inputs at scale: which files a run reads, and the documents inside each one.

`expand_inputs` turns command-line paths into input files (directories walked recursively, in a
sorted, deterministic order); `read_documents` yields every document of one input, whatever its
container (text, HTML, JSON Lines, WARC, any of them compressed), as a stream: per-record and
whole-file failures come out as InputError items, never as exceptions.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

from cleaner.errors import InputError

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
