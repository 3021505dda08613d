"""Helpers for the hand-written per-format tests: parse one capture of tests/fixtures/."""

from __future__ import annotations

import portcheck
from portcheck import Socket
from tests.support import golden


def parse_fixture(relative: str) -> list[Socket]:
    """The records `parse` makes of tests/fixtures/<relative>, with its tool and platform."""
    capture = golden.FIXTURES / relative
    return portcheck.parse(
        golden.read_capture(capture),
        tool=golden.tool_of(capture),
        platform=golden.platform_of(capture),
    )


def row(sockets: list[Socket], port: int, pid: int | None = None) -> Socket:
    """The one record on local `port` (and `pid`, when given)."""
    found = [s for s in sockets if s.local.port == port and (pid is None or s.pid == pid)]
    assert len(found) == 1, found
    return found[0]
