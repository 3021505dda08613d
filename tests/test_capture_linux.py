"""`tools/capture_linux.py`, advertised in the README: it starts its holders and writes
its captures where the fixtures live, in a form the parsers read."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import portcheck
from tools import capture_linux

ROOT = Path(__file__).resolve().parent.parent


def test_it_writes_to_the_fixtures_and_starts_the_holder() -> None:
    assert capture_linux.OUT == ROOT / "tests" / "fixtures" / "linux"
    assert capture_linux.OUT.is_dir()
    assert capture_linux.HOLDER.is_file()


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0, reason="captures as root, on Linux"
)
def test_a_capture_run_parses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture_linux.main("test-system", out=tmp_path)
    tcp = (tmp_path / "test-system--proc-net-tcp.out").read_text()
    assert tcp.splitlines()[0].split()[:2] == ["sl", "local_address"]
    ss = tmp_path / "test-system--ss-tulpn.out"
    if Path("/usr/bin/ss").exists():
        # Decoded as portcheck decodes a tool's output: any process on the machine
        # (another test's, tests/live/test_listing.py) may have a name that is not UTF-8.
        text = ss.read_bytes().decode("utf-8", errors="replace")
        found = portcheck.parse(text, tool="ss", platform="linux")
        assert any(s.process == "python3" or s.pid is not None for s in found)
    assert "test-system-as-nobody--" in capsys.readouterr().out
