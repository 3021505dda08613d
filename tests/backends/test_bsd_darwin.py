"""macOS and BSD parsers (the traps, one by one) and their backends end to end.

Golden files cover whole captures; these tests pin each trap that has
shipped as a bug elsewhere, and drive `lookup` with a FakeRunner to check
the exact argv each backend runs and the order of fallbacks.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portcheck import NoToolError, ParseError, Protocol
from portcheck._lookup import lookup
from portcheck._parsers.netstat_bsd import parse as parse_netstat_bsd
from portcheck._parsers.netstat_darwin import parse as parse_netstat_darwin
from portcheck._parsers.sockstat import parse as parse_sockstat
from portcheck._records import Family, NoOwner, Socket, State
from tests.support.fakes import FakeRunner

FIXTURES = Path(__file__).parent.parent / "fixtures"
SYNTHETIC = FIXTURES / "synthetic"
LSOF = "/usr/sbin/lsof"
NETSTAT = "/usr/sbin/netstat"
SOCKSTAT = "/usr/bin/sockstat"
PS = "/bin/ps"
LSOF_FLAGS = ("-n", "-P", "-w", "-b", "-S", "2", "+c", "0", "-F", "pcuLftPnTd", "-i")
USAGE = b"sockstat: illegal option -- s\nusage: sockstat [-46cLlu] [-j jid] [-p ports]\n"
TITLE = "Active Internet connections (including servers)\n"


def capture(path: Path) -> bytes:
    return path.read_bytes()


def header(name: str) -> str:
    """The real `-anv` header line of a macOS release (pid-port PR 12 and issue 14)."""
    return (FIXTURES / "darwin" / name).read_text().splitlines()[1]


@pytest.fixture
def unprivileged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 501, raising=False)


@pytest.fixture
def privileged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0, raising=False)


# --- macOS netstat -------------------------------------------------------


def test_macos15_layout_reads_pid_not_rhiwat() -> None:
    # rxbytes txbytes moved the pid right: column counting read rhiwat (786896).
    head = header("macos-15--netstat-anv-p-tcp--header-only.out")
    row = (
        "tcp4       0      0  127.0.0.1.8080         *.*                    LISTEN     "
        "         0          0  786896    9216    612    612 00001 00000100"
    )
    [sock] = parse_netstat_darwin(TITLE + head + "\n" + row + "\n")
    assert sock.pid == 612
    assert sock.local.port == 8080


def test_macos14_layout_reads_pid_after_shiwat() -> None:
    head = header("macos-14--netstat-anv-p-tcp--header-only.out")
    row = (
        "udp4       0      0  *.5353                 *.*                    "
        "             786896    9216    412      0 00000 00000000"
    )
    [sock] = parse_netstat_darwin(TITLE + head + "\n" + row + "\n")
    assert (sock.pid, sock.state, sock.remote) == (412, None, None)


def test_macos26_process_pid_keeps_spaces_dots_and_colons() -> None:
    text = (SYNTHETIC / "darwin" / "macos-26--netstat-anv-p-udp.out").read_text()
    owners = [(s.process, s.pid) for s in parse_netstat_darwin(text)]
    assert owners == [
        ("mDNSResponder", 412),
        ("com.docker.backe", 1850),
        ("Brave Browser He", 93125),
        ("sshd: alice@ttys", 2101),
    ]


def test_macos26_real_capture_owner() -> None:
    text = (FIXTURES / "darwin" / "macos-26--netstat-anv-p-tcp.out").read_text()
    assert {(s.process, s.pid) for s in parse_netstat_darwin(text)} == {("Autodesk Fusion", 22712)}


def test_netstat_an_has_no_owner_and_skips_other_sections() -> None:
    sockets = parse_netstat_darwin((SYNTHETIC / "darwin" / "macos-14--netstat-an.out").read_text())
    assert sockets
    assert all(s.pid is None for s in sockets)
    # icm6 rows and the UNIX/kernel sections hold no TCP/UDP socket
    assert {s.protocol for s in sockets} == {Protocol.TCP, Protocol.UDP}
    assert len(sockets) == 11


def test_cut_ipv6_host_keeps_its_port() -> None:
    # netstat prints 16 characters of an IPv6 host, then the whole port.
    row = "udp6       0      0  fe80::aede:48ff:.5353  *.*\n"
    [sock] = parse_netstat_darwin(TITLE + row)
    assert (sock.family, sock.local.port, sock.local.address) == (
        Family.IPV6,
        5353,
        "fe80::aede:48ff:",
    )


def test_cut_port_in_narrow_columns_is_skipped() -> None:
    # -A narrows addresses to 18 characters: `fe80::aede:48ff:.5` was port 5353.
    text = (SYNTHETIC / "darwin" / "macos-14--netstat-anA.out").read_text()
    ports = [s.local.port for s in parse_netstat_darwin(text)]
    assert 5 not in ports
    assert 50 not in ports  # 192.168.100.100.50443 cut to .50
    assert ports == [631, 22, 5353]


def test_dual_stack_proto_is_ipv6_wildcard() -> None:
    [sock] = parse_netstat_bsd(TITLE + "tcp46      0      0  *.8080    *.*    LISTEN\n")
    assert (sock.family, sock.local.address, sock.state) == (Family.IPV6, "::", State.LISTEN)


def test_netstat_row_without_foreign_address_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as info:
        parse_netstat_bsd(
            TITLE + "Proto Recv-Q Send-Q Local Address Foreign Address (state)\ntcp4 0 0 *.22\n"
        )
    assert info.value.lineno == 3


def test_freebsd_dash_t_layout_has_three_counters_and_no_state() -> None:
    text = (SYNTHETIC / "freebsd" / "freebsd-13--netstat-anT.out").read_text()
    first = parse_netstat_bsd(text)[0]
    assert (first.local.port, first.remote and first.remote.port, first.state) == (22, 61234, None)


# --- sockstat ------------------------------------------------------------

SOCKSTAT_HEAD = "USER     COMMAND    PID   FD PROTO  LOCAL ADDRESS         FOREIGN ADDRESS\n"


def test_sockstat_proto_in_two_tokens_is_dual_stack() -> None:
    [sock] = parse_sockstat(SOCKSTAT_HEAD + "root     sshd       812   3  tcp4 6 *:22    *:*\n")
    assert (sock.family, sock.local.address, sock.local.port, sock.pid) == (
        Family.IPV6,
        "::",
        22,
        812,
    )


def test_sockstat_fd_of_100_shifts_nothing_we_read() -> None:
    line = "postgres postgres   98120 104 tcp46 *:5432                *:*\n"
    [sock] = parse_sockstat(SOCKSTAT_HEAD + line)
    assert (sock.pid, sock.local.port, sock.user) == (98120, 5432, "postgres")


def test_sockstat_command_run_into_pid() -> None:
    line = "messagebus dbus-daemo731  9  tcp4   127.0.0.1:5150        *:*\n"
    [sock] = parse_sockstat(SOCKSTAT_HEAD + line)
    assert (sock.process, sock.pid, sock.user) == ("dbus-daemo", 731, "messagebus")


def test_sockstat_dot_and_colon_notations_agree() -> None:
    dot = parse_sockstat("root     sshd       431    3 tcp    *.22                  *.*\n")
    colon = parse_sockstat("root     sshd       431   3  tcp4   *:22                  *:*\n")
    assert dot == colon
    assert dot[0].local.port == 22


def test_sockstat_question_mark_owner_and_unix_rows() -> None:
    text = (
        SOCKSTAT_HEAD
        + "root     syslogd    648   4  dgram  /var/run/log\n"
        + "?        ?          ?     ?  tcp4   10.0.2.15:22          10.0.2.2:61199\n"
    )
    [sock] = parse_sockstat(text)
    assert sock.owner_hidden
    assert (sock.user, sock.process, sock.local.port) == (None, None, 22)


def test_sockstat_state_column() -> None:
    text = (SYNTHETIC / "freebsd" / "freebsd-13--sockstat-46s.out").read_text()
    states = {(s.protocol, s.state) for s in parse_sockstat(text)}
    assert (Protocol.UDP, None) in states
    assert (Protocol.TCP, State.TIME_WAIT) in states
    assert (Protocol.TCP, None) not in states


# --- macOS end to end ----------------------------------------------------


def lsof_argv(port: int) -> tuple[str, ...]:
    return (LSOF, *LSOF_FLAGS, f":{port}")


def test_darwin_lsof_argv_and_answer(privileged: None) -> None:
    out = capture(SYNTHETIC / "darwin" / "macos-14--lsof-nPwbS-c0-F-pcuLftPnT-i.out")
    runner = FakeRunner(tools={"lsof": LSOF}, replies={lsof_argv(5000): (0, out, b"")})
    found = lookup(5000, platform="darwin", runner=runner)
    assert runner.calls == [lsof_argv(5000)]
    assert [(s.pid, s.process, s.user, s.family) for s in found] == [
        (448, "ControlCenter", "alice", Family.IPV4),
        (448, "ControlCenter", "alice", Family.IPV6),
    ]


def test_darwin_lsof_nothing_unprivileged_confirms_with_netstat(unprivileged: None) -> None:
    an = capture(SYNTHETIC / "darwin" / "macos-14--netstat-an.out")
    runner = FakeRunner(
        tools={"lsof": LSOF, "netstat": NETSTAT},
        replies={lsof_argv(631): (1, b"", b""), (NETSTAT, "-an"): (0, an, b"")},
    )
    found = lookup(631, platform="darwin", runner=runner)
    assert runner.calls == [lsof_argv(631), (NETSTAT, "-an")]
    assert len(found) == 2
    assert all(s.owner_hidden for s in found)


def test_darwin_lsof_unprivileged_adds_other_users_sockets_it_cannot_see(
    unprivileged: None,
) -> None:
    # lsof lists our own ControlCenter listeners on 5000; netstat also shows
    # a UDP socket on 5000 of another user, which lsof (without root) omits.
    lsof_out = capture(SYNTHETIC / "darwin" / "macos-14--lsof-nPwbS-c0-F-pcuLftPnT-i.out")
    an = (
        TITLE + "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)\n"
        "tcp4       0      0  *.5000                 *.*                    LISTEN\n"
        "tcp6       0      0  *.5000                 *.*                    LISTEN\n"
        "udp4       0      0  *.5000                 *.*\n"
    ).encode()
    runner = FakeRunner(
        tools={"lsof": LSOF, "netstat": NETSTAT},
        replies={lsof_argv(5000): (0, lsof_out, b""), (NETSTAT, "-an"): (0, an, b"")},
    )
    found = lookup(5000, platform="darwin", runner=runner)
    assert [(s.protocol, s.family, s.pid) for s in found] == [
        (Protocol.TCP, Family.IPV4, 448),
        (Protocol.TCP, Family.IPV6, 448),
        (Protocol.UDP, Family.IPV4, None),
    ]


def test_darwin_lsof_nothing_unprivileged_and_netstat_empty_is_free(unprivileged: None) -> None:
    an = capture(SYNTHETIC / "darwin" / "macos-14--netstat-an.out")
    runner = FakeRunner(
        tools={"lsof": LSOF, "netstat": NETSTAT},
        replies={lsof_argv(4444): (1, b"", b""), (NETSTAT, "-an"): (0, an, b"")},
    )
    assert lookup(4444, platform="darwin", runner=runner) == []
    assert len(runner.calls) == 2


def test_darwin_lsof_nothing_as_root_is_free(privileged: None) -> None:
    runner = FakeRunner(
        tools={"lsof": LSOF, "netstat": NETSTAT}, replies={lsof_argv(631): (1, b"", b"")}
    )
    assert lookup(631, platform="darwin", runner=runner) == []
    assert runner.calls == [lsof_argv(631)]


def test_darwin_lsof_failure_falls_back_to_netstat_v() -> None:
    tcp = capture(FIXTURES / "darwin" / "macos-26--netstat-anv-p-tcp.out")
    runner = FakeRunner(
        tools={"lsof": LSOF, "netstat": NETSTAT},
        replies={
            lsof_argv(49515): (1, b"", b"lsof: can't open /dev/kmem\n"),
            (NETSTAT, "-anv", "-p", "tcp"): (0, tcp, b""),
            (NETSTAT, "-anv", "-p", "udp"): (0, TITLE.encode(), b""),
        },
    )
    found = lookup(49515, platform="darwin", runner=runner)
    assert [(s.pid, s.process) for s in found] == [(22712, "Autodesk Fusion")]
    assert runner.calls[1:] == [(NETSTAT, "-anv", "-p", "tcp"), (NETSTAT, "-anv", "-p", "udp")]


def test_darwin_without_lsof_names_come_from_ps() -> None:
    tcp = capture(SYNTHETIC / "darwin" / "macos-14--netstat-anv-p-tcp.out")
    ps_argv = (PS, "-o", "comm=", "-p", "611")
    runner = FakeRunner(
        tools={"netstat": NETSTAT, "ps": PS},
        replies={
            (NETSTAT, "-anv", "-p", "tcp"): (0, tcp, b""),
            (NETSTAT, "-anv", "-p", "udp"): (0, TITLE.encode(), b""),
            ps_argv: (0, b"/Applications/Postgres.app/Contents/Versions/16/bin/postgres\n", b""),
            darwin_ps("611"): (
                0,
                b"  611     1 Sun Nov 30 16:12:01 2025     /opt/pg/bin/postgres -D /var/pg\n",
                b"",
            ),
        },
    )
    found = lookup(5432, platform="darwin", runner=runner)
    assert runner.calls[-2:] == [ps_argv, darwin_ps("611")]  # one ps for every command line
    assert {(s.pid, s.process) for s in found} == {(611, "postgres")}
    # ps joins the arguments with spaces: the line is kept whole, never split.
    assert {s.command for s in found} == {("/opt/pg/bin/postgres -D /var/pg",)}
    assert len(found) == 3  # the connection's server side and two listeners


def test_darwin_cut_macos26_name_completed_by_ps_only_if_it_matches() -> None:
    udp = capture(SYNTHETIC / "darwin" / "macos-26--netstat-anv-p-udp.out")
    runner = FakeRunner(
        tools={"netstat": NETSTAT, "ps": PS},
        replies={
            (NETSTAT, "-anv", "-p", "tcp"): (0, TITLE.encode(), b""),
            (NETSTAT, "-anv", "-p", "udp"): (0, udp, b""),
            (PS, "-o", "comm=", "-p", "93125"): (
                0,
                b"/Applications/Brave Browser.app/Contents/MacOS/Brave Browser Helper\n",
                b"",
            ),
            (PS, "-o", "comm=", "-p", "1850"): (0, b"/usr/bin/vim\n", b""),  # pid reused
            darwin_ps("93125"): (1, b"", b""),  # exited: no command, and no error
            darwin_ps("1850"): (0, b"", b""),
        },
    )
    brave = lookup(61000, platform="darwin", runner=runner)
    docker = lookup(49500, platform="darwin", runner=runner)
    assert [s.process for s in brave] == ["Brave Browser Helper"]
    assert [s.process for s in docker] == ["com.docker.backe"]
    assert [s.command for s in brave + docker] == [None, None]


def test_darwin_no_tool_at_all() -> None:
    with pytest.raises(NoToolError) as info:
        lookup(80, platform="darwin", runner=FakeRunner())
    assert list(info.value.tried) == ["lsof", "netstat"]


# --- FreeBSD, NetBSD, OpenBSD end to end ---------------------------------


def ps_args(pids: str) -> tuple[str, ...]:
    return (PS, "-ww", "-o", "pid=", "-o", "args=", "-p", pids)


def darwin_ps(pids: str) -> tuple[str, ...]:
    return (PS, "-ww", "-o", "pid=,ppid=,lstart=,args=", "-p", pids)


def freebsd_ps(pids: str) -> tuple[str, ...]:
    return (PS, "-ww", "-o", "pid=,jid=,args=", "-p", pids)


NEW_SOCKSTAT = (SOCKSTAT, "-4", "-6", "-s", "-P", "tcp,udp", "-p", "9100")
OLD_SOCKSTAT = (SOCKSTAT, "-4", "-6", "-p", "9100")


def test_freebsd_sockstat_argv_and_ps_for_cut_names() -> None:
    out = capture(SYNTHETIC / "freebsd" / "freebsd-13--sockstat.out")
    ps_argv = (PS, "-o", "comm=", "-p", "2202")
    runner = FakeRunner(
        tools={"sockstat": SOCKSTAT, "ps": PS},
        replies={
            NEW_SOCKSTAT: (0, out, b""),
            ps_argv: (0, b"node_exporter\n", b""),
            freebsd_ps("2202"): (0, b"2202 0 /usr/local/bin/node_exporter --web.listen\n", b""),
        },
    )
    found = lookup(9100, platform="freebsd", runner=runner)
    assert runner.calls == [NEW_SOCKSTAT, ps_argv, freebsd_ps("2202")]
    assert found[0].container is None  # jail 0: the host
    assert found[0].command == ("/usr/local/bin/node_exporter", "--web.listen")
    assert [(s.pid, s.process, s.user) for s in found] == [(2202, "node_exporter", "alice")]


def test_freebsd_old_sockstat_falls_back_to_older_flags() -> None:
    out = capture(SYNTHETIC / "freebsd" / "freebsd-13--sockstat.out")
    runner = FakeRunner(
        tools={"sockstat": SOCKSTAT},
        replies={NEW_SOCKSTAT: (1, b"", USAGE), OLD_SOCKSTAT: (0, out, b"")},
    )
    found = lookup(9100, platform="freebsd", runner=runner)
    assert runner.calls == [NEW_SOCKSTAT, OLD_SOCKSTAT]
    assert [s.process for s in found] == ["node_expor"]  # no ps: the cut name stays


def test_freebsd_sockstat_real_failure_falls_to_lsof(privileged: None) -> None:
    lsof_out = capture(SYNTHETIC / "freebsd" / "freebsd-13--lsof-nPwbS-c0-F-pcuLftPnT-i.out")
    runner = FakeRunner(
        tools={"sockstat": SOCKSTAT, "lsof": LSOF},
        replies={
            NEW_SOCKSTAT: (1, b"", b"sockstat: sysctl(kern.file): Operation not permitted\n"),
            lsof_argv(9100): (0, lsof_out, b""),
        },
    )
    found = lookup(9100, platform="freebsd", runner=runner)
    assert runner.calls == [NEW_SOCKSTAT, lsof_argv(9100)]  # not retried with old flags
    assert [(s.pid, s.process, s.uid) for s in found] == [(2202, "node_exporter", 1001)]


def test_freebsd_netstat_last_answers_owner_hidden() -> None:
    an = capture(FIXTURES / "freebsd" / "freebsd-12--netstat-an.out")
    runner = FakeRunner(tools={"netstat": NETSTAT}, replies={(NETSTAT, "-an"): (0, an, b"")})
    found = lookup(22, platform="freebsd", runner=runner)
    assert runner.calls == [(NETSTAT, "-an")]
    assert len(found) == 3
    assert all(s.no_owner is NoOwner.NOT_SHOWN for s in found)  # not hidden: no tool shows


def test_freebsd_lsof_empty_unprivileged_confirms(unprivileged: None) -> None:
    an = capture(FIXTURES / "freebsd" / "freebsd-12--netstat-an.out")
    runner = FakeRunner(
        tools={"lsof": LSOF, "netstat": NETSTAT},
        replies={lsof_argv(514): (1, b"", b""), (NETSTAT, "-an"): (0, an, b"")},
    )
    found = lookup(514, platform="freebsd", runner=runner)
    assert [(s.protocol, s.pid) for s in found] == [(Protocol.UDP, None), (Protocol.UDP, None)]


def test_netbsd_sockstat_then_netstat() -> None:
    out = capture(SYNTHETIC / "netbsd" / "netbsd-10--sockstat-n.out")
    argv = (SOCKSTAT, "-n", "-p", "22")
    runner = FakeRunner(tools={"sockstat": SOCKSTAT}, replies={argv: (0, out, b"")})
    found = lookup(22, platform="netbsd", runner=runner)
    assert runner.calls == [argv]
    assert {(s.pid, s.family) for s in found} == {(431, Family.IPV4), (431, Family.IPV6)}

    an = capture(SYNTHETIC / "netbsd" / "netbsd-10--netstat-an.out")
    runner = FakeRunner(tools={"netstat": NETSTAT}, replies={(NETSTAT, "-an"): (0, an, b"")})
    found = lookup(22, platform="netbsd", runner=runner)
    assert len(found) == 3
    assert all(s.no_owner is NoOwner.NOT_SHOWN for s in found)  # not hidden: no tool shows


def test_openbsd_netstat_owner_hidden_and_free() -> None:
    an = capture(FIXTURES / "openbsd" / "idx1315394814--openbsd-netstat-nap-tcp.out")
    runner = FakeRunner(tools={"netstat": NETSTAT}, replies={(NETSTAT, "-an"): (0, an, b"")})
    found: list[Socket] = lookup(25, platform="openbsd", runner=runner)
    assert [s.local.address for s in found] == ["127.0.0.1", "::1", "fe80::1"]
    assert all(s.no_owner is NoOwner.NOT_SHOWN for s in found)  # not hidden: no tool shows
    assert lookup(8080, platform="openbsd", runner=runner) == []


def test_openbsd_without_netstat() -> None:
    with pytest.raises(NoToolError) as info:
        lookup(22, platform="openbsd", runner=FakeRunner(tools={"sockstat": SOCKSTAT}))
    assert list(info.value.tried) == ["fstat", "netstat"]


# --- OpenBSD fstat + netstat ---------------------------------------------

FSTAT = "/usr/bin/fstat"
# Two pairs of real captures, each fstat and netstat from the same host and session.
HTTPD_FSTAT = FIXTURES / "openbsd" / "idx1315394814--openbsd-fstat-grep-80.out"
HTTPD_NETSTAT = FIXTURES / "openbsd" / "idx1315394814--openbsd-netstat-nap-tcp.out"
DNS_FSTAT = FIXTURES / "openbsd" / "idx1538268662--openbsd-fstat-n-grep-udp.out"
DNS_NETSTAT = FIXTURES / "openbsd" / "idx1538268662--openbsd-netstat-a-n-p-udp.out"


def openbsd_runner(fstat_out: bytes, netstat_out: bytes | None) -> FakeRunner:
    tools = {"fstat": FSTAT}
    replies: dict[tuple[str, ...], tuple[int, bytes, bytes]] = {(FSTAT, "-n"): (0, fstat_out, b"")}
    if netstat_out is not None:
        tools["netstat"] = NETSTAT
        replies[(NETSTAT, "-an")] = (0, netstat_out, b"")
    return FakeRunner(tools=tools, replies=replies)


def test_openbsd_fstat_as_root_names_owners_with_netstat_states(privileged: None) -> None:
    runner = openbsd_runner(capture(HTTPD_FSTAT), capture(HTTPD_NETSTAT))
    found = lookup(80, platform="openbsd", runner=runner)
    assert runner.calls == [(FSTAT, "-n"), (NETSTAT, "-an")]
    assert len(found) == 12  # six httpd2 processes share one IPv4 and one IPv6 listener
    assert {(s.pid, s.process) for s in found} == {
        (pid, "httpd2") for pid in (22930, 12747, 66143, 78720, 77039, 74721)
    }
    assert {s.state for s in found} == {State.LISTEN}  # from netstat: fstat shows none
    assert {s.family for s in found} == {Family.IPV4, Family.IPV6}
    assert not any(s.owner_hidden for s in found)


def test_openbsd_fstat_as_root_keeps_what_only_one_tool_lists(privileged: None) -> None:
    # Port 22: netstat lists the sshd listeners and a connection, this fstat
    # excerpt (grep :80) none of them; port 80 then lists what fstat lists.
    runner = openbsd_runner(capture(HTTPD_FSTAT), capture(HTTPD_NETSTAT))
    ssh = lookup(22, platform="openbsd", runner=runner)
    assert len(ssh) == 3
    assert all(s.owner_hidden and s.pid is None for s in ssh)
    runner = openbsd_runner(capture(HTTPD_FSTAT), TITLE.encode())
    alone = lookup(80, platform="openbsd", runner=runner)
    assert len(alone) == 12
    assert {s.state for s in alone} == {None}  # no netstat row: state unknown


def test_openbsd_fstat_unprivileged_adds_other_users_sockets_hidden(unprivileged: None) -> None:
    # As user _ntp, fstat lists only ntpd's files; named's port 53 sockets
    # come from netstat, owner hidden, and ntpd's own socket with its pid.
    own = b"".join(line for line in capture(DNS_FSTAT).splitlines(True) if b"_ntp" in line)
    runner = openbsd_runner(own, capture(DNS_NETSTAT))
    dns = lookup(53, platform="openbsd", runner=runner)
    assert runner.calls == [(FSTAT, "-n"), (NETSTAT, "-an")]
    assert len(dns) == 5
    assert all(s.pid is None and s.no_owner is NoOwner.HIDDEN for s in dns)
    [ntp] = lookup(39674, platform="openbsd", runner=runner)
    assert (ntp.pid, ntp.process, ntp.user, ntp.owner_hidden) == (20075, "ntpd", "_ntp", False)


def test_openbsd_fstat_as_root_matches_every_udp_socket(privileged: None) -> None:
    runner = openbsd_runner(capture(DNS_FSTAT), capture(DNS_NETSTAT))
    dns = lookup(53, platform="openbsd", runner=runner)
    assert [(s.local.address, s.pid) for s in dns] == [  # in the documented record order
        ("10.0.2.15", 55537),
        ("127.0.0.1", 55537),
        ("192.168.56.111", 55537),
        ("::1", 55537),
        ("fe80::1", 55537),
    ]


def test_openbsd_fstat_matches_an_ipv6_address_netstat_cut(privileged: None) -> None:
    fstat = (
        b"root     nginx      4242    6* internet6 stream tcp 0xffff8000"
        b" [2001:db8:aaaa:bbbb::1]:443\n"
    )
    netstat = (
        TITLE + "Proto   Recv-Q Send-Q  Local Address          Foreign Address        (state)\n"
        "tcp6         0      0  2001:db8:aaaa:bb.443   *.*                    LISTEN\n"
    ).encode()
    [sock] = lookup(443, platform="openbsd", runner=openbsd_runner(fstat, netstat))
    assert (sock.pid, sock.state, sock.local.address) == (
        4242,
        State.LISTEN,
        "2001:db8:aaaa:bbbb::1",
    )


def test_openbsd_fstat_failure_falls_back_to_netstat(privileged: None) -> None:
    runner = openbsd_runner(b"", capture(HTTPD_NETSTAT))
    runner.replies[(FSTAT, "-n")] = (1, b"", b"fstat: kvm_openfiles: permission denied\n")
    found = lookup(80, platform="openbsd", runner=runner)
    assert runner.calls == [(FSTAT, "-n"), (NETSTAT, "-an")]
    assert len(found) == 2
    assert all(s.no_owner is NoOwner.NOT_SHOWN for s in found)  # not hidden: no tool shows


def test_openbsd_fstat_without_netstat(privileged: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # As root fstat alone names every owner (states unknown) ...
    runner = openbsd_runner(capture(HTTPD_FSTAT), None)
    assert len(lookup(80, platform="openbsd", runner=runner)) == 12
    # ... without root its own sockets alone could read as "free": no answer.
    monkeypatch.setattr(os, "geteuid", lambda: 501, raising=False)
    with pytest.raises(NoToolError) as info:
        lookup(80, platform="openbsd", runner=openbsd_runner(capture(HTTPD_FSTAT), None))
    assert list(info.value.tried) == ["fstat", "netstat"]


def test_darwin_lsof_exit_1_with_output_is_never_free(unprivileged: None) -> None:
    # lsof failing with output is no "nothing matched": the next backend looks.
    tcp = capture(SYNTHETIC / "darwin" / "macos-14--netstat-anv-p-tcp.out")
    udp = capture(SYNTHETIC / "darwin" / "macos-15--netstat-anv-p-udp.out")
    runner = FakeRunner(
        tools={"lsof": LSOF, "netstat": NETSTAT},
        replies={
            lsof_argv(5000): (1, b"p448\ncControlCe\n", b"lsof: unexpected failure\n"),
            (NETSTAT, "-anv", "-p", "tcp"): (0, tcp, b""),
            (NETSTAT, "-anv", "-p", "udp"): (0, udp, b""),
        },
    )
    found = lookup(5000, platform="darwin", runner=runner)
    assert runner.calls[:2] == [lsof_argv(5000), (NETSTAT, "-anv", "-p", "tcp")]
    assert (5000, 448) in {(s.local.port, s.pid) for s in found}


def test_darwin_lsof_replay_one_socket_on_two_fds_is_one_record(privileged: None) -> None:
    # Synthetic replay: one socket dup()ed onto fds 3 and 7 (as launchd does).
    out = (
        b"p448\ncnginx\nu501\nLalice\n"
        b"f3\ntIPv4\nd0x1234abcd00000001\nPTCP\nn127.0.0.1:5000\nTST=LISTEN\n"
        b"f7\ntIPv4\nd0x1234abcd00000001\nPTCP\nn127.0.0.1:5000\nTST=LISTEN\n"
    )
    runner = FakeRunner(tools={"lsof": LSOF}, replies={lsof_argv(5000): (0, out, b"")})
    found = lookup(5000, platform="darwin", runner=runner)
    assert [(s.pid, s.socket_id) for s in found] == [(448, "0x1234abcd00000001")]
