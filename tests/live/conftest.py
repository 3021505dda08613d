"""What the live tests share: the backend to look through, and whether this runs as root."""

from __future__ import annotations

import os

import pytest

from portcheck._run import SystemRunner

BACKENDS = ["procfs", "ss", "lsof", "netstat", None]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _installed(tool: str | None) -> bool:
    return tool in (None, "procfs") or SystemRunner().which(tool) is not None


@pytest.fixture(params=BACKENDS, ids=lambda t: t or "default")
def backend(request: pytest.FixtureRequest) -> str | None:
    tool: str | None = request.param
    if not _installed(tool):
        pytest.skip(f"{tool} is not installed (CI installs it)")
    return tool
