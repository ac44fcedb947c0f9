"""Annotated dumps (the JSONL format of docs/LABELS.md): read, write and split by page."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from cleaner.errors import DataError
from cleaner.types import AnnotatedDump, Label, Line

# A page id inside a dump id: "l3s-0007", "dragnet-0123" ("extracted:l3s-0007", "a+b+c").
_PAGE_ID = re.compile(r"[A-Za-z0-9_.-]+-\d+")
# Share of page groups held out for evaluation (see held_out()).
HOLDOUT_PERCENT = 20


def parse_dump(obj: Any, *, where: str = "<data>") -> AnnotatedDump:
    """Turn one decoded JSON object of the annotated format into an AnnotatedDump."""
    if not isinstance(obj, dict) or not isinstance(obj.get("lines"), list):
        raise DataError(f"{where}: not an annotated dump (an object with a 'lines' list)")
    lines: list[Line] = []
    pages: list[int] = []
    blank = 0
    for i, item in enumerate(obj["lines"], start=1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise DataError(f"{where}: line {i} has no 'text' string")
        text = item["text"]
        if not text.strip():
            blank += 1
            continue
        try:
            label = Label(str(item.get("label")))
        except ValueError:
            raise DataError(f"{where}: line {i} has label {item.get('label')!r}") from None
        page = item.get("page", 0)
        if not isinstance(page, int) or isinstance(page, bool) or page < 0:
            raise DataError(f"{where}: line {i} has page {page!r}")
        lines.append(Line(number=i, text=text, blank_before=blank, label=label, p=1.0))
        pages.append(page)
        blank = 0
    return AnnotatedDump(
        id=str(obj.get("id", where)),
        kind=str(obj.get("kind", "page")),
        origin=str(obj.get("origin", "")),
        lines=tuple(lines),
        pages=tuple(pages),
    )


def read_dumps(path: str | Path) -> Iterator[AnnotatedDump]:
    """Yield the annotated dumps of a JSONL file, naming file and line on malformed input."""
    try:
        with Path(path).open(encoding="utf-8") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except json.JSONDecodeError as err:
                    raise DataError(f"{path}:{number}: invalid JSON ({err.msg})") from None
                yield parse_dump(obj, where=f"{path}:{number}")
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None


def dump_to_json(dump: AnnotatedDump) -> dict[str, Any]:
    """The JSON object of a dump, blank lines restored with label null."""
    out: list[dict[str, Any]] = []
    for line, page in zip(dump.lines, dump.pages, strict=True):
        out.extend({"text": "", "label": None, "page": None} for _ in range(line.blank_before))
        label = line.label.value if line.label is not None else None
        out.append({"text": line.text, "label": label, "page": page})
    return {"id": dump.id, "origin": dump.origin, "kind": dump.kind, "lines": out}


def page_ids(dump_id: str) -> list[str]:
    """The page ids a dump is built from ("extracted:l3s-1+dragnet-2" -> both ids)."""
    found = _PAGE_ID.findall(dump_id)
    return found or [dump_id]


def _groups(dumps: Sequence[AnnotatedDump]) -> dict[str, str]:
    """Map each page id to its group: pages joined in any dump share one (union-find)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for dump in dumps:
        ids = page_ids(dump.id)
        for other in ids[1:]:
            a, b = find(ids[0]), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
        find(ids[0])
    return {page: find(page) for page in parent}


def held_out(dumps: Sequence[AnnotatedDump], *, percent: int = HOLDOUT_PERCENT) -> list[bool]:
    """Which dumps are held out for evaluation: a page and every dump that uses it fall together.

    Pages are grouped so that a page's `page`, `extracted` and `concat`/`bare` dumps, and the other
    pages of that concat/bare dump, are all on one side; a group is held out when the SHA-256 of its
    smallest page id falls in the first `percent` of 100 buckets. Stable across runs and machines.
    """
    group = _groups(dumps)
    out = []
    for dump in dumps:
        root = group[page_ids(dump.id)[0]]
        bucket = int(hashlib.sha256(root.encode()).hexdigest()[:8], 16) % 100
        out.append(bucket < percent)
    return out


def write_dumps(dumps: Iterable[AnnotatedDump], path: str | Path) -> None:
    """Write dumps as annotated JSONL."""
    with Path(path).open("w", encoding="utf-8") as handle:
        for dump in dumps:
            handle.write(json.dumps(dump_to_json(dump), ensure_ascii=False) + "\n")
