"""Do weak labels of a site's own pages raise the scores on held-out pages of that site?

    python -m bench.weak --corpus ../shared/corpus/train.jsonl [--site nfl-blogs] [--sample 100]

One site's pages are split by page id: the first half is weak-labelled (`cleaner.weak`, as
`cleaner weak-label --use-model` does; no gold label is used), the second half is for evaluation.
Two labellers are trained with the same reduced recipe and seed (`cleaner.train.fit_labeller` on a
seeded sample of the corpus without any dump of that site, 2 folds, so that a run takes minutes,
not the 10-25 of `make train`):

  base        the sample;
  base+weak   the sample plus the weak-labelled pages (each as a `page` and an `extracted` dump,
              as `cleaner weak-label` writes them), at the weight `cleaner train` gives extra files.

(--arm structure adds a third arm with weak labels from the markup rules alone, --arm gold one
with the same pages' gold labels: the ceiling.) Each is scored on the evaluation half's `page`
and `extracted` dumps with `cleaner.evaluate` (line labels only: each dump holds one page, so
segmentation is trivially right). The weak labels themselves are also scored against the gold
labels of the pages they were made for, beside the base model's own labels of those pages.

The corpus holds text dumps, not HTML. A `page` dump is "one line per block element's own text",
so the honest rebuild is its lines re-wrapped as block elements: each line becomes one <p>. That
page has none of the markup the weak labeller's rules read (no title or h1, no comment/related/
byline classes, no <time>, no JSON-LD or OpenGraph). What is left: trafilatura's main-text
detection, the site-furniture rule (lines repeated across the site's pages are boilerplate), and
the base model's labels where those say nothing (`--use-model`: headline/byline inside the main
text, any label when the model is confident). So this measures self-training on a site's pages
with trafilatura and repetition as the structural evidence, a weaker setting than real HTML.
"""

from __future__ import annotations

import argparse
import html
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cleaner.annotated import page_ids, read_dumps
from cleaner.errors import CleanerError
from cleaner.evaluate import Prediction, Scores, evaluate
from cleaner.features import vocabulary
from cleaner.label import Model, label_many
from cleaner.train import DEFAULT_SEED, FIXTURE_WEIGHT, fit_labeller
from cleaner.types import AnnotatedDump, Label
from cleaner.weak import WeakLabelError, demote_repeated, extracted_view, weak_label_html

# Sites with many pages in the corpus: Dragnet ids in a run come from one site (found by the
# navigation lines their `page` dumps share); (source, first id, last id).
SITES: dict[str, tuple[str, int, int]] = {
    "nfl-blogs": ("dragnet", 799, 821),  # blogs.nfl.com, 23 pages
    "web-ink-now": ("dragnet", 963, 979),  # a marketing blog, 11 pages in the corpus
}
DEFAULT_SITE = "nfl-blogs"
# Corpus dumps in the base training sample: small enough for a few minutes on 2 cores.
SAMPLE = 100
FOLDS = 2
EVAL_KINDS = ("page", "extracted")
ARMS = ("base", "base+weak", "base+gold")


@dataclass(frozen=True)
class Split:
    """A site's pages split for the experiment, and the corpus without that site."""

    weak_pages: tuple[AnnotatedDump, ...]  # `page` dumps of the first half (their HTML rebuilt)
    gold_pages: tuple[AnnotatedDump, ...]  # the same pages with gold labels
    gold_train: tuple[AnnotatedDump, ...]  # their `page` and `extracted` dumps (gold arm)
    evaluation: tuple[AnnotatedDump, ...]  # `page` and `extracted` dumps of the second half
    rest: tuple[AnnotatedDump, ...]  # every dump that shares no page with the site


def site_page_ids(site: str) -> list[str]:
    """The page ids of a site, in id order."""
    source, first, last = SITES[site]
    return [f"{source}-{n:04d}" for n in range(first, last + 1)]


def split_site(corpus: Sequence[AnnotatedDump], site: str) -> Split:
    """Split a site's pages in two halves by page id; the rest of the corpus without them."""
    ids = site_page_ids(site)
    pages = {d.id: d for d in corpus if d.kind == "page"}
    # The corpus dropped some pages of a run (README: filtering): halve the pages it has.
    present = [i for i in ids if i in pages]
    first = set(present[: (len(present) + 1) // 2])
    second = set(present) - first
    touches = [set(page_ids(d.id)) & set(ids) for d in corpus]
    return Split(
        weak_pages=tuple(pages[i] for i in sorted(first) if i in pages),
        gold_pages=tuple(pages[i] for i in sorted(first) if i in pages),
        gold_train=tuple(d for d, t in zip(corpus, touches, strict=True)
                         if d.kind in EVAL_KINDS and len(t) == 1 and t <= first),
        evaluation=tuple(d for d, t in zip(corpus, touches, strict=True)
                         if d.kind in EVAL_KINDS and len(t) == 1 and t <= second),
        rest=tuple(d for d, t in zip(corpus, touches, strict=True) if not t),
    )


def rebuilt_html(dump: AnnotatedDump) -> str:
    """A page dump's lines re-wrapped as block elements: the only structure the corpus keeps."""
    paragraphs = "\n".join(f"<p>{html.escape(line.text, quote=False)}</p>" for line in dump.lines)
    return f"<!DOCTYPE html>\n<html><body>\n{paragraphs}\n</body></html>\n"


def weak_dumps(
    pages: Sequence[AnnotatedDump], *, model: Model | None = None
) -> tuple[list[AnnotatedDump], list[str]]:
    """Weak-labelled dumps of the rebuilt pages (page and extracted views), and pages refused."""
    out, refused, rebuilt = [], [], {}
    for page in pages:
        rebuilt[page.id] = rebuilt_html(page)
        try:
            out.append(weak_label_html(rebuilt[page.id], source=page.id, model=model))
        except WeakLabelError as err:
            refused.append(str(err))
    # As `cleaner weak-label` does: each page as a `page` dump and as cleaner reads its HTML.
    views = [view for dump in demote_repeated(out)
             for view in (dump, extracted_view(rebuilt[dump.id], dump))]
    return views, refused


def fit(dumps: Sequence[AnnotatedDump], weights: Sequence[float], *, seed: int) -> Model:
    """A two-stage labeller trained with the reduced recipe (no segmenter: lines only)."""
    estimators, _ = fit_labeller(dumps, weights, seed=seed, folds=FOLDS)
    return Model(estimators, {}, vocabulary())


def score(model: Model, dumps: Sequence[AnnotatedDump]) -> Scores:
    """Line-label scores of a labeller on gold dumps (each dump one segment)."""
    predictions = []
    for lines in label_many([d.lines for d in dumps], model):
        labels = tuple(line.label or Label.BOILERPLATE for line in lines)
        predictions.append(Prediction(labels=labels, segments=(0,) * len(labels)))
    return evaluate(zip(dumps, predictions, strict=True))


def model_labelled(model: Model, dumps: Sequence[AnnotatedDump]) -> list[AnnotatedDump]:
    """Copies of dumps with a model's labels instead of theirs."""
    return [replace(d, lines=tuple(lines))
            for d, lines in zip(dumps, label_many([d.lines for d in dumps], model), strict=True)]


def weak_label_quality(weak: Sequence[AnnotatedDump], gold: Sequence[AnnotatedDump]) -> Scores:
    """Labels scored against the gold labels of the same pages (where the lines align)."""
    by_id = {d.id: d for d in gold}
    pairs = []
    for dump in weak:
        truth = by_id.get(dump.id)
        if truth is None:  # an extracted view: its lines are not the gold dump's
            continue
        if [ln.text for ln in dump.lines] != [ln.text for ln in truth.lines]:
            continue
        labels = tuple(ln.label or Label.BOILERPLATE for ln in dump.lines)
        pairs.append((truth, Prediction(labels=labels, segments=(0,) * len(labels))))
    return evaluate(pairs)


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def body_f1(scores: Scores) -> float | None:
    return scores.lines.body_f1


def macro_f1(scores: Scores) -> float | None:
    return scores.lines.macro_f1


def table(results: dict[str, dict[str, Scores]]) -> str:
    """Markdown: one row per arm, body-vs-rest F1 and macro-F1 per evaluation kind, and the
    difference of each arm to the base."""
    kinds = [*EVAL_KINDS, "all"]
    head = ["arm"] + [f"{m} {k}" for k in kinds for m in ("body F1", "macro-F1")]
    rows = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    base = results["base"]
    for arm, scores in results.items():
        cells = []
        for kind in kinds:
            for get in (body_f1, macro_f1):
                value, reference = get(scores[kind]), get(base[kind])
                if arm == "base" or value is None or reference is None:
                    cells.append(_f(value))
                else:
                    cells.append(f"{value:.3f} ({value - reference:+.3f})")
        rows.append(f"| {arm} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def cached_fit(
    dumps: Sequence[AnnotatedDump], *, seed: int, cache: Path | None, name: str
) -> Model:
    """fit() of dumps at weight 1, kept in `cache` (a directory) for reruns when one is given."""
    import joblib

    path = cache / f"{name}.joblib" if cache is not None else None
    if path is not None and path.exists():
        return Model(joblib.load(path), {}, vocabulary())
    model = fit(dumps, [1.0] * len(dumps), seed=seed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(model.estimators, path)
    return model


def run(
    corpus_path: Path,
    *,
    site: str,
    sample: int,
    seed: int,
    extra_arms: Sequence[str] = (),
    cache: Path | None = None,
    labels_only: bool = False,
) -> dict[str, Any]:
    """The whole experiment; prints as it goes and returns the scores."""
    started = time.time()

    def progress(message: str) -> None:
        print(f"  [{time.time() - started:4.0f} s] {message}", file=sys.stderr, flush=True)

    print("note: the corpus holds text dumps, not HTML: each page is rebuilt as one <p> per line "
          "of its page dump, which keeps none of the markup the weak labeller's rules read; weak "
          "labels here come from trafilatura's main text, repeated site furniture and the base "
          "model's confident labels (cleaner weak-label --use-model)")
    corpus = list(read_dumps(corpus_path))
    split = split_site(corpus, site)
    base = random.Random(seed).sample(list(split.rest), min(sample, len(split.rest)))
    n_eval = len({page_ids(d.id)[0] for d in split.evaluation})
    print(f"site {site}: {len(split.weak_pages)} pages to weak-label, {len(split.evaluation)} "
          f"evaluation dumps ({', '.join(EVAL_KINDS)}) of the other {n_eval} pages; "
          f"base: a sample of "
          f"{len(base)} of the {len(split.rest)} corpus dumps without the site; seed {seed}, "
          f"{FOLDS} folds")
    models = {"base": cached_fit(base, seed=seed, cache=cache,
                                 name=f"base-{site}-{len(base)}-{seed}")}
    progress("trained base")
    weak, refused = weak_dumps(split.weak_pages, model=models["base"])
    for reason in refused:
        print(f"  refused: {reason}")
    extras: dict[str, list[AnnotatedDump]] = {"base+weak": weak}
    quality = {"base model": weak_label_quality(model_labelled(models["base"], split.gold_pages),
                                                split.gold_pages),
               "weak labels": weak_label_quality(weak, split.gold_pages)}
    if "structure" in extra_arms:
        extras["base+weak (structure only)"] = weak_dumps(split.weak_pages)[0]
        quality["weak labels, structure only"] = weak_label_quality(
            extras["base+weak (structure only)"], split.gold_pages)
    if "gold" in extra_arms:
        extras["base+gold"] = list(split.gold_train)
    print("\nLabels of the weak-labelled pages against their gold labels:\n")
    print("| labels | body P | body R | body F1 | macro-F1 |\n|---|---:|---:|---:|---:|")
    for name, q in quality.items():
        print(f"| {name} | {q.lines.body_precision:.3f} | {q.lines.body_recall:.3f} | "
              f"{q.lines.body_f1:.3f} | {_f(q.lines.macro_f1)} |")
    if labels_only:
        return {}
    for arm, extra in extras.items():
        weights = [1.0] * len(base) + [FIXTURE_WEIGHT] * len(extra)
        models[arm] = fit([*base, *extra], weights, seed=seed)
        progress(f"trained {arm}")
    results: dict[str, dict[str, Scores]] = {}
    for arm, model in models.items():
        results[arm] = {kind: score(model, [d for d in split.evaluation if d.kind == kind])
                        for kind in EVAL_KINDS}
        results[arm]["all"] = score(model, split.evaluation)
    print(f"\nHeld-out pages of {site} (line labels; difference to base in brackets):\n")
    print(table(results))
    return {arm: {kind: s.to_dict() for kind, s in kinds.items()} for arm, kinds in results.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point of python -m bench.weak."""
    parser = argparse.ArgumentParser(prog="python -m bench.weak",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="annotated corpus (JSONL)")
    parser.add_argument("--site", choices=sorted(SITES), default=DEFAULT_SITE)
    parser.add_argument("--sample", type=int, default=SAMPLE, help="base training dumps")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--arm", action="append", choices=["structure", "gold"], default=[],
                        help="also train with structure-only weak labels / the gold labels")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep the base model in this directory for reruns")
    parser.add_argument("--labels-only", action="store_true",
                        help="stop after scoring the weak labels (no retraining)")
    args = parser.parse_args(argv)
    try:
        run(args.corpus, site=args.site, sample=args.sample, seed=args.seed, extra_arms=args.arm,
            cache=args.cache, labels_only=args.labels_only)
    except CleanerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
