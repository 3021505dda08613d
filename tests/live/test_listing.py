"""Live: `listening()` and `sockets()` against `ss -tulpn` on this machine.

Only the sockets these tests create are compared (a busy shared machine has
others coming and going); each backend must list them with exactly the pids
ss names, and list no connection among the listeners. Run as root, and as the
unprivileged `nobody` through a forked child.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from typing import Any

import pytest

import portcheck
from portcheck import Protocol, Socket
from portcheck._render.json import socket_to_dict
from portcheck._run import SystemRunner
from tests.support.as_nobody import run_as_nobody
from tests.support.hold import Holders

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux"),
]
SS = SystemRunner().which("ss")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
TOOLS = [t for t in ("procfs", "ss", "lsof", "netstat") if t == "procfs" or SystemRunner().which(t)]

Key = tuple[str, str, int, "int | None"]


def _keys(sockets: list[dict[str, Any]], ports: set[int]) -> set[Key]:
    return {
        (s["protocol"], s["local"]["address"], s["local"]["port"], s["pid"])
        for s in sockets
        if s["local"]["port"] in ports
    }


def _ss_listeners(user: str | None = None) -> list[dict[str, Any]]:
    assert SS is not None
    # As a login would: the user's uid AND gid, no extra groups (the kernel
    # shows /proc/PID/fd only to a caller whose uid and gid both match).
    ids: dict[str, Any] = {}
    if user is not None:
        entry = pwd.getpwnam(user)
        ids = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    done = subprocess.run(
        [SS, "-tulpn"], capture_output=True, check=True, env={"LC_ALL": "C"}, **ids
    )
    # Another test (or any user) may name a process with bytes that are not
    # UTF-8: decode as portcheck does, never strictly.
    text = done.stdout.decode("utf-8", errors="replace")
    return [socket_to_dict(s) for s in portcheck.parse(text, tool="ss", platform="linux")]


def _as_nobody(tool: str) -> list[dict[str, Any]]:
    """listening() run in a forked child that dropped to `nobody`."""
    result: list[dict[str, Any]] = run_as_nobody(
        lambda: [socket_to_dict(s) for s in portcheck.listening(tool=tool)]
    )
    return result


@pytest.fixture
def farm(holders: Holders) -> tuple[set[int], set[int], set[int]]:
    """(listener ports, connection ports, pids): listeners shared by a forked child,
    one held by nobody, one by a process whose name is not UTF-8, and a client
    connection that must not be listed."""
    shared = holders.start(
        [["tcp-listen", "127.0.0.1"], ["udp", "::1"], ["tcp-listen", "::"]], fork=True
    )
    users = [] if not IS_ROOT else [holders.start([["tcp-listen", "0.0.0.0"]], user="nobody")]
    # A name that is not UTF-8 (any user can pick one): every reader must survive it.
    users.append(holders.start([["tcp-listen", "127.0.0.1"]], name="web\udcffsrv"))
    client = holders.start([["tcp-connect", f"127.0.0.1:{shared.ports[0]}"]])
    listeners = set(shared.ports) | {p for h in users for p in h.ports}
    pids = set(shared.pids) | {p for h in users for p in h.pids}
    return listeners, set(client.ports), pids


@pytest.mark.skipif(SS is None, reason="ss is not installed (CI installs it)")
@pytest.mark.parametrize("tool", TOOLS)
def test_listening_names_the_same_sockets_and_pids_as_ss(
    tool: str, farm: tuple[set[int], set[int], set[int]]
) -> None:
    listeners, connections, _pids = farm
    mine = [socket_to_dict(s) for s in portcheck.listening(tool=tool)]
    expected = _keys(_ss_listeners(), listeners)
    assert _keys(mine, listeners) == expected
    assert len(expected) >= 6  # 3 sockets, 2 holders each, the odd name (+ nobody's as root)
    assert not _keys(mine, connections)
    assert all(s["pid"] is not None for s in mine if s["local"]["port"] in listeners)


@pytest.mark.skipif(SS is None or not IS_ROOT, reason="needs ss and root to become nobody")
@pytest.mark.parametrize("tool", TOOLS)
def test_listening_unprivileged_matches_ss_run_as_nobody(
    tool: str, farm: tuple[set[int], set[int], set[int]]
) -> None:
    listeners, _connections, _pids = farm
    mine = _as_nobody(tool)
    expected = _keys(_ss_listeners(user="nobody"), listeners)
    assert _keys(mine, listeners) == expected
    # Root's sockets are listed with the owner hidden; nobody's own with its pid.
    assert any(pid is None for *_, pid in expected)
    assert any(pid is not None for *_, pid in expected)


@pytest.mark.parametrize("tool", TOOLS)
def test_sockets_lists_the_connections_too(
    tool: str, farm: tuple[set[int], set[int], set[int]]
) -> None:
    listeners, connections, pids = farm
    everything: list[Socket] = portcheck.sockets(tool=tool)
    client_side = [s for s in everything if s.local.port in connections]
    assert [s.protocol for s in client_side] == [Protocol.TCP]
    assert {s.pid for s in everything if s.local.port in listeners} >= pids
