"""Every capture in tests/fixtures/ parses to exactly its golden expected file.

Regenerate after a deliberate parser change with `python -m tools.regen`, then
review the diff of the .expected.json files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import golden


@pytest.mark.parametrize(
    "capture", golden.captures(), ids=lambda p: str(p.relative_to(golden.FIXTURES))
)
def test_capture_matches_golden(capture: Path) -> None:
    expected_file = golden.expected_path(capture)
    assert expected_file.exists(), f"no golden file; run python -m tools.regen {capture}"
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    assert golden.parsed(capture) == expected


def test_every_capture_is_found() -> None:
    # A glob that silently matched nothing would make the test above vacuous.
    assert len(golden.captures()) >= 5
