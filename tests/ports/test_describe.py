"""`describe`: IANA range, ephemeral range (parsers, per-platform readers, this machine),
service names, the role of each socket (synthetic, then a live server/client pair)."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import attrs
import pytest

import portcheck
from portcheck import (
    Endpoint,
    EphemeralRange,
    Family,
    IanaRange,
    Protocol,
    Role,
    Socket,
    State,
)
from portcheck._backends.context import is_root
from portcheck._context import context_for
from portcheck._parsers import port_ranges
from portcheck._ports import describe as _describe
from portcheck._ports import ephemeral as _ephemeral
from portcheck._words import hidden_owner
from tests.support.fakes import FakeRunner
from tests.support.hold import Holders


def tcp(
    port: int, *, remote: int | None = None, state: State = State.LISTEN, **kw: object
) -> Socket:
    return Socket(
        protocol=Protocol.TCP,
        family=Family.IPV4,
        local=Endpoint(address="127.0.0.1", port=port),
        remote=None if remote is None else Endpoint(address="127.0.0.1", port=remote),
        state=state,
        **kw,  # type: ignore[arg-type]
    )


def udp(port: int, *, remote: int | None = None) -> Socket:
    return Socket(
        protocol=Protocol.UDP,
        family=Family.IPV6,
        local=Endpoint(address="::", port=port),
        remote=None if remote is None else Endpoint(address="::1", port=remote),
    )


# --- IANA range ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        (1, IanaRange.SYSTEM),
        (1023, IanaRange.SYSTEM),
        (1024, IanaRange.USER),
        (49151, IanaRange.USER),
        (49152, IanaRange.DYNAMIC),
        (65535, IanaRange.DYNAMIC),
    ],
)
def test_iana_range(port: int, expected: IanaRange) -> None:
    assert IanaRange.of(port) is expected
    first, last = expected.bounds
    assert first <= port <= last


# --- ephemeral range: pure parsers ------------------------------------------------------


def test_parse_pair_reads_the_linux_file_and_sysctl() -> None:
    assert port_ranges.parse_pair("32768\t60999\n") == (32768, 60999)
    assert port_ranges.parse_pair("49152\n65535\n") == (49152, 65535)


@pytest.mark.parametrize("bad", ["", "32768", "1 2 3", "a b", "60999 32768", "0 10", "1 65536"])
def test_parse_pair_refuses(bad: str) -> None:
    with pytest.raises(ValueError, match=r"expected two port numbers|not a port range"):
        port_ranges.parse_pair(bad)


NETSH_EN = """
Protocol tcp Dynamic Port Range
---------------------------------
Start Port      : 49152
Number of Ports : 16384

"""
NETSH_DE = """
Protokoll tcp Dynamischer Portbereich
---------------------------------
Startport       : 50000
Anzahl Ports    : 1000
"""


def test_parse_netsh_by_shape_in_any_language() -> None:
    assert port_ranges.parse_netsh(NETSH_EN) == (49152, 65535)
    assert port_ranges.parse_netsh(NETSH_DE) == (50000, 50999)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "Start Port : 49152\n",
        "Start Port : 49152\nNumber of Ports : 0\n",
        "Start Port : 60000\nNumber of Ports : 16384\n",
    ],
)
def test_parse_netsh_refuses(bad: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by reason
        port_ranges.parse_netsh(bad)


# --- ephemeral range: per-platform readers, through a fake runner ---------------------


@pytest.mark.parametrize(
    ("platform", "names"),
    [
        ("darwin", ("net.inet.ip.portrange.first", "net.inet.ip.portrange.last")),
        ("freebsd", ("net.inet.ip.portrange.first", "net.inet.ip.portrange.last")),
        ("netbsd", ("net.inet.ip.anonportmin", "net.inet.ip.anonportmax")),
        ("openbsd", ("net.inet.ip.porthifirst", "net.inet.ip.porthilast")),
    ],
)
def test_bsd_and_macos_read_sysctl(platform: str, names: tuple[str, str]) -> None:
    argv = ("/sbin/sysctl", "-n", *names)
    runner = FakeRunner(
        tools={"sysctl": "/sbin/sysctl"}, replies={argv: (0, b"20000\n30000\n", b"")}
    )
    found = _ephemeral.read_range(context_for(platform=platform, runner=runner))
    assert found == EphemeralRange(
        first=20000, last=30000, source=f"sysctl -n {names[0]} {names[1]}"
    )
    assert runner.calls == [argv]
    assert 20000 in found
    assert 30001 not in found


@pytest.mark.parametrize(
    ("platform", "default"),
    [("darwin", (49152, 65535)), ("freebsd", (10000, 65535)), ("openbsd", (49152, 65535))],
)
def test_no_sysctl_gives_the_documented_default(platform: str, default: tuple[int, int]) -> None:
    found = _ephemeral.read_range(context_for(platform=platform, runner=FakeRunner()))
    assert (found.first, found.last, found.source, found.default) == (*default, "default", True)


def test_a_failing_or_garbled_sysctl_gives_the_default() -> None:
    argv = ("/sbin/sysctl", "-n", "net.inet.ip.portrange.first", "net.inet.ip.portrange.last")
    for reply in [(1, b"", b"unknown oid"), (0, b"garbage\n", b"")]:
        runner = FakeRunner(tools={"sysctl": "/sbin/sysctl"}, replies={argv: reply})
        found = _ephemeral.read_range(context_for(platform="darwin", runner=runner))
        assert (found.first, found.last, found.default) == (49152, 65535, True)


def test_windows_reads_netsh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SystemRoot", "D:\\Win")
    argv = ("D:\\Win\\System32\\netsh.exe", "int", "ipv4", "show", "dynamicport", "tcp")
    runner = FakeRunner(replies={argv: (0, NETSH_DE.replace("\n", "\r\n").encode(), b"")})
    found = _ephemeral.read_range(context_for(platform="windows", runner=runner))
    assert (found.first, found.last, found.default) == (50000, 50999, False)
    assert found.source == "netsh.exe int ipv4 show dynamicport tcp"


def test_linux_reads_procfs_and_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ip_local_port_range"
    path.write_text("1024\t2047\n")
    monkeypatch.setattr(_ephemeral, "LINUX_PATH", str(path))
    found = _ephemeral.read_range(context_for(platform="linux", runner=FakeRunner()))
    assert (found.first, found.last, found.source, found.default) == (1024, 2047, str(path), False)
    path.unlink()
    found = _ephemeral.read_range(context_for(platform="linux", runner=FakeRunner()))
    assert (found.first, found.last, found.default) == (32768, 60999, True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads this Linux machine")
def test_this_machines_ephemeral_range() -> None:
    first, last = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    found = portcheck.ephemeral_range()
    assert (found.first, found.last, found.default) == (first, last, False)
    # The kernel picks a client's port from this range.
    with socket.socket() as server, socket.socket() as client:
        server.bind(("127.0.0.1", 0))
        server.listen()
        client.connect(server.getsockname())
        assert client.getsockname()[1] in found


# --- roles -----------------------------------------------------------------------------


def test_roles_listener_inbound_and_outbound() -> None:
    sockets = [tcp(8080), tcp(8080, remote=50000, state=State.ESTABLISHED)]
    assert _describe.roles_of(sockets) == [Role.LISTENING, Role.INBOUND]
    assert _describe.roles_of([tcp(50000, remote=8080, state=State.ESTABLISHED)]) == [Role.OUTBOUND]
    # No listener: SYN_SENT and TIME_WAIT are ours going out.
    assert _describe.roles_of(
        [tcp(50001, remote=443, state=State.SYN_SENT), tcp(50001, remote=80, state=State.TIME_WAIT)]
    ) == [Role.OUTBOUND, Role.OUTBOUND]


def test_roles_per_protocol_and_bound() -> None:
    # A UDP listener does not make a TCP connection inbound.
    sockets = [udp(5353), tcp(5353, remote=80, state=State.ESTABLISHED)]
    assert _describe.roles_of(sockets) == [Role.LISTENING, Role.OUTBOUND]
    # A connected UDP socket beside a bound one (a QUIC server): inbound.
    assert _describe.roles_of([udp(443), udp(443, remote=50000)]) == [
        Role.LISTENING,
        Role.INBOUND,
    ]
    assert _describe.roles_of([tcp(9000, state=State.CLOSE)]) == [Role.BOUND]


# --- describe_port with injected sockets ---------------------------------------------------

LINUX_RANGE = EphemeralRange(first=32768, last=60999, source="test")


@pytest.fixture
def fixed_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_describe, "read_range", lambda ctx: LINUX_RANGE)


@pytest.mark.usefixtures("fixed_range")
def test_a_listener_in_the_dynamic_range_is_worth_a_look() -> None:
    report = _describe.report(62000, context_for(), sockets=[tcp(62000, pid=7, process="backdoor")])
    assert (report.iana_range, report.ephemeral, report.in_use) == (IanaRange.DYNAMIC, False, True)
    assert report.worth_a_look
    [reason] = report.reasons
    assert "backdoor (pid 7) listens on port 62000" in reason
    assert "dynamic/private range" in reason
    assert [(r.role, r.socket.pid) for r in report.sockets] == [(Role.LISTENING, 7)]


@pytest.mark.usefixtures("fixed_range")
def test_an_outbound_ephemeral_port_is_normal() -> None:
    sock = tcp(50000, remote=443, state=State.ESTABLISHED, pid=9, process="curl", user="bob")
    report = _describe.report(50000, context_for(), sockets=[sock])
    assert (report.iana_range, report.ephemeral, report.worth_a_look) == (
        IanaRange.DYNAMIC,
        True,
        False,
    )
    text = report.explain()
    assert "outbound: curl (pid 9, user bob) connected out from 127.0.0.1:50000" in text
    assert text.endswith(
        "This looks normal: a client's outgoing connection from an ephemeral port."
    )


@pytest.mark.usefixtures("fixed_range")
def test_a_free_port_and_a_user_range_listener_raise_no_flag() -> None:
    free = _describe.report(8080, context_for(), sockets=[])
    assert (free.in_use, free.worth_a_look, free.sockets) == (False, False, ())
    assert "Nothing uses it: the port is free." in free.explain()
    served = _describe.report(8080, context_for(), sockets=[tcp(8080, pid=1, process="nginx")])
    assert served.reasons == ()
    assert "listening: nginx (pid 1) waits for connections on 127.0.0.1:8080 (tcp)." in (
        served.explain()
    )


@pytest.mark.usefixtures("fixed_range")
def test_explain_names_hidden_owners_and_time_wait() -> None:
    hidden = tcp(8080, uid=0)
    remnant = tcp(8080, remote=50000, state=State.TIME_WAIT)
    text = _describe.report(8080, context_for(), sockets=[hidden, remnant]).explain()
    lines = text.splitlines()
    assert lines[2] == "It is in use by 2 sockets:"
    assert hidden_owner(is_root()) in lines[3]
    # Port 8080 is outside the ephemeral range, the peer's 50000 inside: inbound.
    assert "inbound: no process (a closed connection the kernel keeps in TIME_WAIT)" in lines[4]


def test_service_names_come_from_the_services_database() -> None:
    try:
        expected = socket.getservbyport(22, "tcp")
    except OSError:
        pytest.skip("no services database here")
    assert _describe.service_name(22, "tcp") == expected
    with pytest.raises(OSError):  # noqa: PT011 - the premise of the next line
        socket.getservbyport(60688, "tcp")
    assert _describe.service_name(60688, "tcp") is None


@pytest.mark.usefixtures("fixed_range")
def test_explain_service_line(monkeypatch: pytest.MonkeyPatch) -> None:
    names = {("tcp", 512): "exec", ("udp", 512): "biff", ("tcp", 80): "http", ("udp", 80): "http"}
    monkeypatch.setattr(_describe, "service_name", lambda port, proto: names.get((proto, port)))
    assert (
        'calls it "exec" (tcp) and "biff" (udp).'
        in _describe.report(512, context_for(), sockets=[]).explain()
    )
    report = _describe.report(80, context_for(), sockets=[])
    assert (report.tcp_service, report.udp_service) == ("http", "http")
    assert 'calls it "http" (tcp and udp).' in report.explain()


def test_report_is_frozen() -> None:
    report = _describe.report(8080, context_for(), sockets=[])
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        report.port = 1  # type: ignore[misc]


# --- live: the role of each socket of a real server and client ---------------------------

live = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux")


def _until(check: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.05)


@live
def test_live_roles_of_an_accepted_connection(holders: Holders) -> None:
    server = holders.start([["tcp-listen", "127.0.0.1"]], accept=True)
    client = holders.start([["tcp-connect", f"127.0.0.1:{server.ports[0]}"]])
    (port,), (client_port,) = server.ports, client.ports
    # The holder accepts in a thread: wait until the inbound socket has its owner.
    _until(lambda: all(s.pid is not None for s in portcheck.who_owns(port)))
    report = portcheck.describe(port)
    roles = sorted((r.role.value, r.socket.pid, r.socket.remote) for r in report.sockets)
    assert roles == [
        ("inbound", server.pids[0], Endpoint(address="127.0.0.1", port=client_port)),
        ("listening", server.pids[0], None),
    ]
    client_report = portcheck.describe(client_port)
    assert [(r.role, r.socket.pid) for r in client_report.sockets] == [
        (Role.OUTBOUND, client.pids[0])
    ]
    assert client_report.ephemeral  # the kernel chose the client's port
    assert not client_report.worth_a_look


@live
def test_live_a_queued_connection_is_inbound_with_no_owner_yet(holders: Holders) -> None:
    server = holders.start([["tcp-listen", "127.0.0.1"]])  # never accepts
    client = holders.start([["tcp-connect", f"127.0.0.1:{server.ports[0]}"]])
    report = portcheck.describe(server.ports[0])
    inbound = [r.socket for r in report.sockets if r.role is Role.INBOUND]
    assert [(s.pid, s.remote) for s in inbound] == [
        (None, Endpoint(address="127.0.0.1", port=client.ports[0]))
    ]


@live
def test_live_udp_socket_is_listening(holders: Holders) -> None:
    held = holders.start([["udp", "127.0.0.1"]])
    report = portcheck.describe(held.ports[0])
    assert [(r.role, r.socket.pid) for r in report.sockets] == [(Role.LISTENING, held.pids[0])]


# --- roles decided from both ends (server-side TIME_WAIT after the listener closed) -------


@pytest.mark.usefixtures("fixed_range")
def test_server_side_time_wait_after_the_listener_closed_is_inbound() -> None:
    # A server on 18772 stopped before a redeploy: no listener, its accepted
    # connections in TIME_WAIT; the peer's port is the ephemeral one.
    remnant = tcp(18772, remote=45012, state=State.TIME_WAIT)
    report = _describe.report(18772, context_for(), sockets=[remnant])
    [item] = report.sockets
    assert item.role is Role.INBOUND
    assert "ephemeral" in item.evidence
    text = report.explain()
    assert "inbound: no process" in text
    assert "why inbound: the peer's is the port in the ephemeral range 32768-60999" in text
    assert "outbound" not in text
    assert "bind before connect" not in text


@pytest.mark.usefixtures("fixed_range")
def test_client_side_time_wait_is_outbound() -> None:
    remnant = tcp(45012, remote=18772, state=State.TIME_WAIT)
    report = _describe.report(45012, context_for(), sockets=[remnant])
    assert [(i.role, "ephemeral" in i.evidence) for i in report.sockets] == [(Role.OUTBOUND, True)]
    assert "why outbound: ours is the port in the ephemeral range" in report.explain()


@pytest.mark.usefixtures("fixed_range")
def test_ambiguous_connection_says_connection_and_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_describe, "service_name", lambda port, proto: None)
    both_ephemeral = tcp(45012, remote=45013, state=State.ESTABLISHED, pid=5, process="app")
    report = _describe.report(45012, context_for(), sockets=[both_ephemeral])
    [item] = report.sockets
    assert item.role is Role.CONNECTION
    assert "cannot be told" in item.evidence
    text = report.explain()
    assert "connection: app (pid 5) is connected from 127.0.0.1:45012 with 127.0.0.1:45013" in text
    assert "why connection: both ports (45012, 45013) are inside the ephemeral range" in text


def test_roles_from_services_and_many_peers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_describe, "service_name", lambda port, proto: None)
    # Neither port ephemeral (IANA dynamic by default): the well-known one is the server's.
    assert _describe.judge_roles([tcp(8080, remote=443, state=State.ESTABLISHED)])[0][0] is (
        Role.OUTBOUND
    )
    many = [tcp(9000, remote=9001 + i, state=State.TIME_WAIT) for i in range(3)]
    assert {role for role, _why in _describe.judge_roles(many)} == {Role.INBOUND}
