"""Live: `find_free_ports` and the bind obstacles of `describe` on this Linux machine.

Ports come from the kernel (bind port 0), never fixed numbers, so that parallel
runs on a shared machine do not collide. Writing the reserved-ports list and
looking up as `nobody` need root; those tests skip otherwise.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import portcheck
from portcheck._context import context_for
from portcheck._ports import find as _free
from portcheck._ports.reserved import LINUX_RESERVED, LINUX_UNPRIVILEGED_START
from tests.support.as_nobody import run_as_nobody
from tests.support.hold import Holders
from tests.support.ports import quiet_port

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux"),
]

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
# Parallel runs of these tests share the machine's reserved-ports list: each
# change is made under this lock and undone before it is released.
_LOCK = Path("/tmp/portcheck-test-reserved-ports.lock")


def _around(port: int, width: int = 4) -> tuple[int, int]:
    return max(1, port - width), min(65535, port + width)


def test_ports_held_by_real_sockets_are_never_returned(holders: Holders) -> None:
    # Another process holds a TCP listener, a UDP socket, an IPv6-only listener
    # and the local end of a connection, each on a port the kernel chose.
    server = holders.start(
        [["tcp-listen", "127.0.0.1"], ["udp", "127.0.0.1"], ["tcp-listen", "::1"]]
    )
    client = holders.start([["tcp-connect", f"127.0.0.1:{server.ports[0]}"]])
    tcp_ports = [server.ports[0], server.ports[2], client.ports[0]]
    for port in tcp_ports:
        first, last = _around(port)
        # Every other port of the range may be free: ask for all of them.
        with pytest.raises(portcheck.NoFreePortError) as info:
            portcheck.find_free_ports(first, last, count=last - first + 1, allow_ephemeral=True)
        assert port not in info.value.found
        assert info.value.skipped["in_use"] >= 1
    udp = server.ports[1]
    with pytest.raises(portcheck.NoFreePortError) as udp_info:
        portcheck.find_free_ports(udp, udp, protocol="udp", allow_ephemeral=True)
    assert (udp_info.value.found, udp_info.value.skipped["in_use"]) == ([], 1)


def test_the_listing_alone_skips_held_ports(holders: Holders) -> None:
    # With a bind check that accepts everything, only the one listing can skip them.
    held = holders.start([["tcp-listen", "127.0.0.1"], ["tcp-listen", "::1"], ["udp", "::1"]])
    for port, protocol in zip(held.ports, ("tcp", "tcp", "both")):
        found = _free.search(
            _free.Wanted.checked(port, port, protocol=protocol, allow_ephemeral=True),
            context_for(),
            can_bind=lambda p, protocols: True,
        )
        assert (found.ports, found.skipped["in_use"]) == ((), 1)


def test_returned_ports_bind() -> None:
    ports = portcheck.find_free_ports(10000, 30000, count=3, protocol="both", random=True)
    assert len(set(ports)) == 3
    ephemeral = portcheck.ephemeral_range()
    for port in ports:
        assert 10000 <= port <= 30000
        assert port not in ephemeral
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            with socket.socket(socket.AF_INET, kind) as sock:
                sock.bind(("0.0.0.0", port))


def test_a_port_bound_by_this_process_is_refused_by_the_bind_check() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))  # bound, never listened: the kernel table shows it too
        port = held.getsockname()[1]
        found = _free.search(_free.Wanted.checked(port, port, allow_ephemeral=True), context_for())
    assert found.ports == ()
    assert found.skipped["in_use"] + found.skipped["bind_refused"] == 1


@contextlib.contextmanager
def _reserved_ports(extra: int) -> Iterator[None]:
    """Add `extra` to the reserved-ports list; restore the saved list afterwards, always."""
    with _LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        saved = Path(LINUX_RESERVED).read_text().strip()
        try:
            Path(LINUX_RESERVED).write_text(",".join(filter(None, [saved, str(extra)])) + "\n")
            yield
        finally:
            Path(LINUX_RESERVED).write_text(saved + "\n")


def _writable(path: str) -> bool:
    return os.access(path, os.W_OK)


@pytest.mark.skipif(not IS_ROOT, reason="writing ip_local_reserved_ports needs root")
def test_a_reserved_port_is_skipped_and_explained() -> None:
    if not _writable(LINUX_RESERVED):
        pytest.skip(f"{LINUX_RESERVED} is read-only here (a container without sysctl rights)")
    port = quiet_port()  # nobody else takes it while the test runs
    with _reserved_ports(port):
        found = _free.search(_free.Wanted.checked(port, port, allow_ephemeral=True), context_for())
        report = portcheck.describe(port)
    assert (found.ports, found.skipped["reserved"]) == ((), 1)
    assert report.reserved is not None
    assert port in report.reserved
    assert report.reserved.source == LINUX_RESERVED
    assert "It is in this system's reserved ports" in report.explain()


def _as_nobody(port: int) -> dict[str, Any]:
    """describe(port) and a search of [port, port] in a forked child running as `nobody`."""

    def look() -> dict[str, Any]:
        report = portcheck.describe(port)
        found = _free.search(_free.Wanted.checked(port, port, allow_ephemeral=True), context_for())
        return {
            "privileged": report.privileged,
            "explain": report.explain(),
            "ports": list(found.ports),
            "skipped": found.skipped,
        }

    result: dict[str, Any] = run_as_nobody(look)
    return result


@pytest.mark.skipif(not IS_ROOT, reason="needs root to look up as nobody")
def test_a_low_port_looked_up_as_nobody_is_privileged() -> None:
    start = int(Path(LINUX_UNPRIVILEGED_START).read_text())
    if start <= 1:
        pytest.skip(f"ip_unprivileged_port_start is {start}: no port is privileged here")
    port = start - 1  # never bound: only described and searched
    as_nobody = _as_nobody(port)
    assert as_nobody["privileged"] is True
    assert "It is a privileged port here" in as_nobody["explain"]
    assert as_nobody["ports"] == []
    assert as_nobody["skipped"]["privileged"] + as_nobody["skipped"]["in_use"] == 1
    # Root holds CAP_NET_BIND_SERVICE: the same port is not privileged for it.
    assert portcheck.describe(port).privileged is False
