"""bench.noise: body-vs-rest F1 with and without the lines whose gold label looks wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from planting import plant_comment_errors

from bench.noise import body_f1, noise_report, table
from cleaner.annotated import read_dumps
from cleaner.evaluate import evaluate_model
from cleaner.label import Model
from cleaner.types import LABELS, Label

GATE = Path(__file__).resolve().parent.parent / "fixtures" / "annotated" / "gate.jsonl"
BODY, COMMENT = LABELS.index(Label.BODY), LABELS.index(Label.COMMENT)


def test_body_f1_by_hand() -> None:
    gold = np.array([BODY, BODY, COMMENT, COMMENT])
    pred = np.array([BODY, COMMENT, BODY, COMMENT])
    assert body_f1(gold, pred) == pytest.approx(0.5)  # tp 1, fp 1, fn 1
    assert body_f1(gold, gold) == 1.0
    assert body_f1(np.array([COMMENT]), np.array([COMMENT])) == 0.0


def test_report_agrees_with_eval_and_finds_planted_gold_errors(model: Model) -> None:
    gate = list(read_dumps(GATE))
    clean = noise_report(gate, model)
    assert clean.body_f1 == pytest.approx(evaluate_model(gate, model)["all"].lines.body_f1)
    assert clean.lines == sum(len(d.lines) for d in gate)
    assert clean.contradicted_errors <= min(clean.contradicted, clean.errors)
    assert clean.worst_group_errors <= clean.errors
    # Long paragraphs whose gold says "comment": the model disagrees, and is sure of it.
    relabelled, rows = plant_comment_errors(gate, lambda k: k < 4)
    assert len(rows) == 4
    planted = noise_report(relabelled, model)
    assert planted.errors == clean.errors + 4
    assert planted.contradicted_errors >= clean.contradicted_errors + 3
    assert planted.body_f1 < clean.body_f1 <= planted.body_f1_without_contradicted + 0.01
    row = table(planted).splitlines()[2]
    assert row.startswith(f"| {planted.lines:,} | {planted.errors:,} | {planted.body_f1:.3f} |")


def test_report_does_not_depend_on_dump_order(model: Model) -> None:
    gate = list(read_dumps(GATE))
    assert noise_report(gate, model) == noise_report(gate[::-1], model)
