"""`_backends.listing`: every socket from one listing, per platform, with its fallbacks.

The tools are replayed by the fake runner from captures; the kernel table is
also compared with /proc/net on live sockets (Linux).
"""

from __future__ import annotations

import socket
import sys

import pytest

from portcheck._backends import listing, procfs
from portcheck._backends.context import Context, ToolUnusableError, local_context
from portcheck._errors import NoToolError
from portcheck._records import Platform, Protocol
from tests import golden
from tests.fakes import FakeRunner

LINUX = golden.FIXTURES / "linux"
SS = ("/usr/bin/ss", "-t", "-u", "-a", "-n")
NETSTAT = ("/usr/bin/netstat", "-t", "-u", "-a", "-n", "-W")


def _context(platform: Platform, runner: FakeRunner, *, local_proc: bool) -> Context:
    return Context(
        runner=runner, timeout=5.0, platform=platform, local_proc=local_proc, privileged=False
    )


def _capture(name: str) -> bytes:
    return (LINUX / name).read_bytes()


def test_linux_without_proc_runs_ss_once_without_a_port_filter() -> None:
    runner = FakeRunner(
        tools={"ss": "/usr/bin/ss"}, replies={SS: (0, _capture("debian-12--ss-tuanpe.out"), b"")}
    )
    found = listing.every_socket(_context(Platform.LINUX, runner, local_proc=False))
    assert runner.calls == [SS]
    assert {s.protocol for s in found} == {Protocol.TCP, Protocol.UDP}
    assert len(found) > 10


def test_linux_falls_back_to_netstat_and_names_what_it_tried() -> None:
    runner = FakeRunner(
        tools={"netstat": "/usr/bin/netstat"},
        replies={NETSTAT: (0, _capture("debian-12--netstat-tuanpeW.out"), b"")},
    )
    found = listing.every_socket(_context(Platform.LINUX, runner, local_proc=False))
    assert runner.calls == [NETSTAT]
    assert found
    with pytest.raises(NoToolError) as info:
        listing.every_socket(_context(Platform.LINUX, FakeRunner(), local_proc=False))
    assert set(info.value.tried) == {"procfs", "ss", "netstat"}
    assert "install iproute2" in str(info.value)


@pytest.mark.parametrize(
    ("platform", "capture"),
    [
        (Platform.DARWIN, "synthetic/darwin/macos-14--netstat-an.out"),
        (Platform.FREEBSD, "freebsd/freebsd-12--netstat-an.out"),
        (Platform.OPENBSD, "openbsd/idx1315394814--openbsd-netstat-nap-tcp.out"),
    ],
)
def test_macos_and_bsd_run_netstat_an_once(platform: Platform, capture: str) -> None:
    argv = ("/usr/sbin/netstat", "-an")
    runner = FakeRunner(
        tools={"netstat": "/usr/sbin/netstat"},
        replies={argv: (0, (golden.FIXTURES / capture).read_bytes(), b"")},
    )
    found = listing.every_socket(_context(platform, runner, local_proc=False))
    assert runner.calls == [argv]
    assert found


def test_a_failing_tool_is_an_error_not_an_empty_listing() -> None:
    runner = FakeRunner(tools={"ss": "/usr/bin/ss"}, replies={SS: (1, b"", b"netlink denied")})
    with pytest.raises(OSError, match="netlink denied"):
        listing.every_socket(_context(Platform.LINUX, runner, local_proc=False))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads this Linux kernel")
def test_live_kernel_table_lists_every_port_by_netlink_and_by_proc_net() -> None:
    with socket.socket() as tcp, socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("::1", 0))
        wanted = {(Protocol.TCP, tcp.getsockname()[1]), (Protocol.UDP, udp.getsockname()[1])}
        by_netlink = {(e.socket.protocol, e.socket.local.port) for e in procfs.socket_table(None)}
        by_text = {
            (e.socket.protocol, e.socket.local.port)
            for e in procfs.socket_table(None, netlink=False)
        }
        via_listing = {
            (s.protocol, s.local.port)
            for s in listing.every_socket(local_context(Platform.LINUX, FakeRunner(), 5.0))
        }
    assert wanted <= by_netlink
    assert wanted <= by_text
    assert wanted <= via_listing


def test_kernel_table_needs_this_machines_proc() -> None:
    with pytest.raises(ToolUnusableError, match="Linux only"):
        listing._kernel_table(_context(Platform.LINUX, FakeRunner(), local_proc=False))
