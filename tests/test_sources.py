"""Tests of cleaner.sources: expanding paths into input files, and the documents of each input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cleaner.errors import InputError
from cleaner.sources import expand_inputs

NOT_ROOT = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root reads anything"
)


def tree(root: Path, files: dict[str, bytes]) -> Path:
    """Write files (relative paths) under root; return root."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def names(items: list[str | InputError], root: Path) -> list[str]:
    """Paths relative to root, errors as 'error: <message>'."""
    return [
        f"error: {item}" if isinstance(item, InputError) else str(Path(item).relative_to(root))
        for item in items
    ]


# --- expand_inputs ------------------------------------------------------------------------------

CRAWL = {
    "b.txt": b"b",
    "a/z.txt": b"z",
    "a/b/c.html": b"c",
    "a/a.txt": b"a",
    "c.jsonl": b"{}",
    ".hidden.txt": b"h",
    "a/.cache/x.txt": b"x",
    "a/10.txt": b"10",
    "a/9.txt": b"9",
}


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("*", ["a/10.txt", "a/9.txt", "a/a.txt", "a/b/c.html", "a/z.txt", "b.txt", "c.jsonl"]),
        ("*.txt", ["a/10.txt", "a/9.txt", "a/a.txt", "a/z.txt", "b.txt"]),
        ("b/*.html", ["a/b/c.html"]),
        ("*.warc.gz", []),
    ],
    ids=["all-sorted-depth-first", "suffix-any-depth", "folder-pattern", "no-match"],
)
def test_directory_walk(tmp_path: Path, glob: str, expected: list[str]) -> None:
    root = tree(tmp_path / "crawl", CRAWL)
    assert names(list(expand_inputs([str(root)], glob=glob)), root) == expected


def test_files_as_given_are_not_filtered_and_keep_order(tmp_path: Path) -> None:
    root = tree(tmp_path, {"x.html": b"x", "y.txt": b"y", ".dot.txt": b"d"})
    given = [str(root / "y.txt"), "-", str(root / "x.html"), str(root / ".dot.txt")]
    assert list(expand_inputs(given, glob="*.txt")) == given


def test_directory_order_is_deterministic(tmp_path: Path) -> None:
    root = tree(tmp_path, {f"d{i % 7}/f{i}.txt": b"x" for i in range(60)})
    first = [str(p) for p in expand_inputs([str(root)])]
    assert first == [str(p) for p in expand_inputs([str(root)])]
    assert first == sorted(first, key=lambda p: Path(p).relative_to(root).parts)
    assert len(first) == 60


def test_missing_path_is_an_error_item_and_the_rest_goes_on(tmp_path: Path) -> None:
    root = tree(tmp_path, {"ok.txt": b"ok"})
    items = list(expand_inputs([str(root / "nope.txt"), str(root / "ok.txt")]))
    assert isinstance(items[0], InputError)
    assert str(items[0]) == f"{root / 'nope.txt'}: no such file or directory"
    assert items[1] == str(root / "ok.txt")


def test_symlink_loop_is_reported_not_followed(tmp_path: Path) -> None:
    root = tree(tmp_path / "site", {"news/a.txt": b"a", "news/deep/b.txt": b"b"})
    (root / "news" / "deep" / "up").symlink_to(root / "news")
    (root / "self").symlink_to(root)
    items = names(list(expand_inputs([str(root)])), root)
    assert items == [
        "news/a.txt",
        "news/deep/b.txt",
        f"error: {root / 'news/deep/up'}: symbolic link loop (leads back to a folder above it)",
        f"error: {root / 'self'}: symbolic link loop (leads back to a folder above it)",
    ]


def test_link_to_a_sibling_folder_is_followed(tmp_path: Path) -> None:
    root = tree(tmp_path / "site", {"real/a.txt": b"a"})
    (root / "alias").symlink_to(root / "real")
    assert names(list(expand_inputs([str(root)])), root) == ["alias/a.txt", "real/a.txt"]


def test_self_referencing_symlink_given_directly(tmp_path: Path) -> None:
    link = tmp_path / "loop"
    link.symlink_to(link)
    [item] = list(expand_inputs([str(link)]))
    assert isinstance(item, InputError)
    assert str(item) == f"{link}: symbolic link loop"


def test_broken_link_in_folder(tmp_path: Path) -> None:
    root = tree(tmp_path / "d", {"a.txt": b"a"})
    (root / "gone.txt").symlink_to(root / "missing.txt")
    items = names(list(expand_inputs([str(root)])), root)
    assert items == [
        "a.txt",
        f"error: {root / 'gone.txt'}: broken symbolic link (its target does not exist)",
    ]


def test_fifo_in_folder_is_refused_not_opened(tmp_path: Path) -> None:
    root = tree(tmp_path / "d", {"a.txt": b"a"})
    os.mkfifo(root / "pipe.txt")
    items = names(list(expand_inputs([str(root)])), root)
    assert items == ["a.txt", f"error: {root / 'pipe.txt'}: not a regular file (FIFO, device or "
                               "socket); skipped"]


@NOT_ROOT
def test_unreadable_file_and_folder(tmp_path: Path) -> None:
    root = tree(tmp_path / "d", {"a.txt": b"a", "locked/b.txt": b"b", "secret.txt": b"s"})
    (root / "secret.txt").chmod(0)
    (root / "locked").chmod(0)
    try:
        items = names(list(expand_inputs([str(root)])), root)
    finally:
        (root / "locked").chmod(0o755)
    assert items == [
        "a.txt",
        f"error: {root / 'locked'}: permission denied",
        f"error: {root / 'secret.txt'}: permission denied",
    ]


def test_deep_tree_does_not_recurse(tmp_path: Path) -> None:
    # 1,200 nested folders: more than Python's recursion limit, if the walk recursed.
    deep = tmp_path
    for _ in range(1200):  # level by level: pathlib's mkdir(parents=True) itself recurses
        deep = deep / "d"
        deep.mkdir()
    (deep / "end.txt").write_bytes(b"end")
    try:
        assert list(expand_inputs([str(tmp_path)])) == [str(deep / "end.txt")]
    finally:
        # Remove it bottom-up: pytest's own clean-up of old tmp folders recurses, and fails.
        (deep / "end.txt").unlink()
        while deep != tmp_path:
            deep.rmdir()
            deep = deep.parent
