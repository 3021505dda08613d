"""Live tests: real sockets on this machine, looked up through every Linux backend.

Each test starts a holder process (tests/support/holder.py) that binds sockets to
ports the kernel picks, and checks that every backend names exactly its pids,
name and user. CI installs ss, lsof and netstat, so no backend is skipped there.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import portcheck
from portcheck import Family, Protocol, State
from tests.live.conftest import IS_ROOT
from tests.support.as_nobody import run_as_nobody
from tests.support.hold import Held, Holders
from tests.support.ports import quiet_port

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux"),
]


@pytest.fixture
def hold(holders: Holders) -> Callable[..., Held]:
    """`hold(sockets, fork=..., user=...)` starts a holder process for this test."""
    return holders.start


def _me() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def _comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def test_tcp4_listener(backend: str | None, hold: Any) -> None:
    held = hold([["tcp-listen", "127.0.0.1"]])
    [sock] = portcheck.who_owns(held.ports[0], tool=backend)
    assert (sock.protocol, sock.family, sock.state) == (Protocol.TCP, Family.IPV4, State.LISTEN)
    assert sock.local == portcheck.Endpoint(address="127.0.0.1", port=held.ports[0])
    assert sock.remote is None
    assert (sock.pid, sock.process, sock.user, sock.uid) == (
        held.pids[0],
        _comm(held.pids[0]),
        _me(),
        os.geteuid(),
    )


def test_tcp6_listener_on_any(backend: str | None, hold: Any) -> None:
    held = hold([["tcp-listen", "::"]])
    [sock] = portcheck.who_owns(held.ports[0], tool=backend)
    assert (sock.family, sock.local.address, sock.state) == (Family.IPV6, "::", State.LISTEN)
    assert sock.pid == held.pids[0]


def _udp(found: list[portcheck.Socket]) -> list[portcheck.Socket]:
    return [s for s in found if s.protocol is Protocol.UDP]


def test_udp4_and_udp6(backend: str | None, hold: Any) -> None:
    # The test owns a UDP port: a TCP socket of another process may have the
    # same number (a client's ephemeral port), and is not the test's.
    held = hold([["udp", "127.0.0.1"]])
    [sock] = _udp(portcheck.who_owns(held.ports[0], tool=backend))
    assert (sock.protocol, sock.family, sock.state, sock.remote) == (
        Protocol.UDP,
        Family.IPV4,
        None,
        None,
    )
    assert sock.pid == held.pids[0]
    held6 = hold([["udp", "::1"]])
    [sock6] = _udp(portcheck.who_owns(held6.ports[0], tool=backend))
    assert (sock6.protocol, sock6.family, sock6.local.address) == (Protocol.UDP, Family.IPV6, "::1")
    assert sock6.pid == held6.pids[0]


def test_both_ends_of_a_connection(backend: str | None, hold: Any) -> None:
    server = hold([["tcp-listen", "127.0.0.1"]])
    port = server.ports[0]
    client = hold([["tcp-connect", f"127.0.0.1:{port}"]])
    client_port = client.ports[0]
    # The client side: an outbound socket from an ephemeral port, owned by the client.
    [out] = portcheck.who_owns(client_port, tool=backend)
    assert out.state is State.ESTABLISHED
    assert out.remote == portcheck.Endpoint(address="127.0.0.1", port=port)
    assert out.pid == client.pids[0]
    # The server side: the listener, plus the accepted connection (not yet
    # accepted by the holder, so still owned by nobody: the kernel's queue).
    server_side = portcheck.who_owns(port, tool=backend)
    listeners = [s for s in server_side if s.state is State.LISTEN]
    assert [s.pid for s in listeners] == [server.pids[0]]
    inbound = [s for s in server_side if s.state is State.ESTABLISHED]
    assert [s.remote for s in inbound] == [
        portcheck.Endpoint(address="127.0.0.1", port=client_port)
    ]


def test_socket_shared_by_two_processes(backend: str | None, hold: Any) -> None:
    held = hold([["tcp-listen", "127.0.0.1"]], fork=True)
    found = portcheck.who_owns(held.ports[0], tool=backend)
    assert sorted(s.pid for s in found if s.pid is not None) == sorted(held.pids)
    assert {s.state for s in found} == {State.LISTEN}


@pytest.mark.skipif(not IS_ROOT, reason="needs root to start a process as another user")
def test_socket_of_another_user_seen_by_root(backend: str | None, hold: Any) -> None:
    held = hold([["tcp-listen", "127.0.0.1"]], user="nobody")
    [sock] = portcheck.who_owns(held.ports[0], tool=backend)
    assert (sock.pid, sock.user, sock.uid) == (
        held.pids[0],
        "nobody",
        pwd.getpwnam("nobody").pw_uid,
    )


_HELD_ADDRESSES = ("127.0.0.1", "::1")


@pytest.mark.skipif(not IS_ROOT, reason="needs root to look up as another user")
def test_socket_of_another_user_looked_up_without_privileges(
    backend: str | None, hold: Any
) -> None:
    held = hold([["tcp-listen", "127.0.0.1"], ["udp", "::1"]])
    for port, protocol, address in zip(held.ports, (Protocol.TCP, Protocol.UDP), _HELD_ADDRESSES):
        # On a busy machine another process may use the same port number with
        # another protocol or address: only the socket held here is checked.
        found = [
            s
            for s in _lookup_as_nobody(port, backend)
            if (s["protocol"], s["local"]["address"]) == (protocol.value, address)
        ]
        # In use with the owner hidden: never "free", never a wrong pid.
        assert len(found) == 1, found
        assert found[0]["protocol"] == protocol.value
        assert found[0]["pid"] is None
        assert found[0]["uid"] == os.geteuid()


def _lookup_as_nobody(port: int, backend: str | None) -> list[dict[str, Any]]:
    """who_owns run in a forked child that dropped to `nobody`."""
    from portcheck._render.json import socket_to_dict

    def look() -> list[dict[str, Any]]:
        return [socket_to_dict(s) for s in portcheck.who_owns(port, tool=backend)]

    result: list[dict[str, Any]] = run_as_nobody(look)
    return result


def test_free_port_is_empty(backend: str | None) -> None:
    port = quiet_port()  # nobody else takes it while the test runs
    assert portcheck.who_owns(port, tool=backend) == []


@pytest.mark.parametrize("bad", [True, "80", 80.0, None])
def test_bad_port_type(bad: object) -> None:
    with pytest.raises(TypeError):
        portcheck.who_owns(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, 0, 65536])
def test_bad_port_value(bad: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 65535"):
        portcheck.who_owns(bad)


def test_default_order_answers_with_procfs_first(hold: Any) -> None:
    held = hold([["tcp-listen", "127.0.0.1"]])
    assert portcheck.who_owns(held.ports[0]) == portcheck.who_owns(held.ports[0], tool="procfs")


def test_command_on_a_live_port(hold: Any) -> None:
    held = hold([["tcp-listen", "127.0.0.1"]])
    port = held.ports[0]
    done = subprocess.run(
        [sys.executable, "-m", "portcheck", str(port), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["schema"] == 1
    [entry] = document["ports"]
    assert entry["in_use"] is True
    assert [s["pid"] for s in entry["sockets"]] == held.pids
