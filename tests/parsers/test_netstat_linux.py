"""net-tools and BusyBox `netstat` on Linux: hand-written assertions on real captures."""

from __future__ import annotations

import portcheck
from portcheck import Endpoint, Protocol, State
from portcheck._records import NoOwner
from tests.parsers._real import parse_fixture, row

UBUNTU = "linux/ubuntu-18.04--sudo-netstat-lnp.out"
BUSYBOX = "linux/busybox--netstat-tulpn.out"
NOBODY = "linux/debian-12-as-nobody--netstat-tuanpeW.out"


def test_pid_and_program_column() -> None:
    found = parse_fixture(UBUNTU)
    resolved = [s for s in found if s.local.port == 53]
    assert [(s.protocol, s.pid, s.process) for s in resolved] == [
        (Protocol.TCP, 885, "systemd-resolve"),
        (Protocol.UDP, 885, "systemd-resolve"),
    ]
    assert resolved[0].local == Endpoint(address="127.0.0.53", port=53)
    assert row(found, 42351).pid == 1112


def test_dash_is_a_hidden_owner() -> None:
    found = parse_fixture(BUSYBOX)
    assert len(found) == 3
    assert all(s.pid is None and s.no_owner is NoOwner.HIDDEN for s in found)
    udp = [s for s in found if s.protocol is Protocol.UDP]
    assert [s.state for s in udp] == [None]


def test_unprivileged_sees_own_pid_and_dash_for_others() -> None:
    found = parse_fixture(NOBODY)
    assert row(found, 59207).pid == 11150
    sandbox = row(found, 2024)
    assert (sandbox.pid, sandbox.state) == (None, State.LISTEN)


def test_netstat_program_name_with_a_newline_does_not_break_other_rows() -> None:
    # net-tools prints argv[0] raw: its newline starts a line that is no row.
    text = (
        "Active Internet connections (servers and established)\n"
        "Proto Recv-Q Send-Q Local Address  Foreign Address  State   User  Inode   "
        "PID/Program name\n"
        "tcp        0      0 127.0.0.1:42667  0.0.0.0:*        LISTEN  0     348127  4297/py\n"
        "thon\x1b[2J    \n"
        "udp6       0      0 :::40209         :::*                     0     348128  4297/py\n"
        "thon\x1b[2J    \n"
        "tcp        0      0 127.0.0.1:4000   0.0.0.0:*        LISTEN  0     348129  4298/a b\n"
    )
    found = [
        (s.local.port, s.pid, s.process)
        for s in portcheck.parse(text, tool="netstat", platform="linux")
    ]
    assert found == [
        (42667, 4297, "py\nthon\x1b[2J"),
        (40209, 4297, "py\nthon\x1b[2J"),
        (4000, 4298, "a b"),
    ]
