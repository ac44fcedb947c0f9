"""The fuzz target of tests/fuzz_read.py under pytest: kept findings, then random bytes.

`make fuzz` runs the target under atheris (coverage-guided); here it runs on every input kept
in tests/regressions/read/ (each once crashed a reader) and, as the fallback where atheris is
missing, on Hypothesis's random bytes: HYPOTHESIS_PROFILE=fuzz runs 20,000 examples.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz_read import check_input
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REGRESSIONS = sorted((Path(__file__).resolve().parent / "regressions" / "read").iterdir())
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Bytes that reach past the first checks: HTML openings, BOMs, charset declarations, CR runs.
MARKUP = (
    b"<!doctype html>", b"<html>", b"<head>", b"<title>", b"</title>", b"<body>", b"<p>",
    b"</p>", b"<br>", b"<div>", b"<article>", b"<h1>", b"<script>", b"<!--", b"-->", b"<?xml ",
    b'<meta charset="koi8-r">', b'encoding="utf-16"?>', b"\xef\xbb\xbf", b"\xff\xfe", b"\r\n",
    b"\r", b"&amp;", b"&#0;", b"&#x110000;", b"<across,>", b"<a b:c:d='1'>", b"\x00",
)  # fmt: skip
markup_bytes = st.lists(st.one_of(st.sampled_from(MARKUP), st.binary(max_size=40)), max_size=40)


def test_regressions_are_kept() -> None:
    assert REGRESSIONS, "tests/regressions/read/ holds the inputs the fuzzer found"


@pytest.mark.parametrize("path", REGRESSIONS, ids=lambda p: p.name)
def test_kept_finding_is_handled(path: Path) -> None:
    check_input(path.read_bytes())


@PROPERTY
@given(data=st.binary(max_size=4_000))
def test_random_bytes(data: bytes) -> None:
    check_input(data)


@PROPERTY
@given(parts=markup_bytes)
def test_random_markup(parts: list[bytes]) -> None:
    check_input(b"".join(parts))
