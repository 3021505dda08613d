"""Hostile tools: fake `ss`, `lsof` and `netstat` placed first on PATH, driven through `who_owns`.

Each fake is a shell script in a temporary directory put at the front of PATH
(`SystemRunner.which` searches PATH before the sbin directories). The
fakes print rows for a socket this test process really holds, so "correct"
is checkable: the right port, and this process's pid. Whatever the tool does
(missing, failing, garbage, a flood, bad bytes, hanging), the answer is right
or an error derived from PortcheckError is raised: never a silent `[]`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import portcheck
from portcheck import NoToolError, ParseError, Protocol, State, ToolError, ToolTimeoutError, _run
from tests.support.ports import quiet_port

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="fake tools drive the Linux backends"
)

TOOLS = ["ss", "lsof", "netstat"]
PACKAGES = {"ss": "iproute2", "lsof": "lsof", "netstat": "net-tools"}
NETSTAT_HEADER = (
    "Active Internet connections (servers and established)\n"
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State"
    "       User       Inode      PID/Program name    \n"
)
NOT_ALL_PROCESSES = (
    "(Not all processes could be identified, non-owned process info\n"
    " will not be shown, you would have to be root to see it all.)\n"
)


@attrs.frozen
class Listener:
    """A TCP listener held by this test process: what the fakes report."""

    sock: socket.socket
    port: int
    inode: int


@pytest.fixture
def listener() -> Iterator[Listener]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield Listener(sock, sock.getsockname()[1], os.fstat(sock.fileno()).st_ino)
    finally:
        sock.close()


@attrs.frozen
class FakeBin:
    directory: Path

    def install(
        self,
        tool: str,
        *,
        stdout: bytes = b"",
        stderr: bytes = b"",
        status: int = 0,
        script: str | None = None,
    ) -> Path:
        """A fake `tool` printing `stdout`/`stderr` and exiting `status`, or running `script`."""
        out = self.directory.parent / f"{tool}.stdout"
        err = self.directory.parent / f"{tool}.stderr"
        out.write_bytes(stdout)
        err.write_bytes(stderr)
        body = script if script is not None else f"cat '{out}'\ncat '{err}' >&2\nexit {status}\n"
        path = self.directory / tool
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(0o755)
        return path


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeBin:
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ.get('PATH', '')}")
    return FakeBin(directory)


def _row(tool: str, port: int, pid: int, inode: int, name: bytes = b"fake") -> bytes:
    """One row of `tool`'s output (the backend's exact flags) for 127.0.0.1:port."""
    if tool == "ss":
        return (
            b"tcp   LISTEN 0      128        127.0.0.1:%d      0.0.0.0:*     "
            b'users:(("%s",pid=%d,fd=3)) ino:%d sk:1 cgroup:/ <->\n' % (port, name, pid, inode)
        )
    if tool == "lsof":
        return b"p%d\nc%s\nu0\nLroot\nf3\ntIPv4\nPTCP\nn127.0.0.1:%d\nTST=LISTEN\n" % (
            pid,
            name,
            port,
        )
    return NETSTAT_HEADER.encode() + (
        b"tcp        0      0 127.0.0.1:%d          0.0.0.0:*               LISTEN      0"
        b"          %d      %d/%s\n" % (port, inode, pid, name)
    )


def _assert_is_me(found: list[portcheck.Socket], port: int) -> None:
    [sock] = found
    assert (sock.protocol, sock.state, sock.local.port) == (Protocol.TCP, State.LISTEN, port)
    assert sock.pid == os.getpid()


# -- missing --------------------------------------------------------------------------


@pytest.mark.parametrize("tool", TOOLS)
def test_missing_tool_is_named_and_procfs_still_answers(
    tool: str, fake_bin: FakeBin, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(fake_bin.directory))
    monkeypatch.setattr(_run, "_EXTRA_DIRS", ())
    # A file of that name that is not executable is not the tool either.
    (fake_bin.directory / tool).write_text("#!/bin/sh\necho not me\n")
    with pytest.raises(NoToolError) as info:
        portcheck.who_owns(listener.port, tool=tool)
    assert info.value.tried == {tool: f"{tool} not found (install {PACKAGES[tool]})"}
    _assert_is_me(portcheck.who_owns(listener.port), listener.port)


# -- exits non-zero with a message ----------------------------------------------------


@pytest.mark.parametrize("tool", TOOLS)
def test_failing_tool_raises_tool_error_with_status_and_stderr(
    tool: str, fake_bin: FakeBin, listener: Listener
) -> None:
    path = fake_bin.install(
        tool, stderr=b"%s: Cannot open netlink socket: Permission denied\n" % tool.encode(),
        status=3,
    )  # fmt: skip
    with pytest.raises(ToolError) as info:
        portcheck.who_owns(listener.port, tool=tool)
    assert info.value.returncode == 3
    assert "Cannot open netlink socket" in info.value.stderr
    assert info.value.argv[0] == str(path)
    assert "status 3" in str(info.value)


# -- garbage --------------------------------------------------------------------------

GARBAGE = b"Segmentation fault\nthis is not a socket table\n\x01\x02 42 42 42\n"


@pytest.mark.parametrize("tool", ["ss", "netstat"])
def test_garbage_output_is_a_parse_error_not_free(
    tool: str, fake_bin: FakeBin, listener: Listener
) -> None:
    fake_bin.install(tool, stdout=GARBAGE)
    with pytest.raises(ParseError) as info:
        portcheck.who_owns(listener.port, tool=tool)
    assert info.value.tool == tool
    assert info.value.lineno == 1


def test_garbage_from_lsof_is_an_error_not_free(fake_bin: FakeBin, listener: Listener) -> None:
    # Output that is not field output at all: lsof ignored -F (BusyBox's does),
    # so this lsof cannot look; forced, that is NoToolError naming the reason.
    path = fake_bin.install("lsof", stdout=GARBAGE)
    with pytest.raises(NoToolError) as info:
        portcheck.who_owns(listener.port, tool="lsof")
    assert info.value.tried == {"lsof": f"{path} ignored -F (a BusyBox lsof?)"}
    # Field output with a broken field: a ParseError naming the line.
    fake_bin.install("lsof", stdout=b"p12\nuroot\nf3\n")
    with pytest.raises(ParseError) as parse_info:
        portcheck.who_owns(listener.port, tool="lsof")
    assert (parse_info.value.tool, parse_info.value.lineno, parse_info.value.line) == (
        "lsof",
        2,
        "uroot",
    )


# -- a million lines ------------------------------------------------------------------

# who_owns in a fresh interpreter, so that its peak memory is its own.
_MEASURED = """
import json, resource, sys, time
import portcheck
from portcheck._render.json import socket_to_dict
started = time.monotonic()
try:
    found = portcheck.who_owns(int(sys.argv[1]), tool=sys.argv[2])
    out = {"found": [socket_to_dict(s) for s in found]}
except portcheck.PortcheckError as exc:
    out = {"error": type(exc).__name__, "message": str(exc)}
out["seconds"] = time.monotonic() - started
out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""
MILLION = 1_000_000
# Peak memory of the measuring interpreter: about 3 times the output it read.
MAX_RSS_MB = 400
# A linear pass takes about 5 s on a quiet 2-core machine, a quadratic one hours: the
# margin is for a busy machine (CI's parallel workers share 2 cores), not for slowness.
MAX_SECONDS = 45


def _million_lines(tool: str, port: int, inode: int) -> bytes:
    row = _row(tool, port, os.getpid(), inode)
    if tool == "ss":  # indented detail lines, as `ss -i` prints under each socket
        return row + b"\t cubic wscale:7,7 rto:204\n" * (MILLION - 1)
    if tool == "lsof":  # three lines per open file that is not a socket
        return row + b"f9\ntREG\nn/var/log/x\n" * (MILLION // 3)
    # netstat: the inet rows, then a million unix-domain sockets (skipped whole)
    return (
        row
        + b"Active UNIX domain sockets (servers and established)\n"
        + b"unix  2      [ ]  DGRAM  18234 -\n" * MILLION
    )


def _measured_lookup(port: int, tool: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(port), tool],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("tool", TOOLS)
def test_a_million_lines_give_the_right_answer_in_bounded_time_and_memory(
    tool: str, fake_bin: FakeBin, listener: Listener
) -> None:
    fake_bin.install(tool, stdout=_million_lines(tool, listener.port, listener.inode))
    result = _measured_lookup(listener.port, tool)
    assert "error" not in result, result
    # The listener owns 127.0.0.1:PORT only: another process may hold the same
    # number on another address (a bound-only probe on ::1), which is not ours.
    ours = [s for s in result["found"] if s["local"]["address"] == "127.0.0.1"]
    assert [(s["local"]["port"], s["pid"]) for s in ours] == [(listener.port, os.getpid())]
    assert result["seconds"] < MAX_SECONDS
    assert result["maxrss_mb"] < MAX_RSS_MB


def test_a_million_garbage_lines_are_a_parse_error(fake_bin: FakeBin, listener: Listener) -> None:
    fake_bin.install("ss", script="yes 'tcp ESTAB 0' | head -n 1000000\n")
    result = _measured_lookup(listener.port, "ss")
    assert result["error"] == "ParseError"
    assert len(result["message"]) < 1000
    assert result["maxrss_mb"] < MAX_RSS_MB


def test_endless_output_is_cut_off_in_bounded_memory(fake_bin: FakeBin, listener: Listener) -> None:
    # Before the output limit, `yes` filled memory at about 500 MB/s until the timeout.
    fake_bin.install("ss", script="exec yes\n")
    result = _measured_lookup(listener.port, "ss")
    assert result["error"] == "ToolError"
    assert f"more than {_run.MAX_OUTPUT} bytes on stdout" in result["message"]
    assert result["seconds"] < 5
    assert result["maxrss_mb"] < MAX_RSS_MB


# -- invalid UTF-8 --------------------------------------------------------------------


def _dead_pid() -> int:
    """A pid that no process has (the last one Linux may hand out, checked free)."""
    pid = 4194303
    if Path(f"/proc/{pid}").exists():
        pytest.skip("pid 4194303 is in use")
    return pid


def test_invalid_utf8_in_a_name_is_kept_visible(fake_bin: FakeBin, listener: Listener) -> None:
    pid = _dead_pid()  # a gone process keeps the tool's name (nothing in /proc to prefer)
    fake_bin.install(
        "lsof", stdout=_row("lsof", listener.port, pid, listener.inode, b"bad\xff\xfe")
    )
    found = portcheck.who_owns(listener.port, tool="lsof")
    assert [(s.pid, s.process) for s in found if s.pid is not None] == [(pid, "bad\ufffd\ufffd")]


def test_ss_pid_that_does_not_hold_the_socket_is_replaced_by_the_real_holders(
    fake_bin: FakeBin, listener: Listener
) -> None:
    # ss prints names raw; where /proc is local every pid it names is checked.
    pid = _dead_pid()
    row = _row("ss", listener.port, pid, listener.inode, b"bad\xff\xfe")
    [parsed] = portcheck.parse(row.decode("utf-8", "replace"), tool="ss", platform="linux")
    assert (parsed.pid, parsed.process) == (pid, "bad\ufffd\ufffd")
    fake_bin.install("ss", stdout=row)
    found = portcheck.who_owns(listener.port, tool="ss")
    assert {s.pid for s in found} == {os.getpid()}  # the listener is held by this process


def test_invalid_utf8_from_netstat(fake_bin: FakeBin, listener: Listener) -> None:
    # netstat's owners are checked against /proc, so the live owner is named from there.
    row = _row("netstat", listener.port, os.getpid(), listener.inode, b"\xc3\x28bad")
    fake_bin.install("netstat", stdout=row)
    _assert_is_me(portcheck.who_owns(listener.port, tool="netstat"), listener.port)


@pytest.mark.parametrize("tool", TOOLS)
def test_binary_output_is_an_error_not_a_crash(
    tool: str, fake_bin: FakeBin, listener: Listener
) -> None:
    fake_bin.install(tool, stdout=bytes(range(256)) * 64)
    with pytest.raises(portcheck.PortcheckError):
        portcheck.who_owns(listener.port, tool=tool)


# -- hangs ----------------------------------------------------------------------------


def _state(pid: int) -> str | None:
    """The process state letter of `pid`, or None when it no longer exists at all."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def _wait_gone(pid: int, *, zombie_ok: bool) -> str | None:
    deadline = time.monotonic() + 2
    state = _state(pid)
    while state is not None and not (zombie_ok and state in "ZX") and time.monotonic() < deadline:
        time.sleep(0.02)
        state = _state(pid)
    return state


def _my_children() -> set[int]:
    children: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        children.update(int(c) for c in (task / "children").read_text().split())
    return children


LIMIT = 1.0


@pytest.mark.parametrize("tool", TOOLS)
def test_hanging_tool_is_killed_with_its_children_on_time(
    tool: str, fake_bin: FakeBin, listener: Listener, tmp_path: Path
) -> None:
    before = _my_children()
    fake_bin.install(
        tool,
        script=f"echo $$ > {tmp_path}/tool.pid\n"
        f"sleep 60 & echo $! > {tmp_path}/child.pid\n"
        "sleep 60\n",
    )
    started = time.monotonic()
    with pytest.raises(ToolTimeoutError) as info:
        portcheck.who_owns(listener.port, tool=tool, timeout=LIMIT)
    elapsed = time.monotonic() - started
    assert LIMIT <= elapsed < LIMIT + 0.5
    assert info.value.timeout == LIMIT
    tool_pid = int((tmp_path / "tool.pid").read_text())
    child_pid = int((tmp_path / "child.pid").read_text())
    # The tool was reaped (not even a zombie); its child was killed, then
    # reparented to init, which reaps it: at most a zombie for a moment.
    assert _state(tool_pid) is None
    assert _wait_gone(child_pid, zombie_ok=True) in (None, "Z", "X")
    assert _my_children() == before


def test_tool_that_exits_but_leaves_a_child_holding_its_output(
    fake_bin: FakeBin, listener: Listener, tmp_path: Path
) -> None:
    # The output is not complete until every writer closed it: a timeout, and
    # the straggler is killed with the tool's process group.
    fake_bin.install("ss", script=f"sleep 60 & echo $! > {tmp_path}/child.pid\nexit 0\n")
    started = time.monotonic()
    with pytest.raises(ToolTimeoutError):
        portcheck.who_owns(listener.port, tool="ss", timeout=LIMIT)
    assert time.monotonic() - started < LIMIT + 0.5
    child_pid = int((tmp_path / "child.pid").read_text())
    assert _wait_gone(child_pid, zombie_ok=True) in (None, "Z", "X")


# -- lsof's "nothing found", netstat's warning ----------------------------------------


def test_lsof_exit_1_without_output_is_cross_checked_with_proc_net(
    fake_bin: FakeBin, listener: Listener
) -> None:
    fake_bin.install("lsof", status=1)
    # lsof (as an unprivileged user does for other users' sockets) saw nothing:
    # the kernel table still shows the socket: in use, never free; as root the
    # descriptor scan names its holder (here: ourselves).
    [sock] = portcheck.who_owns(listener.port, tool="lsof")
    assert (sock.local.port, sock.state, sock.pid, sock.uid) == (
        listener.port,
        State.LISTEN,
        os.getpid() if os.geteuid() == 0 else None,
        os.geteuid(),
    )
    # And for a port nothing holds, exit 1 without output is "free".
    free = quiet_port()  # nobody else takes it while the test runs
    assert portcheck.who_owns(free, tool="lsof") == []


def test_netstat_warning_on_stderr_with_good_rows_uses_the_rows(
    fake_bin: FakeBin, listener: Listener
) -> None:
    hidden = _row("netstat", listener.port, 0, listener.inode).replace(b" 0/fake", b" -")
    assert hidden.rstrip().endswith(b"-")
    fake_bin.install("netstat", stdout=hidden, stderr=NOT_ALL_PROCESSES.encode())
    # netstat hid the owner; the backend completes it from /proc/PID/fd (we are root
    # or the owner ourselves, so the link is readable).
    _assert_is_me(portcheck.who_owns(listener.port, tool="netstat"), listener.port)
