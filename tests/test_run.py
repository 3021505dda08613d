"""The runner: how tools are found and started, and that a timeout leaves nothing behind."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from portcheck import ToolError, ToolTimeoutError
from portcheck._run import SystemRunner

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX tools")


def _script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


@posix_only
def test_which_searches_sbin_dirs_missing_from_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    found = SystemRunner().which("sh")
    assert found is not None
    assert os.path.isabs(found)


@posix_only
def test_which_ignores_relative_path_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _script(tmp_path, "portcheck-fake-tool", "echo hijacked\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", ".:")
    assert SystemRunner().which("portcheck-fake-tool") is None
    monkeypatch.setenv("PATH", str(tmp_path))
    assert SystemRunner().which("portcheck-fake-tool") == str(tmp_path / "portcheck-fake-tool")


def test_run_refuses_a_relative_argv0() -> None:
    with pytest.raises(ValueError, match="absolute path"):
        SystemRunner().run(["ss", "-tan"], timeout=1)


@posix_only
def test_child_gets_a_minimal_c_locale_environment_and_closed_stdin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORTCHECK_SECRET", "must-not-leak")
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    env = SystemRunner().run(["/usr/bin/env"], timeout=5).stdout.decode().split("\n")
    assert sorted(e for e in env if e) == [
        "LANG=C",
        "LC_ALL=C",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
    ]
    # cat on a closed (null) stdin ends at once instead of waiting for input.
    done = SystemRunner().run(["/bin/cat"], timeout=5)
    assert (done.returncode, done.stdout) == (0, b"")


@posix_only
def test_output_exit_status_and_stderr_are_returned_as_bytes(tmp_path: Path) -> None:
    tool = _script(tmp_path, "t", "printf 'out\\377'; printf 'err' >&2; exit 3\n")
    done = SystemRunner().run([str(tool)], timeout=5)
    assert (done.returncode, done.stdout, done.stderr) == (3, b"out\xff", b"err")
    assert done.argv == (str(tool),)


@posix_only
def test_large_output_on_both_streams_does_not_deadlock(tmp_path: Path) -> None:
    tool = _script(tmp_path, "t", "head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2\n")
    done = SystemRunner().run([str(tool)], timeout=10)
    assert (len(done.stdout), len(done.stderr)) == (3_000_000, 3_000_000)


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # reaped or about to be by its new parent


@posix_only
def test_timeout_kills_the_tool_and_its_children_promptly(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    tool = _script(tmp_path, "hang", f"sleep 60 & echo $! > {pidfile}; sleep 60\n")
    started = time.monotonic()
    with pytest.raises(ToolTimeoutError) as info:
        SystemRunner().run([str(tool)], timeout=0.5)
    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 1.0
    assert info.value.argv == [str(tool)]
    assert "0.5 s" in str(info.value)
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 2
    while not _gone(grandchild) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _gone(grandchild)


@posix_only
def test_timeout_is_enforced_even_when_the_tool_closes_its_output(tmp_path: Path) -> None:
    tool = _script(tmp_path, "quiet", "exec >&- 2>&-; sleep 60\n")
    with pytest.raises(ToolTimeoutError):
        SystemRunner().run([str(tool)], timeout=0.3)


def test_tool_error_message_is_bounded() -> None:
    error = ToolError(["/usr/bin/lsof", "-i"], 2, "x" * 10_000)
    text = str(error)
    assert text.startswith("/usr/bin/lsof -i exited with status 2: xxx")
    assert len(text) < 400
    assert error.returncode == 2
    assert isinstance(error, OSError)
