"""OpenBSD `fstat`: hand-written assertions on real captures (not regenerated)."""

from __future__ import annotations

import pytest

import portcheck
from portcheck import Endpoint, Family, ParseError, Protocol
from tests.parsers._real import parse_fixture

GREP_80 = "openbsd/idx1315394814--openbsd-fstat-grep-80.out"
GREP_UDP = "openbsd/idx1538268662--openbsd-fstat-n-grep-udp.out"


def test_pid_user_and_command_of_a_prefork_listener() -> None:
    found = parse_fixture(GREP_80)
    assert len(found) == 12  # six httpd2 processes, each with *:80 over IPv4 and IPv6
    assert {s.pid for s in found} == {22930, 12747, 66143, 78720, 77039, 74721}
    first = found[0]
    assert (first.pid, first.process, first.user, first.uid) == (22930, "httpd2", "www", None)
    assert (first.protocol, first.family, first.local) == (
        Protocol.TCP,
        Family.IPV4,
        Endpoint(address="0.0.0.0", port=80),
    )
    assert found[1].family is Family.IPV6
    assert found[1].local == Endpoint(address="::", port=80)
    assert found[-1].user == "root"
    assert all(s.state is None for s in found)  # fstat prints no TCP state


def test_udp_forms_brackets_zones_and_connected_peers() -> None:
    found = parse_fixture(GREP_UDP)
    assert found[0].local == Endpoint(address="::1", port=53)
    assert found[1].local == Endpoint(address="fe80::1", port=53, zone="lo0")
    ntp = [s for s in found if s.process == "ntpd"]
    assert len(ntp) == 5
    assert ntp[0].local == Endpoint(address="10.0.2.15", port=39674)
    assert ntp[0].remote == Endpoint(address="162.159.200.1", port=123)
    unbound = [s for s in found if s.process == "dhclient"]  # `*:0`: not bound yet
    assert [s.local for s in unbound] == [Endpoint(address="0.0.0.0", port=0)] * 4
    assert all(s.remote is None for s in unbound)
    assert all(s.state is None for s in found)  # UDP


def test_other_rows_and_header_are_skipped() -> None:
    text = (
        "USER     CMD          PID   FD MOUNT        INUM  MODE         R/W    SZ|DV\n"
        "root     sshd       12345   wd /              2  drwxr-xr-x     r      512\n"
        "root     sshd       12345    3* unix stream 0xffff800000a1b2c0\n"
        "root     sshd       12345    4* internet stream tcp 0xffff80000123 *:22\n"
        "root     ping       12346    3* internet raw icmp 0xffff80000456 *:0\n"
    )
    [sock] = portcheck.parse(text, tool="fstat", platform="openbsd")
    assert (sock.pid, sock.process, sock.local.port) == (12345, "sshd", 22)


def test_command_with_a_space_and_numeric_user() -> None:
    text = "1001     my svc      4242    5* internet stream tcp 0xffff80000123 127.0.0.1:8080\n"
    [sock] = portcheck.parse(text, tool="fstat", platform="openbsd")
    assert (sock.pid, sock.process, sock.user, sock.uid) == (4242, "my svc", None, 1001)


def test_unreadable_socket_row_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="line 1"):
        portcheck.parse("root x 12 3* internet stream tcp\n", tool="fstat", platform="openbsd")
