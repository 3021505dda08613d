"""Dispatch, fallback, errors and the Linux backends' exact commands (replayed)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import portcheck
from portcheck import Family, NoToolError, ParseError, Protocol, ToolError, UnsupportedError
from portcheck._lookup import lookup
from tests.support.fakes import FakeRunner

LINUX = Path(__file__).parent / "fixtures" / "linux"


def _listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_public_names() -> None:
    assert set(portcheck.__all__) == {
        "Endpoint", "Family", "NoToolError", "ParseError", "PortcheckError", "Protocol",
        "Socket", "State", "ToolError", "ToolTimeoutError", "UnsupportedError",
        "parse", "who_owns",
        "EphemeralRange", "IanaRange", "PortReport", "Role", "PortRole", "WaitTimeoutError",
        "describe", "ephemeral_range", "wait_until_free", "wait_until_listening",
        "NoFreePortError", "ReservedRange", "find_free_ports",
        "stop_owners", "StopResult", "NoOwner", "Platform", "Outcome", "OwnerOutcome", "Refusal",
        "Container", "listening", "sockets",
        "AuthenticationError", "HostKeyError", "HostUnreachableError", "RemoteError",
        "RemoteTimeoutError", "who_owns_across",
    }  # fmt: skip
    for name in portcheck.__all__:
        assert getattr(portcheck, name) is not None


def test_errors_share_one_base_and_the_nearest_builtin() -> None:
    assert issubclass(portcheck.NoToolError, LookupError)
    assert issubclass(portcheck.ToolError, OSError)
    assert issubclass(portcheck.ToolTimeoutError, TimeoutError)
    assert issubclass(portcheck.ParseError, ValueError)
    assert issubclass(portcheck.UnsupportedError, ValueError)
    for error in (NoToolError, ToolError, portcheck.ToolTimeoutError, ParseError):
        assert issubclass(error, portcheck.PortcheckError)


def test_with_no_tool_reachable_procfs_answers() -> None:
    with _listener() as sock:
        port = sock.getsockname()[1]
        runner = FakeRunner()  # no ss, no lsof, no netstat installed
        [found] = lookup(port, platform="linux", runner=runner)
    assert found.pid is not None
    assert runner.calls == []


@pytest.mark.parametrize(
    ("tool", "package"), [("ss", "iproute2"), ("lsof", "lsof"), ("netstat", "net-tools")]
)
def test_forcing_a_missing_tool_names_it_and_its_package(tool: str, package: str) -> None:
    with pytest.raises(NoToolError) as info:
        lookup(8080, tool=tool, platform="linux", runner=FakeRunner())
    assert info.value.tried == {tool: f"{tool} not found (install {package})"}
    assert f"install {package}" in str(info.value)


def test_unknown_backend_and_platform_are_refused() -> None:
    with pytest.raises(UnsupportedError, match="no backend 'sockstat' on linux"):
        lookup(80, tool="sockstat", platform="linux", runner=FakeRunner())
    with pytest.raises(UnsupportedError, match="unknown platform 'plan9'"):
        lookup(80, platform="plan9", runner=FakeRunner())


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        portcheck.who_owns(80, timeout=timeout)


def test_timeout_must_be_a_number() -> None:
    with pytest.raises(TypeError):
        portcheck.who_owns(80, timeout="5")  # type: ignore[arg-type]


def _capture(name: str) -> bytes:
    return (LINUX / name).read_bytes()


def test_ss_backend_runs_the_kernel_filtered_command() -> None:
    argv = ("/usr/bin/ss", "-t", "-u", "-a", "-n", "-p", "-e", "sport", "=", ":47002")
    runner = FakeRunner(tools={"ss": "/usr/bin/ss"}, replies={argv: (0, b"", b"")})
    assert lookup(47002, tool="ss", platform="linux", runner=runner) == []
    assert runner.calls == [argv]


def test_ss_failure_is_an_error_not_free() -> None:
    argv = ("/usr/bin/ss", "-t", "-u", "-a", "-n", "-p", "-e", "sport", "=", ":80")
    runner = FakeRunner(
        tools={"ss": "/usr/bin/ss"}, replies={argv: (1, b"", b"Cannot open netlink socket")}
    )
    with pytest.raises(ToolError) as info:
        lookup(80, tool="ss", platform="linux", runner=runner)
    assert info.value.returncode == 1
    assert "Cannot open netlink socket" in str(info.value)
    assert info.value.argv == list(argv)


LSOF_ARGV = (
    "/usr/bin/lsof", "-n", "-P", "-w", "-b", "-S", "2", "+c", "0", "-F", "pcuLftPnTd",
    "-i", ":80",
)  # fmt: skip


def test_lsof_exit_1_with_a_message_is_an_error() -> None:
    runner = FakeRunner(
        tools={"lsof": "/usr/bin/lsof"}, replies={LSOF_ARGV: (1, b"", b"lsof: illegal option")}
    )
    with pytest.raises(ToolError, match="illegal option"):
        lookup(80, tool="lsof", platform="linux", runner=runner)


def test_busybox_lsof_is_unusable_and_skipped() -> None:
    busybox = b"1\t/sbin/init\t/dev/null\n1\t/sbin/init\t/dev/console\n"
    runner = FakeRunner(tools={"lsof": "/usr/bin/lsof"}, replies={LSOF_ARGV: (0, busybox, b"")})
    with pytest.raises(NoToolError, match="ignored -F"):
        lookup(80, tool="lsof", platform="linux", runner=runner)


def test_netstat_backend_runs_one_command_and_filters_in_python() -> None:
    argv = ("/bin/netstat", "-t", "-u", "-a", "-n", "-p", "-e", "-W")
    runner = FakeRunner(
        tools={"netstat": "/bin/netstat"},
        replies={argv: (0, _capture("busybox--netstat-tulpn.out"), b"")},
    )
    [found] = lookup(9999, tool="netstat", platform="linux", runner=runner)
    assert (found.local.port, found.pid, found.protocol) == (9999, None, Protocol.TCP)
    assert runner.calls == [argv]


def test_parse_refuses_what_it_does_not_know() -> None:
    with pytest.raises(UnsupportedError, match="unknown tool 'pfiles'"):
        portcheck.parse("", tool="pfiles", platform="openbsd")
    with pytest.raises(UnsupportedError, match="fstat output from freebsd is not supported"):
        portcheck.parse("", tool="fstat", platform="freebsd")
    with pytest.raises(UnsupportedError, match="sockstat output from linux is not supported"):
        portcheck.parse("", tool="sockstat", platform="linux")
    with pytest.raises(TypeError):
        portcheck.parse(b"tcp", tool="ss", platform="linux")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tool", "text", "lineno"),
    [
        ("ss", "Netid State Recv-Q Send-Q Local Peer\ntcp LISTEN 0 1 0.0.0.0:22\n", 2),
        ("ss", "tcp BOGUS 0 0 0.0.0.0:22 0.0.0.0:*\n", 1),
        ("ss", "garbage line here\n", 1),
        ("netstat", "Proto Recv-Q\ntcp 0 0 0.0.0.0:99999 0.0.0.0:* LISTEN\n", 2),
        ("netstat", "tcpx 0 0 1.2.3.4:1 0.0.0.0:* LISTEN\n", 1),
        ("lsof", "p12\nf3\ntIPv4\nPTCP\nn1.2.3.4\n", 5),
        ("lsof", "COMMAND PID USER FD TYPE\nsshd x root 3u IPv4 1 0t0 TCP *:22\n", 2),
    ],
)
def test_unreadable_output_names_tool_and_line(tool: str, text: str, lineno: int) -> None:
    with pytest.raises(ParseError) as info:
        portcheck.parse(text, tool=tool, platform="linux")
    assert (info.value.tool, info.value.lineno) == (tool, lineno)
    assert info.value.line == text.splitlines()[lineno - 1]
    assert f"line {lineno}" in str(info.value)


def test_service_names_resolve_and_unknown_ones_keep_the_row() -> None:
    text = (
        "tcp LISTEN 0 128 0.0.0.0:ssh 0.0.0.0:*\ntcp LISTEN 0 128 [::]:no-such-service-x [::]:*\n"
    )
    known, unknown = portcheck.parse(text, tool="ss", platform="linux")
    assert (known.local.port, known.local.service) == (22, "ssh")
    assert (unknown.local.port, unknown.local.service) == (0, "no-such-service-x")
    assert unknown.family is Family.IPV6


def test_ipv4_zone_and_bracketed_ipv6_zone() -> None:
    text = (
        "udp UNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:*\n"
        "udp UNCONN 0 0 [fe80::9cc5:aeff:fec5:34ae]%eth0:123 [::]:*\n"
    )
    v4, v6 = portcheck.parse(text, tool="ss", platform="linux")
    assert (v4.local.address, v4.local.zone, v4.family) == ("127.0.0.53", "lo", Family.IPV4)
    assert (v6.local.address, v6.local.zone) == ("fe80::9cc5:aeff:fec5:34ae", "eth0")
    assert str(v6.local) == "[fe80::9cc5:aeff:fec5:34ae%eth0]:123"


def test_netstat_program_names_with_spaces_and_hidden_owners() -> None:
    text = (
        "Active Internet connections (servers and established)\n"
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State"
        "       PID/Program name    \n"
        "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN"
        "      812/sshd: /usr/sbin \n"
        "tcp6       0      0 :::80                   :::*                    LISTEN"
        "      -                   \n"
        "udp        0      0 0.0.0.0:5353            0.0.0.0:*"
        "                           641/avahi-daemon: r \n"
    )
    sshd, hidden, avahi = portcheck.parse(text, tool="netstat", platform="linux")
    assert (sshd.pid, sshd.process, sshd.state) == (812, "sshd: /usr/sbin", portcheck.State.LISTEN)
    assert (hidden.pid, hidden.process, hidden.family) == (None, None, Family.IPV6)
    assert (avahi.pid, avahi.process, avahi.state) == (641, "avahi-daemon: r", None)


def test_the_default_backend_order_of_every_platform() -> None:
    # Written out: reordering the table (say, a tool before procfs on Linux) must fail here.
    from portcheck._backends import BACKENDS
    from portcheck._records import Platform

    assert {p.value: [b.name for b in BACKENDS[p]] for p in Platform} == {
        "linux": ["procfs", "ss", "lsof", "netstat"],
        "darwin": ["lsof", "netstat"],
        "freebsd": ["sockstat", "lsof", "netstat"],
        "netbsd": ["sockstat", "netstat"],
        "openbsd": ["fstat", "netstat"],
        "windows": ["netstat"],
    }
