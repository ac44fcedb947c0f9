"""The whole job for one document: read -> features -> label -> segment -> records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cleaner.label import Model, apply_labels, load_model, predict_proba_many
from cleaner.read import split_lines
from cleaner.records import build_records
from cleaner.segment import segment
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


def clean_documents(
    documents: Sequence[Document], *, model: Model | None = None, detect_language: bool = True
) -> list[Cleaned]:
    """Clean a batch of documents; labelling runs once over the batch, which is much faster."""
    model = model if model is not None else load_model()
    split = [split_lines(doc.text) for doc in documents]
    probs = predict_proba_many(split, model)
    out = []
    for doc, lines, p in zip(documents, split, probs, strict=True):
        labelled = apply_labels(lines, p)
        segments = segment(labelled, model=model.estimators["boundary"])
        records = build_records(labelled, segments, source=doc.source, detect=detect_language)
        articles = tuple(seg if line.label in CONTENT_LABELS else None
                         for line, seg in zip(labelled, segments, strict=True))
        out.append(Cleaned(doc.source, tuple(labelled), articles, tuple(records)))
    return out


def clean(text: str, *, source: str = "<text>", model: Model | None = None) -> list[Record]:
    """The article records of one raw dump."""
    return list(clean_documents([Document(source, text)], model=model)[0].records)


def label_lines(text: str | Sequence[Line], *, model: Model | None = None) -> list[Line]:
    """Every non-blank line of a raw dump (or of already split lines), labelled; no segmenting."""
    model = model if model is not None else load_model()
    lines = split_lines(text) if isinstance(text, str) else list(text)
    return apply_labels(lines, predict_proba_many([lines], model)[0])
