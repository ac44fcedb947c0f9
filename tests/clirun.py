"""Helpers of the tests that drive the `cleaner` command line through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from cleaner.cli import cleaner

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: str | Path, stdin: bytes | None = None) -> Result:
    """Run `cleaner ARGS...`; exceptions other than SystemExit propagate (a traceback is a bug)."""
    return CliRunner(catch_exceptions=False).invoke(cleaner, [str(a) for a in args], input=stdin)


def rows(text: str) -> list[dict[str, Any]]:
    """The objects of a JSON Lines text."""
    return [json.loads(line) for line in text.splitlines()]
