"""Every capture in tests/fixtures/ parses to exactly its golden expected file.

A golden file records the parser module that made it and that module's
FORMAT_VERSION. A parser whose output changes fails here with a unified diff
(one socket per line); after a deliberate change, raise FORMAT_VERSION in the
module, run `python -m tools.regen` (it refuses to rewrite a changed file at
an unchanged version) and review the diff of the .expected.json files by eye
against the captures. The behaviours that matter most are also pinned by
hand-written assertions in tests/parsers/test_<format>.py, which no
regeneration touches.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from portcheck._parsers import PARSERS
from tests.support import golden


@pytest.mark.parametrize(
    "capture", golden.captures(), ids=lambda p: str(p.relative_to(golden.FIXTURES))
)
def test_capture_matches_golden(capture: Path) -> None:
    expected_file = golden.expected_path(capture)
    assert expected_file.exists(), f"no golden file; run python -m tools.regen {capture}"
    expected = golden.read_expected(capture)
    actual = golden.document(capture)
    assert expected.get("parser") == actual["parser"], (
        f"{expected_file} was made by parser {expected.get('parser')!r}, "
        f"{capture.name} is now read by {actual['parser']!r}"
    )
    if expected.get("format_version") != actual["format_version"]:
        pytest.fail(
            f"{expected_file} records {actual['parser']} format "
            f"{expected.get('format_version')}, the parser is at {actual['format_version']}: "
            "run python -m tools.regen and review the diff\n"
            + golden.diff(expected, actual, capture.name)
        )
    if expected["sockets"] != actual["sockets"]:
        pytest.fail(
            f"{capture.name} no longer parses to its golden file (format "
            f"{actual['format_version']} unchanged):\n"
            + golden.diff(expected, actual, capture.name)
        )


def test_every_capture_has_a_tool() -> None:
    # A capture whose name maps to no tool would be skipped in silence.
    for capture in golden.FIXTURES.rglob("*.out"):
        if capture.relative_to(golden.FIXTURES).parts[0] in golden.NOT_TOOL_OUTPUT:
            continue
        tool = golden.tool_of(capture)
        assert tool in golden.PARSE_TOOLS or tool in golden.OTHER_COMMANDS, capture


def test_every_parser_has_a_real_capture() -> None:
    # A glob that silently matched nothing would make the golden test vacuous;
    # and every format is backed by real output, on its own platform or another.
    real = {(golden.platform_of(c), golden.tool_of(c)) for c in golden.real_captures()}
    assert len(golden.real_captures()) >= 60
    for _platform, tool in PARSERS:
        assert any(t == tool for _, t in real), f"no real {tool} capture at all"
    assert ("openbsd", "fstat") in real


def test_diff_shows_the_changed_row() -> None:
    before = {"parser": "p", "format_version": 1, "sockets": [{"pid": 1}, {"pid": 2}]}
    after = {"parser": "p", "format_version": 1, "sockets": [{"pid": 1}, {"pid": 3}]}
    text = golden.diff(before, after, "x.out")
    assert '-  {"pid": 2}' in text
    assert '+  {"pid": 3}' in text
    assert '{"pid": 1}' in text.replace('-  {"pid": 1}', "")  # context, not a change
