"""Owners' identity on macOS, FreeBSD and Windows, replayed from synthetic output.

No capture of these commands exists yet (tests/fixtures/synthetic/README.md):
macOS `ps -ww -o pid=,ppid=,lstart=,args=` and `launchctl procinfo`, FreeBSD
`ps -ww -o pid=,jid=,args=`, and the Windows PowerShell Win32_Process CSV in
UTF-8 and UTF-16. Every new field is escaped in human output.
"""

from __future__ import annotations

from datetime import datetime

import attrs
import pytest

from portcheck import Family, Protocol, Socket, State
from portcheck._backends import bsd, darwin, windows
from portcheck._backends.context import Context
from portcheck._parsers import win32_process
from portcheck._parsers.launchctl import parse_label
from portcheck._parsers.ps import parse_identity, parse_jails
from portcheck._records import Container, Endpoint, Platform
from portcheck._render import table, words
from tests.support import golden
from tests.support.fakes import FakeRunner

SYNTHETIC = golden.FIXTURES / "synthetic"
PS = "/bin/ps"
LAUNCHCTL = "/bin/launchctl"
MAC_PS = SYNTHETIC / "darwin" / "macos-14--ps-ww-o-pid,ppid,lstart,args.txt"
BSD_PS = SYNTHETIC / "freebsd" / "freebsd-14--ps-ww-o-pid,jid,args.txt"
WIN_CSV = (
    SYNTHETIC / "windows" / "windows-11--powershell-Get-CimInstance-Win32_Process-ConvertTo-Csv"
)


def _socket(pid: int, port: int = 5432) -> Socket:
    return Socket(
        protocol=Protocol.TCP,
        family=Family.IPV4,
        local=Endpoint(address="127.0.0.1", port=port),
        state=State.LISTEN,
        pid=pid,
        process="x",
    )


def _ctx(runner: FakeRunner, platform: Platform, *, privileged: bool) -> Context:
    return Context(
        runner=runner, timeout=5, platform=platform, local_proc=False, privileged=privileged
    )


# --- macOS -----------------------------------------------------------------------------


def test_macos_ps_keeps_the_command_line_whole() -> None:
    found = parse_identity(MAC_PS.read_text())
    assert sorted(found) == [611, 612, 700]  # 701's start time is not five words
    postgres = found[611]
    assert postgres.ppid == 1
    assert postgres.started == datetime(2025, 11, 30, 16, 12, 1)
    # The space inside "Application Support" cannot be told from a separator.
    assert postgres.command.endswith("Library/Application Support/Postgres/var-16")
    assert found[612].command == "postgres: checkpointer"
    assert found[612].started == datetime(2025, 12, 1, 9, 5, 44)


def _mac_runner() -> FakeRunner:
    procinfo = {
        pid: (SYNTHETIC / "darwin" / f"macos-14--sudo-launchctl-procinfo-{pid}.txt").read_bytes()
        for pid in (611, 700)
    }
    return FakeRunner(
        tools={"ps": PS, "launchctl": LAUNCHCTL},
        replies={
            (PS, "-ww", "-o", "pid=,ppid=,lstart=,args=", "-p", "611,700,999"): (
                0,
                MAC_PS.read_bytes(),
                b"",
            ),
            (LAUNCHCTL, "procinfo", "611"): (0, procinfo[611], b""),
            (LAUNCHCTL, "procinfo", "700"): (0, procinfo[700], b""),
            (LAUNCHCTL, "procinfo", "999"): (3, b"", b"Could not print info\n"),
        },
    )


def test_macos_identity_as_root_names_the_launchd_label() -> None:
    runner = _mac_runner()
    found = darwin.with_identity([_socket(611), _socket(700), _socket(999)], _ctx(
        runner, Platform.DARWIN, privileged=True
    ))  # fmt: skip
    assert [(s.units, s.command is not None and len(s.command)) for s in found] == [
        (("com.openssh.sshd",), 1),
        ((), 1),
        ((), False),  # gone before ps ran: nothing invented
    ]


def test_macos_identity_without_root_runs_no_launchctl() -> None:
    runner = _mac_runner()
    found = darwin.with_identity(
        [_socket(611), _socket(700), _socket(999)], _ctx(runner, Platform.DARWIN, privileged=False)
    )
    assert [s.units for s in found] == [(), (), ()]
    assert all(call[0] == PS for call in runner.calls)


def test_launchctl_label_only_from_a_label_line() -> None:
    assert parse_label("label = com.x\n") == "com.x"
    assert parse_label("program path = /bin/zsh\n\tlabel = \x1b[2J\n") is None


# --- FreeBSD ---------------------------------------------------------------------------


def test_freebsd_jails_from_ps() -> None:
    assert parse_jails(BSD_PS.read_text()) == {
        2202: (0, ("/usr/local/bin/node_exporter", "--web.listen-address=:9100")),
        3310: (3, ("/usr/local/sbin/nginx:", "worker", "process")),
        3311: (12, ("/usr/local/sbin/httpd", "-k", "start")),
    }
    runner = FakeRunner(
        tools={"ps": PS},
        replies={
            (PS, "-ww", "-o", "pid=,jid=,args=", "-p", "2202,3310"): (0, BSD_PS.read_bytes(), b"")
        },
    )
    found = bsd.with_jails(
        [_socket(2202), _socket(3310)], _ctx(runner, Platform.FREEBSD, privileged=True)
    )
    assert [s.container for s in found] == [None, Container(runtime="jail", id="3")]


def test_freebsd_without_ps_leaves_the_fields_empty() -> None:
    found = bsd.with_jails([_socket(2202)], _ctx(FakeRunner(), Platform.FREEBSD, privileged=True))
    assert (found[0].command, found[0].container) == (None, None)


# --- Windows ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".utf8.txt", ".utf16.bin"])
def test_windows_powershell_csv_in_either_encoding(suffix: str) -> None:
    data = WIN_CSV.with_name(WIN_CSV.name + suffix).read_bytes()
    found = win32_process.parse(win32_process.decode(data))
    assert sorted(found) == [0, 4, 1076, 4242, 5150]
    app = found[4242]
    assert (
        app.command == '"C:\\Program Files\\My App\\app.exe" --name "a, b" --title "two\r\nlines"'
    )
    assert (app.ppid, app.started) == (1076, datetime(2026, 12, 3, 18, 33, 35))
    assert found[1076].started == datetime(2026, 12, 3, 6, 0, 9)
    assert found[5150].started == datetime(2026, 12, 3, 18, 33, 35)
    assert found[5150].command == "C:\\x\\\x1b[2Jevil.exe \u00e9t\u00e9"
    assert found[4].command is None


def test_windows_lookup_adds_command_lines_or_skips_powershell() -> None:
    netstat = (golden.FIXTURES / "windows" / "windows-10-en--netstat-ano.out").read_bytes()
    ps = windows.powershell_argv({})
    csv = WIN_CSV.with_name(WIN_CSV.name + ".utf16.bin").read_bytes()
    text = netstat.decode("ascii", "replace")
    pid = next(int(line.split()[-1]) for line in text.splitlines() if ":135 " in line)
    tasklist = (0, f'"svchost.exe","{pid}","RpcSs"\r\n'.encode(), b"")
    replies: list[tuple[tuple[int, bytes, bytes] | Exception, bool]] = [
        ((0, csv.replace(b"4\x002\x004\x002\x00", str(pid).encode("utf-16-le")), b""), True),
        (FileNotFoundError(2, "absent"), False),
        ((1, b"", b"blocked by policy"), False),
    ]
    for reply, command in replies:
        runner = FakeRunner(
            replies={
                windows.netstat_argv({}): (0, netstat, b""),
                windows.tasklist_argv({}): tasklist,
                ps: reply,
            }
        )
        ctx = _ctx(runner, Platform.WINDOWS, privileged=False)
        found = windows.lookup(135, ctx, code_page=lambda: 437)
        owned = [s for s in found if s.pid == pid]
        assert owned
        assert all((s.command is not None) is command for s in owned)


# --- human output ----------------------------------------------------------------------


def test_hostile_text_in_every_new_field_is_escaped() -> None:
    sock = Socket(
        protocol=Protocol.TCP,
        family=Family.IPV4,
        local=Endpoint(address="0.0.0.0", port=80),
        state=State.LISTEN,
        pid=7,
        process="evil",
        command=("C:\\x\\\x1b[2Jevil.exe", "\x07"),
        units=("com.\x1b]0;pwned\x07label",),
    )
    jailed = Socket(
        protocol=Protocol.TCP,
        family=Family.IPV4,
        local=Endpoint(address="0.0.0.0", port=80),
        state=State.LISTEN,
        pid=8,
        process="evil",
        container=Container(runtime="jail", id="\x1b[31mred"),
    )
    printed = [
        *table.table({80: [sock, jailed]}),
        *table.listing([sock, jailed]),
        str(words.held_by(sock)),
        str(words.held_by(jailed)),
        str(words.command_line(sock)),
    ]
    assert not any(ch in line for line in printed for ch in "\x1b\x07")
    assert any("\\x1b" in line for line in printed)


def test_macos_parent_and_start_time_on_this_machine_only() -> None:
    # ps prints lstart in the local time of the machine it runs on, with no zone:
    # here that zone is ours (aware, this machine's offset); over ssh, unknown.
    socks = [_socket(611), _socket(700), _socket(999)]
    local = darwin.with_identity(socks, _ctx(_mac_runner(), Platform.DARWIN, privileged=False))
    assert [s.parent for s in local] == [1, 1, None]  # 999: gone before ps ran
    assert local[0].started == datetime(2025, 11, 30, 16, 12, 1).astimezone()
    assert local[0].started is not None
    assert local[0].started.tzinfo is not None
    over_ssh = attrs.evolve(_ctx(_mac_runner(), Platform.DARWIN, privileged=False), remote="mac1")
    remote = darwin.with_identity(socks, over_ssh)
    assert [(s.parent, s.started) for s in remote] == [(1, None), (1, None), (None, None)]


def test_windows_parent_and_start_time_from_powershell() -> None:
    netstat = (golden.FIXTURES / "windows" / "windows-10-en--netstat-ano.out").read_bytes()
    text = netstat.decode("ascii", "replace")
    pid = next(int(line.split()[-1]) for line in text.splitlines() if ":135 " in line)
    utf8 = WIN_CSV.with_name(WIN_CSV.name + ".utf8.txt").read_bytes()
    csv = utf8.replace(b'"4242","1076"', f'"{pid}","1076"'.encode())
    runner = FakeRunner(
        replies={
            windows.netstat_argv({}): (0, netstat, b""),
            windows.tasklist_argv({}): (0, f'"svchost.exe","{pid}","RpcSs"\r\n'.encode(), b""),
            windows.powershell_argv({}): (0, csv, b""),
        }
    )
    ctx = _ctx(runner, Platform.WINDOWS, privileged=False)
    found = windows.lookup(135, ctx, code_page=lambda: 437)
    owned = [s for s in found if s.pid == pid]
    assert owned
    assert {(s.parent, s.started) for s in owned} == {
        (1076, datetime(2026, 12, 3, 18, 33, 35).astimezone())
    }


def test_a_nul_in_powershell_output_is_no_crash() -> None:
    # Python 3.9's csv refuses a line holding a NUL (found by tests/parsers/test_fuzz.py).
    assert win32_process.parse("\0") == {}
    [found] = win32_process.parse('"7","1","","a\0b"\r\n').values()
    assert (found.pid, found.command) == (7, "a\ufffdb")
