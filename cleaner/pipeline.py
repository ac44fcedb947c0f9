"""The whole job for a batch of documents: read -> features -> label -> segment -> records."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from cleaner.label import Model, label_many, load_model
from cleaner.read import split_lines
from cleaner.records import build_records
from cleaner.segment import segment_many
from cleaner.types import CONTENT_LABELS, Document, Line, Record


@dataclass(frozen=True, slots=True)
class Cleaned:
    """What cleaning one document gives: every labelled line, its article, and the records."""

    source: str
    lines: tuple[Line, ...]  # every non-blank line, labelled
    articles: tuple[int | None, ...]  # record index of each line, None for a dropped line
    records: tuple[Record, ...]

    @property
    def dropped(self) -> tuple[Line, ...]:
        """The lines that went into no record (teasers, comments, boilerplate)."""
        return tuple(line for line, k in zip(self.lines, self.articles, strict=True) if k is None)


@lru_cache(maxsize=1)
def shipped_model() -> Model:
    """The shipped model, loaded (and verified) once per process: it is read-only."""
    return load_model()


@contextmanager
def one_thread() -> Iterator[None]:
    """Run OpenMP code (scikit-learn's gradient-boosted predict) on one thread.

    A loaded model predicts from its numpy form (cleaner.arrays), which runs none; a Model made
    of freshly fitted estimators (bench.recipe, bench.weak) still predicts with scikit-learn,
    whose predict runs a short parallel loop per tree; on batches this size waking threads costs
    more than it saves, and on a busy machine spinning threads made one-file runs 4x slower.
    Parallelism belongs across documents, not inside one model call.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def label_and_segment(
    dumps: Sequence[Sequence[Line]], model: Model,
    *, comments_from: Sequence[int | None] | None = None,
) -> tuple[list[list[Line]], list[list[int]]]:
    """The labelled lines and the article index of each line, for a batch of split dumps.

    `comments_from`: per dump, where its page's comment section starts (label_many).
    """
    with one_thread():
        labelled = label_many(dumps, model, comments_from=comments_from)
        segments = segment_many(labelled, model=model.estimators["boundary"],
                                position=model.estimators["position"],
                                cuts=model.estimators.get("cuts"))
    return labelled, segments


def clean_documents(
    documents: Sequence[Document], *, model: Model | None = None, detect_language: bool = True
) -> list[Cleaned]:
    """Clean a batch of documents; each stage runs once over the batch, which is much faster."""
    model = model if model is not None else shipped_model()
    labelled, segments = label_and_segment(
        [split_lines(doc.text) for doc in documents], model,
        comments_from=[doc.comments_from for doc in documents],
    )
    out = []
    for doc, lines, segs in zip(documents, labelled, segments, strict=True):
        records = build_records(
            lines, segs, source=doc.source, detect=detect_language, url=doc.url, date=doc.date
        )
        articles = tuple(seg if line.label in CONTENT_LABELS else None
                         for line, seg in zip(lines, segs, strict=True))
        out.append(Cleaned(doc.source, tuple(lines), articles, tuple(records)))
    return out


def clean(text: str, *, source: str = "<text>", model: Model | None = None) -> list[Record]:
    """The article records of one raw dump."""
    return list(clean_documents([Document(source, text)], model=model)[0].records)


def label_lines(text: str | Sequence[Line], *, model: Model | None = None) -> list[Line]:
    """Every non-blank line of a raw dump (or of already split lines), labelled; no segmenting."""
    model = model if model is not None else shipped_model()
    lines = split_lines(text) if isinstance(text, str) else list(text)
    with one_thread():
        return label_many([lines], model)[0]
