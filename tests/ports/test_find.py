"""`find_free_ports`: arguments, the Linux reserved list, privileged ports, the bind check,
and what `describe` and the JSON documents say about them (live searches: tests/live)."""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from pathlib import Path

import pytest

import portcheck
from portcheck._context import context_for
from portcheck._parsers import port_ranges
from portcheck._ports import describe as _describe
from portcheck._ports import find as _free
from portcheck._ports import reserved as _reserved
from portcheck._ports.ephemeral import EphemeralRange
from portcheck._ports.reserved import ReservedRange
from portcheck._records import Platform, Protocol
from portcheck._render import json as documents
from tests.support.fakes import FakeRunner
from tests.support.ports import quiet_port

# --- arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"start": "8000"}, TypeError, "port must be an int"),
        ({"end": 9000.0}, TypeError, "port must be an int"),
        ({"start": True}, TypeError, "port must be an int"),
        ({"start": 0}, ValueError, "between 1 and 65535"),
        ({"end": 65536}, ValueError, "between 1 and 65535"),
        ({"start": 9000, "end": 8000}, ValueError, "start must not be above end"),
        ({"count": 0}, ValueError, "count must be between 1 and 1001"),
        ({"count": 1002}, ValueError, "count must be between 1 and 1001"),
        ({"count": True}, TypeError, "count must be an int"),
        ({"count": 2.0}, TypeError, "count must be an int"),
        ({"protocol": "sctp"}, ValueError, "'tcp', 'udp' or 'both'"),
        ({"protocol": "TCP"}, ValueError, "'tcp', 'udp' or 'both'"),
        ({"protocol": None}, TypeError, "protocol must be 'tcp', 'udp' or 'both'"),
        ({"random": 1}, TypeError, "random must be a bool"),
        ({"allow_ephemeral": "yes"}, TypeError, "allow_ephemeral must be a bool"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    args: dict[str, object] = {"start": 8000, "end": 9000, **kwargs}
    with pytest.raises(error, match=message):
        portcheck.find_free_ports(**args)  # type: ignore[arg-type]


def test_protocol_enum_is_accepted() -> None:
    found = _free.search(
        _free.Wanted.checked(8000, 8000, protocol=Protocol.UDP),
        context_for(platform="windows", runner=_windows_runner_without_sockets()),
        can_bind=lambda port, protocols: protocols == (Protocol.UDP,),
    )
    assert found.ports == (8000,)


def test_no_free_port_error_is_a_portcheck_and_lookup_error() -> None:
    error = portcheck.NoFreePortError(8000, 8002, 3, [8001], {"in_use": 2, "reserved": 0})
    assert isinstance(error, portcheck.PortcheckError)
    assert isinstance(error, LookupError)
    assert (error.found, error.wanted, error.first, error.last) == ([8001], 3, 8000, 8002)
    assert str(error) == "found 1 free port of 3 wanted in 8000-8002 (2 in use)"


# --- the Linux reserved list -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\n", []),
        ("", []),
        ("8080\n", [(8080, 8080)]),
        ("8080,9000-9010\n", [(8080, 8080), (9000, 9010)]),
        ("1-3, 7 ,65535", [(1, 3), (7, 7), (65535, 65535)]),
        ("0,0-2", [(1, 2)]),  # port 0 is never bound by number
    ],
)
def test_parse_linux_list(text: str, expected: list[tuple[int, int]]) -> None:
    assert port_ranges.parse_linux_list(text) == expected


@pytest.mark.parametrize(
    "bad", ["8080;9000", "9010-9000", "65536", "a", "1,,2", "-5", "²", "1-2-3"]
)
def test_parse_linux_list_refuses(bad: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        port_ranges.parse_linux_list(bad)


@pytest.fixture
def fake_proc_sys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The Linux files in tmp_path: nothing reserved, privileged below 1024."""
    reserved = tmp_path / "ip_local_reserved_ports"
    reserved.write_text("\n")
    start = tmp_path / "ip_unprivileged_port_start"
    start.write_text("1024\n")
    monkeypatch.setattr(_reserved, "LINUX_RESERVED", str(reserved))
    monkeypatch.setattr(_reserved, "LINUX_UNPRIVILEGED_START", str(start))
    monkeypatch.setattr(Platform, "current", classmethod(lambda cls: Platform.LINUX))
    return tmp_path


def test_linux_reserved_ranges_apply_to_every_protocol(fake_proc_sys: Path) -> None:
    (fake_proc_sys / "ip_local_reserved_ports").write_text("8080,9000-9010\n")
    found = _reserved.reserved_range_of(
        9005,
        context_for(platform=Platform.LINUX, runner=FakeRunner(), timeout=1),
    )
    assert found == ReservedRange(
        first=9000, last=9010, source=str(fake_proc_sys / "ip_local_reserved_ports")
    )
    assert (found.protocol, found.family, found.refuses_bind) == (None, None, False)
    assert str(found) == "9000-9010"
    assert 9011 not in found


def test_an_unreadable_linux_list_reserves_nothing(fake_proc_sys: Path) -> None:
    (fake_proc_sys / "ip_local_reserved_ports").unlink()
    runner = FakeRunner()  # Linux reads a file; a command run would fail the test
    found = _reserved.reserved_ranges(
        (Protocol.TCP,),
        context_for(platform=Platform.LINUX, runner=runner, timeout=1),
    )
    assert found == []


# --- privileged ports ----------------------------------------------------------------


def test_privileged_below_the_linux_start_without_the_capability(
    fake_proc_sys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_reserved, "_effective_capabilities", lambda: 0)
    assert _reserved.is_privileged(1023, Platform.LINUX)
    assert not _reserved.is_privileged(1024, Platform.LINUX)
    (fake_proc_sys / "ip_unprivileged_port_start").write_text("80\n")
    assert not _reserved.is_privileged(443, Platform.LINUX)
    assert _reserved.is_privileged(79, Platform.LINUX)
    # CAP_NET_BIND_SERVICE (bit 10) lifts it, as root has it.
    monkeypatch.setattr(_reserved, "_effective_capabilities", lambda: 1 << 10)
    assert not _reserved.is_privileged(79, Platform.LINUX)
    assert _reserved.privileged_limit(Platform.LINUX) == 0


def test_privileged_on_other_systems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("portcheck._backends.context.is_root", lambda: False)
    assert _reserved.is_privileged(80, Platform.FREEBSD)
    assert not _reserved.is_privileged(80, Platform.DARWIN)  # macOS 10.14 dropped it
    assert not _reserved.is_privileged(80, Platform.WINDOWS)
    monkeypatch.setattr("portcheck._backends.context.is_root", lambda: True)
    assert not _reserved.is_privileged(80, Platform.FREEBSD)


def test_effective_capabilities_are_read_from_status(tmp_path: Path) -> None:
    status = tmp_path / "status"
    status.write_text("Name:\tx\nCapPrm:\t0000000000000400\nCapEff:\t0000000000000400\n")
    assert _reserved._effective_capabilities(str(status)) == 1 << 10
    assert _reserved._effective_capabilities(str(tmp_path / "missing")) is None


# --- the bind check -----------------------------------------------------------------------


def test_bind_check_refuses_a_bound_port_and_accepts_a_free_one() -> None:
    check = _free.BindCheck()
    assert socket.AF_INET in check.families()
    for kind, protocol in ((socket.SOCK_STREAM, Protocol.TCP), (socket.SOCK_DGRAM, Protocol.UDP)):
        with socket.socket(socket.AF_INET, kind) as held:
            held.bind(("127.0.0.1", 0))
            port = held.getsockname()[1]
            assert not check(port, (protocol,))
            assert not check(port, (Protocol.TCP, Protocol.UDP))
        # Closed: the same port binds again (an unconnected socket leaves no TIME_WAIT).
        assert check(port, (protocol,))


def test_bind_check_tries_ipv6_where_available() -> None:
    check = _free.BindCheck()
    if socket.AF_INET6 not in check.families():
        pytest.skip("no IPv6 on this machine")
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as held:
        held.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        # Not port 0: the kernel may pick one an IPv4 socket of another process
        # uses (no conflict with a v6-only ::1), and IPv4 must bind it here.
        held.bind(("::1", quiet_port()))
        port = held.getsockname()[1]
        # IPv4 alone would bind: only the IPv6 check refuses it.
        assert _free._binds(socket.AF_INET, socket.SOCK_STREAM, port)
        assert not check(port, (Protocol.TCP,))


# --- the search, with a fake listing ------------------------------------------------------

NETSTAT = ("C:\\Windows\\System32\\netstat.exe", "-ano")
NETSH = "C:\\Windows\\System32\\netsh.exe"
ONE_LISTENER = (
    b"\r\nActive Connections\r\n\r\n"
    b"  Proto  Local Address          Foreign Address        State           PID\r\n"
    b"  TCP    0.0.0.0:8001           0.0.0.0:0              LISTENING       4\r\n"
    b"  UDP    0.0.0.0:8002           *:*                                    4\r\n"
)
NO_EXCLUSIONS = b"Start Port    End Port\r\n----------    --------\r\n"


def _windows_runner_without_sockets() -> FakeRunner:
    replies: dict[tuple[str, ...], tuple[int, bytes, bytes]] = {NETSTAT: (0, ONE_LISTENER, b"")}
    for family in ("ipv4", "ipv6"):
        for proto in ("tcp", "udp"):
            argv = (NETSH, "interface", family, "show", "excludedportrange", f"protocol={proto}")
            replies[argv] = (0, NO_EXCLUSIONS, b"")
    replies[(NETSH, "int", "ipv4", "show", "dynamicport", "tcp")] = (
        0,
        b"Start Port : 49152\r\nNumber of Ports : 16384\r\n",
        b"",
    )
    return FakeRunner(replies=replies)


@pytest.fixture(autouse=True)
def _default_system_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SystemRoot", raising=False)
    monkeypatch.delenv("SYSTEMROOT", raising=False)


@pytest.mark.parametrize(
    ("protocol", "expected", "in_use"),
    [("tcp", (8000, 8002, 8003), 1), ("udp", (8000, 8001, 8003), 1), ("both", (8000, 8003), 2)],
)
def test_only_sockets_of_the_protocol_take_a_port(
    protocol: str, expected: tuple[int, ...], in_use: int
) -> None:
    found = _free.search(
        _free.Wanted.checked(8000, 8003, count=4 - in_use, protocol=protocol),
        context_for(platform="windows", runner=_windows_runner_without_sockets()),
        can_bind=lambda port, protocols: True,
    )
    assert found.ports == expected
    assert found.skipped["in_use"] == in_use


def test_a_refused_bind_is_skipped_and_counted() -> None:
    tried: list[int] = []

    def refuse_8000(port: int, protocols: Sequence[Protocol]) -> bool:
        tried.append(port)
        return port != 8000

    found = _free.search(
        _free.Wanted.checked(8000, 8010, count=2),
        context_for(platform="windows", runner=_windows_runner_without_sockets()),
        can_bind=refuse_8000,
    )
    assert found.ports == (8002, 8003)
    assert tried == [8000, 8002, 8003]  # 8001 is in use: never bound; stops at count
    assert found.skipped["bind_refused"] == 1


def test_random_order_returns_ports_of_the_range() -> None:
    found = _free.search(
        _free.Wanted.checked(8003, 8400, count=5, random=True),
        context_for(platform="windows", runner=_windows_runner_without_sockets()),
        can_bind=lambda port, protocols: True,
    )
    assert len(set(found.ports)) == 5
    assert all(8003 <= p <= 8400 for p in found.ports)
    # Lowest first would give 8003-8007; at random that has odds of 1 in ~10^13.
    assert found.ports != (8003, 8004, 8005, 8006, 8007)


def test_ephemeral_ports_are_skipped_unless_allowed() -> None:
    def binds(port: int, protocols: object) -> bool:
        return True

    skipped = _free.search(
        _free.Wanted.checked(49150, 49153, count=2),
        context_for(platform="windows", runner=_windows_runner_without_sockets()),
        can_bind=binds,
    )
    assert (skipped.ports, skipped.skipped["ephemeral"]) == ((49150, 49151), 2)
    allowed = _free.search(
        _free.Wanted.checked(49150, 49153, count=4, allow_ephemeral=True),
        context_for(platform="windows", runner=_windows_runner_without_sockets()),
        can_bind=binds,
    )
    assert allowed.ports == (49150, 49151, 49152, 49153)


# --- describe and JSON -------------------------------------------------------------------

LINUX_RANGE = EphemeralRange(first=32768, last=60999, source="test")


@pytest.fixture
def fixed_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_describe, "read_range", lambda ctx: LINUX_RANGE)


@pytest.mark.usefixtures("fixed_range")
def test_explain_a_linux_reserved_port(fake_proc_sys: Path) -> None:
    (fake_proc_sys / "ip_local_reserved_ports").write_text("40000-40009\n")
    report = _describe.report(40005, context_for(platform="linux"), sockets=[])
    assert report.reserved is not None
    assert (report.reserved.first, report.reserved.last) == (40000, 40009)
    text = report.explain()
    assert "It is in this system's reserved ports (40000-40009, in " in text
    assert "an explicit bind still works" in text
    assert "so a server should not count on it" not in text  # reserved: not handed out
    document = documents.explain_document([report])
    assert document["ports"][0]["reserved"] == {
        "first": 40000,
        "last": 40009,
        "source": str(fake_proc_sys / "ip_local_reserved_ports"),
        "protocol": None,
        "family": None,
        "refuses_bind": False,
        "administered": False,
    }
    assert document["ports"][0]["privileged"] is False
    json.dumps(document)  # JSON-ready


@pytest.mark.usefixtures("fixed_range")
def test_explain_a_free_ephemeral_port(fake_proc_sys: Path) -> None:
    report = _describe.report(40005, context_for(platform="linux"), sockets=[])
    assert (report.reserved, report.ephemeral) == (None, True)
    assert "It is free now, but inside the ephemeral range" in report.explain()
    assert documents.explain_document([report])["ports"][0]["reserved"] is None


@pytest.mark.usefixtures("fixed_range")
def test_explain_a_privileged_port(fake_proc_sys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_reserved, "_effective_capabilities", lambda: 0)
    report = _describe.report(80, context_for(platform="linux"), sockets=[])
    assert report.privileged is True
    assert "It is a privileged port here: binding it needs root" in report.explain()
    assert documents.explain_document([report])["ports"][0]["privileged"] is True
    monkeypatch.setattr(_reserved, "_effective_capabilities", lambda: 1 << 10)
    report = _describe.report(80, context_for(platform="linux"), sockets=[])
    assert report.privileged is False
    assert "privileged" not in report.explain()


def test_find_document() -> None:
    found = _free.Search(
        first=8000,
        last=8002,
        wanted=2,
        protocol="both",
        ports=(8002,),
        skipped={"in_use": 1, "reserved": 1},
    )
    assert documents.find_document(found) == {
        "schema": 1,
        "kind": "find",
        "range": {"first": 8000, "last": 8002},
        "protocol": "both",
        "wanted": 2,
        "ok": False,
        "ports": [8002],
        "skipped": {"in_use": 1, "reserved": 1},
    }


SYSCTL = "/sbin/sysctl"
RESERVED_HIGH = (SYSCTL, "-n", "net.inet.ip.portrange.reservedhigh")
# Synthetic (no capture yet): what `sysctl -n` prints for a raised reservedhigh.
RESERVED_HIGH_OUT = (
    Path(__file__).parents[1]
    / "fixtures/synthetic/freebsd/freebsd-14--sysctl-n-net.inet.ip.portrange.reservedhigh.txt"
).read_bytes()


@pytest.mark.parametrize(
    ("reply", "privileged_below"),
    [
        ((0, RESERVED_HIGH_OUT, b""), 2048),
        ((0, b"0\n", b""), 1),
        ((1, b"", b"sysctl: unknown oid\n"), 1024),
        ((0, b"\x1b[2J lots\n", b""), 1024),
        ((0, b"99999\n", b""), 1024),
    ],
)
def test_freebsd_reads_reservedhigh(
    monkeypatch: pytest.MonkeyPatch,
    reply: tuple[int, bytes, bytes],
    privileged_below: int,
) -> None:
    monkeypatch.setattr("portcheck._backends.context.is_root", lambda: False)
    runner = FakeRunner(tools={"sysctl": SYSCTL}, replies={RESERVED_HIGH: reply})
    ctx = context_for(platform="freebsd", runner=runner)
    assert _reserved.privileged_limit(Platform.FREEBSD, ctx) == privileged_below
    assert runner.calls == [RESERVED_HIGH]
    without = context_for(platform="freebsd", runner=FakeRunner())
    assert _reserved.privileged_limit(Platform.FREEBSD, without) == 1024
