"""Safe process handling: no shell, argv of constants and the port, bounded error messages,
and unprivileged lookups that never call another user's socket free.

The minimal child environment is tested in tests/test_run.py.
"""

from __future__ import annotations

import ast
import fnmatch
import ntpath
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

import portcheck

if sys.version_info >= (3, 11):
    from tomllib import loads as toml_loads
else:  # the test extra installs tomli there
    from tomli import loads as toml_loads
from portcheck import ParseError, ToolError
from portcheck._backends import BACKENDS as BACKEND_TABLE
from portcheck._lookup import lookup
from portcheck._parsers import PARSERS, proc_net, win32_process
from portcheck._parsers import tasklist as _tasklist
from portcheck._records import Platform
from portcheck._run import Completed
from tests.live.test_live import _lookup_as_nobody
from tests.support.fakes import FakeRunner
from tests.support.hold import Holders

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "portcheck"
# Every module of the package, in every subpackage: a shell call added in
# `_backends/` or `_kill/` must fail these tests as surely as one at the top.
SOURCES = sorted(PACKAGE.rglob("*.py"))
SUBPROCESS_RULES = ("S602", "S604", "S605", "S606", "S607")


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


# -- no shell, one module that starts processes -----------------------------------------
# (Only `_run.py` imports subprocess: tests/test_architecture.py checks the import graph.)

_FORBIDDEN_CALLS = re.compile(
    r"^(system|popen|spawn\w*|exec[lv]\w*|posix_spawn\w*|startfile|fork\w*)$"
)


def _ways_to_start_a_process(sources: Sequence[Path]) -> list[str]:
    found = []
    for path in sources:
        text = path.read_text(encoding="utf-8")
        # The plain grep, as a reviewer would run it.
        for needle in ("shell=True", "os.system", "os.popen"):
            if needle in text:
                found.append(f"{_name(path)}: {needle}")
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.Call):
                continue
            if any(k.arg == "shell" for k in node.keywords):
                found.append(f"{_name(path)}:{node.lineno}: shell= argument")
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "os"
                and _FORBIDDEN_CALLS.match(func.attr)
            ):
                found.append(f"{_name(path)}:{node.lineno}: os.{func.attr}")
    return found


# The one exception: `portcheck run` replaces portcheck with the user's command
# (exec, not a child), so that the command's pid is the LISTEN_PID portcheck
# set and its signals and exit status are its own. That is exactly one
# os.execvpe call, in `_ports/launch.py` (found by the walk above, line aside).
_ALLOWED_STARTS = {"portcheck/_ports/launch.py: os.execvpe"}


def test_no_shell_and_no_other_way_to_start_a_process() -> None:
    found = [re.sub(r":\d+:", ":", f) for f in _ways_to_start_a_process(SOURCES)]
    assert sorted(found) == sorted(_ALLOWED_STARTS)


def test_the_sources_include_every_subpackage() -> None:
    names = {_name(p) for p in SOURCES}
    for sub in ("_backends", "_parsers", "_render", "_kill", "_ports", "_remote"):
        assert any(n.startswith(f"portcheck/{sub}/") for n in names), sub


@pytest.mark.parametrize(
    ("planted", "expected"),
    [
        ("import subprocess\nsubprocess.run('ls', shell=True)\n", "shell=True"),
        ("import os\nos.system('ls')\n", "os.system"),
        ("import os\nos.execv('/bin/ls', ['ls'])\n", "os.execv"),
    ],
)
def test_a_planted_shell_call_deep_in_the_package_is_found(
    tmp_path: Path, planted: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same walk over a copy of the package with one bad line added in a
    # subpackage: the check must name it, or it proves nothing.
    import shutil

    copy = tmp_path / "portcheck"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "_backends" / "planted.py").write_text(planted, encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", copy)
    found = _ways_to_start_a_process(sorted(copy.rglob("*.py")))
    assert any("_backends/planted.py" in f and expected in f for f in found), found


def test_ruff_subprocess_rules_apply_to_the_package() -> None:
    config = toml_loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lint = config["tool"]["ruff"]["lint"]

    def covers(codes: Sequence[str], rule: str) -> bool:
        return any(code != "" and rule.startswith(code) for code in codes)

    for rule in SUBPROCESS_RULES:
        assert covers(lint["select"] + lint.get("extend-select", []), rule), rule
        assert not covers(lint.get("ignore", []) + lint.get("extend-ignore", []), rule), rule
        for pattern, ignored in lint.get("per-file-ignores", {}).items():
            hits = [p for p in SOURCES if fnmatch.fnmatch(_name(p), pattern)]
            assert not (hits and covers(ignored, rule)), (pattern, rule)
    # Nor silenced line by line, or for a whole file.
    noqa = re.compile(r"#\s*(noqa\b(?!:)|noqa:.*\bS60[24567]\b|ruff:\s*noqa)", re.IGNORECASE)
    silenced = [
        f"{_name(p)}:{line.strip()}"
        for p in SOURCES
        for line in p.read_text(encoding="utf-8").splitlines()
        if noqa.search(line)
    ]
    # The exec of `portcheck run`, the one start allowed (see _ALLOWED_STARTS).
    allowed = "portcheck/_ports/launch.py:os.execvpe(chosen.argv[0], list(chosen.argv), chosen.env)"
    assert silenced == [f"{allowed}  # noqa: S606 - see above"]


# -- argv: absolute tool paths, constant flags and the port -------------------------------

# Every flag a backend may pass. Anything else in an argv must be the port.
CONSTANT_FLAGS = frozenset(
    [
        *("-t", "-u", "-a", "-n", "-p", "-e", "sport", "=", "-W"),  # ss, Linux netstat
        *("-P", "-w", "-b", "-S", "2", "+c", "0", "-F", "pcuLftPnT", "pcuLftPnTd", "-i"),  # lsof
        *("-4", "-6", "-s", "tcp,udp"),  # sockstat
        *("-an", "-anv", "tcp", "udp", "-ano"),  # BSD, macOS and Windows netstat
        *("/SVC", "/FO", "CSV", "/NH"),  # tasklist
        *("-o", "comm="),  # ps, for names the tools cut
        *("-ww", "pid=", "args="),  # ps, for command lines
        *("-l", "TCP", "UDP"),  # listing: ss -l, lsof -i TCP -i UDP
        *("pid=,ppid=,lstart=,args=", "pid=,jid=,args=", "procinfo"),  # ps, launchctl
        # PowerShell's one Win32_Process query (its text is a constant).
        *("-NoProfile", "-NonInteractive", "-Command", win32_process.COMMAND),
    ]
)
PID = 4242  # the owner in the replies below; ps is asked about it by number
DARWIN_HEADER = (
    "Active Internet connections (including servers)\n"
    "Proto Recv-Q Send-Q  Local Address          Foreign Address        (State)      rhiwat"
    "  shiwat    pid   epid state  options           gencnt    flags   flags1 usecnt rtncnt"
    " fltrs\n"
)


def _reply(name: str, argv: tuple[str, ...], port: int) -> tuple[int, str]:  # noqa: PLR0911 - one answer per tool
    """A plausible answer of each tool for `port`, owned by PID, so that every step runs."""
    if name == "lsof":
        return 0, f"p{PID}\ncsome-server\nu0\nLroot\nf3\ntIPv4\nPTCP\nn127.0.0.1:{port}\n"
    if name == "sockstat":
        if "-s" in argv:
            return 64, "usage: sockstat [-46cLlu] [-p ports]"  # an old sockstat
        return 0, f"root     a-long-cmd {PID}  4 tcp4   127.0.0.1:{port}        *:*\n"
    if name == "ps":
        return 0, "/usr/sbin/a-long-command\n"
    if name == "tasklist.exe":
        return 0, f'"server.exe","{PID}","Console","1","1,024 K"\n'
    if name == "netstat.exe":
        return 0, f"  TCP    0.0.0.0:{port}    0.0.0.0:0    LISTENING    {PID}\n"
    if name == "netstat" and "-anv" in argv and argv[-1] == "udp":
        return 0, DARWIN_HEADER  # the TCP socket below is no UDP row: one socket in all
    if name == "netstat" and "-anv" in argv:
        return 0, DARWIN_HEADER + (
            f"tcp4  0  0  127.0.0.1.{port}  *.*  LISTEN  131072  131072  {PID}  {PID} 00002"
            " 00000100 000000000025c1c0 00000081 00000800 1 0 000000\n"
        )
    if name == "netstat" and argv[1:] == ("-an",):
        return 0, DARWIN_HEADER.split("  rhiwat", maxsplit=1)[0].replace("(State)", "(state)") + (
            f"\ntcp4       0      0  127.0.0.1.{port}  *.*  LISTEN\n"
        )
    return 0, ""  # ss and Linux netstat: nothing on the port


@attrs.define
class RecordingRunner:
    """Every tool installed under /usr/bin; records each argv and answers with `_reply`."""

    port: int
    lsof_finds_nothing: bool = False
    calls: list[tuple[str, ...]] = attrs.field(factory=list)

    def which(self, name: str) -> str | None:
        return f"/usr/bin/{name}"

    def run(self, argv: Sequence[str], *, timeout: float) -> Completed:
        key = tuple(argv)
        self.calls.append(key)
        name = ntpath.basename(key[0]) if "\\" in key[0] else os.path.basename(key[0])
        status, out = _reply(name, key, self.port)
        if name == "lsof" and self.lsof_finds_nothing:
            status, out = 1, ""
        return Completed(
            argv=key, returncode=status, stdout=out.encode(), stderr=out.encode() if status else b""
        )


BACKENDS = [
    (platform.value, backend.name)
    for platform, backends in BACKEND_TABLE.items()
    for backend in backends
    if backend.name != "procfs"
]


def _check_argv(argv: tuple[str, ...], runner: RecordingRunner) -> None:
    program = argv[0]
    assert os.path.isabs(program) or ntpath.isabs(program), argv
    assert program.startswith(("/usr/bin/", "C:\\Windows\\System32\\")), argv
    for at, arg in enumerate(argv[1:], 1):
        if arg in CONSTANT_FLAGS:
            continue
        if runner.port and arg in (str(runner.port), f":{runner.port}"):
            continue
        # ps -p PID, launchctl procinfo PID: the pid a tool printed, an int by then.
        assert program.endswith(("/ps", "/launchctl")), argv
        assert (argv[at - 1], arg) in {("-p", str(PID)), ("procinfo", str(PID))}, argv


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux backends read /proc")
@pytest.mark.parametrize("port", [1, 8080, 47321, 65535])
@pytest.mark.parametrize(("platform", "name"), BACKENDS, ids=[f"{p}-{n}" for p, n in BACKENDS])
def test_argv_holds_only_constant_flags_and_the_port(
    platform: str, name: str, port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = RecordingRunner(port)
    found = lookup(port, tool=name, platform=platform, runner=runner)
    assert runner.calls, "the backend ran nothing"
    for argv in runner.calls:
        _check_argv(argv, runner)
    if platform != "linux":  # the replies hold one socket on the port
        assert [s.local.port for s in found] == [port]
    if name == "lsof" and platform != "linux":
        # Without root, an empty lsof answer is checked with netstat: its argv too.
        monkeypatch.setattr(os, "geteuid", lambda: 1000)
        quiet = RecordingRunner(port, lsof_finds_nothing=True)
        assert [s.local.port for s in lookup(port, tool=name, platform=platform, runner=quiet)] == [
            port
        ]
        assert [os.path.basename(argv[0]) for argv in quiet.calls] == ["lsof", "netstat"]
        for argv in quiet.calls:
            _check_argv(argv, quiet)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux backends read /proc")
@pytest.mark.parametrize("scope", ["all", "listening"])
@pytest.mark.parametrize(("platform", "name"), BACKENDS, ids=[f"{p}-{n}" for p, n in BACKENDS])
def test_listing_argv_holds_only_constant_flags(platform: str, name: str, scope: str) -> None:
    runner = RecordingRunner(0)  # no port: any number in an argv but a ps pid fails
    lookup(None, tool=name, platform=platform, runner=runner, scope=scope)
    assert runner.calls, "the backend ran nothing"
    for argv in runner.calls:
        _check_argv(argv, runner)


def test_every_platform_backend_is_checked() -> None:
    assert len(BACKENDS) >= 11
    assert {p for p, _ in BACKENDS} == {p.value for p in Platform}


@pytest.mark.parametrize("bad", [True, "80", 80.0, -1, 0, 65536, "80; rm -rf /", None])
def test_a_bad_port_runs_nothing(bad: Any) -> None:
    runner = RecordingRunner(80)
    for platform, backends in BACKEND_TABLE.items():
        with pytest.raises((TypeError, ValueError)):
            lookup(bad, tool=backends[0].name, platform=platform, runner=runner)
    assert runner.calls == []


# -- error messages quote a bounded slice ----------------------------------------------

BIG = "x" * 1_000_000
MESSAGE_LIMIT = 1000
# For each parser, a line holding a 1 MB token that it cannot read.
LONG_LINES = {
    ("linux", "ss"): f"tcp LISTEN 0 0 {BIG} *:*",
    ("linux", "lsof"): f"p1\nu{BIG}",
    ("linux", "netstat"): f"tcp 0 0 {BIG} 0.0.0.0:* LISTEN",
    ("darwin", "lsof"): f"p1\nu{BIG}",
    ("freebsd", "lsof"): f"p1\nu{BIG}",
    ("darwin", "netstat"): f"tcp4 0 0 {BIG} *.* LISTEN",
    ("freebsd", "netstat"): f"tcp4 0 0 {BIG} *.* LISTEN",
    ("netbsd", "netstat"): f"tcp 0 0 {BIG} *.* LISTEN",
    ("openbsd", "netstat"): f"tcp 0 0 {BIG} *.* LISTEN",
    ("openbsd", "fstat"): f"root httpd 12 3* internet stream tcp 0xff {BIG}",
    ("freebsd", "sockstat"): f"root sshd 812 4 tcp4 {BIG} *:*",
    ("netbsd", "sockstat"): f"root sshd 812 4 tcp {BIG} *.*",
    ("windows", "netstat"): f"  TCP    {BIG}    0.0.0.0:0    LISTENING    4",
}


def test_every_parser_has_a_long_line_case() -> None:
    assert set(LONG_LINES) == {(p.value, t) for p, t in PARSERS}


@pytest.mark.parametrize(("platform", "tool"), sorted(LONG_LINES))
def test_parse_error_quotes_a_bounded_slice_of_a_1mb_line(platform: str, tool: str) -> None:
    with pytest.raises(ParseError) as info:
        portcheck.parse(LONG_LINES[platform, tool], tool=tool, platform=platform)
    assert len(str(info.value)) < MESSAGE_LIMIT
    assert len(repr(info.value)) < MESSAGE_LIMIT + 100
    assert BIG in info.value.line  # the whole line stays available to code


def test_proc_table_and_tasklist_errors_are_bounded() -> None:
    with pytest.raises(ParseError) as table:
        proc_net.parse_table(f"0: {BIG}:0050 00000000:0000 0A", "tcp")
    with pytest.raises(ParseError) as tasks:
        _tasklist.parse(f'"a.exe","1"\n"{BIG}","{BIG}"\n')
    for error in (table.value, tasks.value):
        assert len(str(error)) < MESSAGE_LIMIT


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell script as the tool")
def test_tool_error_quotes_a_bounded_slice_of_1mb_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = tmp_path / "ss"
    tool.write_text("#!/bin/sh\nhead -c 1000000 /dev/zero | tr '\\0' e >&2\nexit 2\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolError) as info:
        portcheck.who_owns(80, tool="ss")
    assert info.value.stderr == "e" * 1_000_000
    assert len(str(info.value)) < MESSAGE_LIMIT


def test_errors_naming_a_failed_tool_are_bounded() -> None:
    # A failed sockstat makes its backend unusable; NoToolError quotes its failure.
    argv = ("/usr/bin/sockstat", "-4", "-6", "-s", "-P", "tcp,udp", "-p", "80")
    runner = FakeRunner(
        tools={"sockstat": "/usr/bin/sockstat"}, replies={argv: (1, b"", b"e" * 10**6)}
    )
    with pytest.raises(portcheck.NoToolError) as info:
        lookup(80, tool="sockstat", platform="freebsd", runner=runner)
    assert len(str(info.value)) < MESSAGE_LIMIT


# -- privileges: another user's IPv6 and connected sockets, looked up as nobody ----------

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def root_ports(holders: Holders) -> dict[str, int]:
    """Ports of an IPv6 listener and of both ends of an IPv4 connection, held by root.

    Held by other processes, not this one: the child that drops to nobody would
    inherit this process's descriptors and rightly be named their owner.
    """
    server = holders.start([["tcp-listen", "::1"], ["tcp-listen", "127.0.0.1"]])
    port6, server_port = server.ports
    client = holders.start([["tcp-connect", f"127.0.0.1:{server_port}"]])
    return {"listener6": port6, "server": server_port, "client": client.ports[0]}


def _mine(found: list[dict[str, Any]], address: str) -> list[dict[str, Any]]:
    return [s for s in found if s["protocol"] == "tcp" and s["local"]["address"] == address]


@pytest.mark.live
@pytest.mark.skipif(not IS_ROOT, reason="needs root to look up as another user")
@pytest.mark.parametrize("backend", ["procfs", "ss", "lsof", "netstat", None])
def test_unprivileged_lookup_of_ipv6_and_connected_sockets_is_in_use_owner_hidden(
    backend: str | None, root_ports: dict[str, int]
) -> None:
    if backend not in (None, "procfs") and not _installed(backend):
        pytest.skip(f"{backend} is not installed (CI installs it)")
    # Only the sockets held here: on a busy machine a port number may be reused
    # by another process's socket on another address or protocol.
    [v6] = _mine(_lookup_as_nobody(root_ports["listener6"], backend), "::1")
    assert (v6["family"], v6["state"], v6["pid"]) == ("ipv6", "LISTEN", None)
    [out] = [
        s
        for s in _mine(_lookup_as_nobody(root_ports["client"], backend), "127.0.0.1")
        if s["remote"] is not None and s["remote"]["port"] == root_ports["server"]
    ]
    assert (out["state"], out["pid"], out["uid"]) == ("ESTABLISHED", None, 0)
    # The listener, and the accepted connection waiting in its queue.
    found = _mine(_lookup_as_nobody(root_ports["server"], backend), "127.0.0.1")
    assert sorted((s["state"], s["pid"]) for s in found) == [
        ("ESTABLISHED", None),
        ("LISTEN", None),
    ]


def _installed(tool: str) -> bool:
    from portcheck._run import SystemRunner

    return SystemRunner().which(tool) is not None
