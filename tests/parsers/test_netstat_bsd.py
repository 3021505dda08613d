"""netstat on FreeBSD and OpenBSD: hand-written assertions on real captures (not regenerated)."""

from __future__ import annotations

import portcheck
from portcheck import Endpoint, Family, Protocol, State
from portcheck._records import NoOwner
from tests.parsers._real import parse_fixture

FREEBSD_A = "freebsd/idx9413281242--freebsd-netstat-a.out"
FREEBSD_LX = "freebsd/idx9413281242--freebsd-netstat-lx.out"
OPENBSD_UDP = "openbsd/idx1538268662--openbsd-netstat-a-n-p-udp.out"
OPENBSD_TCP_NAMES = "openbsd/idx1413403530--openbsd-netstat-a-p-tcp-ftp.out"
OPENBSD_7_T99 = "openbsd/idx26450786285--openbsd-7-netstat-T99-f-inet-ln.out"


def test_owner_is_never_shown() -> None:
    found = parse_fixture(FREEBSD_A)
    assert all(s.pid is None and s.no_owner is NoOwner.NOT_SHOWN for s in found)


def test_service_names_without_n() -> None:
    found = parse_fixture(FREEBSD_A)
    ssh = found[0]
    assert (ssh.local, ssh.state) == (
        Endpoint(address="ns1", port=22, service="ssh"),
        State.ESTABLISHED,
    )
    assert ssh.remote == Endpoint(address="192.168.5.4", port=55525)
    syslog = [s for s in found if s.protocol is Protocol.UDP]
    assert [s.family for s in syslog] == [Family.IPV4, Family.IPV6]
    assert all(s.state is None for s in syslog)


def test_dash_x_layout_has_no_state() -> None:
    [sock] = parse_fixture(FREEBSD_LX)
    assert (sock.local.port, sock.remote, sock.state) == (
        22,
        Endpoint(address="192.168.5.4", port=15414),
        None,
    )


def test_openbsd_udp_sections_and_unbound_sockets() -> None:
    found = parse_fixture(OPENBSD_UDP)
    assert len(found) == 16
    assert found[0].local == Endpoint(address="10.0.2.15", port=29903)
    assert found[0].remote == Endpoint(address="201.49.148.135", port=123)
    assert found[5].local == Endpoint(address="0.0.0.0", port=0)  # `*.*`: not bound
    v6 = [s for s in found if s.family is Family.IPV6 and s.local.port == 53]
    assert [s.local for s in v6] == [
        Endpoint(address="fe80::1", port=53, zone="lo0"),
        Endpoint(address="::1", port=53),
    ]


def test_openbsd_time_wait_and_tcp_state_headers() -> None:
    found = parse_fixture(OPENBSD_TCP_NAMES)
    assert found[0].state is State.TIME_WAIT
    assert found[0].no_owner is NoOwner.TIME_WAIT
    assert found[0].remote == Endpoint(address="localhost", port=21, service="ftp")
    tcp, udp = parse_fixture(OPENBSD_7_T99)  # `TCP-State` header, UDP section without one
    assert (tcp.state, udp.state, udp.protocol) == (State.LISTEN, None, Protocol.UDP)


def test_freebsd_dash_t_udp_rows_leave_the_counters_blank() -> None:
    # Synthetic (from the facts of issue 15): raised ParseError before.
    text = (
        "Active Internet connections (including servers)\n"
        "Proto Rexmit OOORcv 0-win  Local Address          Foreign Address\n"
        "tcp4       3      1      0 10.0.2.15.22           10.0.2.2.61234\n"
        "udp4                       *.514                  *.*\n"
    )
    tcp, udp = portcheck.parse(text, tool="netstat", platform="freebsd")
    assert (tcp.local.port, tcp.remote, tcp.state) == (
        22,
        Endpoint(address="10.0.2.2", port=61234),
        None,
    )
    assert (udp.protocol, udp.local, udp.remote) == (
        Protocol.UDP,
        Endpoint(address="0.0.0.0", port=514),
        None,
    )


def test_freebsd_dash_a_dash_t_udp_rows() -> None:
    found = parse_fixture("synthetic/freebsd/freebsd-13--netstat-anAT.out")
    assert [(s.protocol, s.local.port) for s in found] == [
        (Protocol.TCP, 22),
        (Protocol.TCP, 8080),
        (Protocol.UDP, 514),
        (Protocol.UDP, 53),
    ]
