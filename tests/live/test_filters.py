"""Live: the listing filters through every Linux backend, and the owner details against /proc.

Only the holders' own sockets are looked at (a shared machine has others
coming and going): each filter must keep exactly the holders' sockets it
names and drop the others.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

import portcheck
from portcheck import Endpoint, Family, Protocol, State
from portcheck._backends import procfs as _procfs
from portcheck._parsers.proc_net import Entry
from tests.live.conftest import IS_ROOT
from tests.support.as_nobody import run_as_nobody
from tests.support.hold import Held, Holders

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux"),
]


def _mine(found: list[portcheck.Socket], *held: Held) -> set[tuple[int, int | None]]:
    ports = {p for h in held for p in h.ports}
    return {(s.local.port, s.pid) for s in found if s.local.port in ports}


@pytest.fixture
def two(holders: Holders) -> tuple[Held, Held]:
    """Two holders: one with two TCP listeners and a UDP socket, one with one listener."""
    first = holders.start([["tcp-listen", "127.0.0.1"], ["tcp-listen", "::1"], ["udp", "::1"]])
    second = holders.start([["tcp-listen", "127.0.0.1"]])
    return first, second


def test_port_keeps_the_ports_listed(backend: str | None, two: tuple[Held, Held]) -> None:
    first, second = two
    wanted = f"{first.ports[0]},{second.ports[0]}-{second.ports[0]}"
    found = portcheck.listening(tool=backend, port=wanted)
    assert _mine(found, first, second) == {
        (first.ports[0], first.pids[0]),
        (second.ports[0], second.pids[0]),
    }
    assert {s.local.port for s in found} <= {first.ports[0], second.ports[0]}


def test_pid_keeps_that_process(backend: str | None, two: tuple[Held, Held]) -> None:
    first, second = two
    found = portcheck.listening(tool=backend, pid=first.pids[0])
    assert _mine(found, first, second) == {(p, first.pids[0]) for p in first.ports}
    assert {s.pid for s in found} == {first.pids[0]}


def test_name_is_a_glob_that_ignores_case(backend: str | None, two: tuple[Held, Held]) -> None:
    first, _second = two
    comm = _procfs.process_info(first.pids[0])
    assert comm is not None
    pattern = comm[0][:3].upper() + "*"  # python3 -> PYT*
    assert (first.ports[0], first.pids[0]) in _mine(
        portcheck.listening(tool=backend, name=pattern), first
    )
    assert not _mine(portcheck.listening(tool=backend, name="no-such-name-*"), first)


def test_state_keeps_tcp_listeners_only(backend: str | None, two: tuple[Held, Held]) -> None:
    first, _second = two
    found = portcheck.sockets(tool=backend, state="listen", pid=first.pids[0])
    assert {s.local.port for s in found} == set(first.ports[:2])  # not the UDP socket
    assert all(s.state is State.LISTEN for s in found)


@pytest.mark.skipif(not IS_ROOT, reason="needs root to start a holder as nobody")
def test_user_by_name_and_uid(backend: str | None, holders: Holders) -> None:
    theirs = holders.start([["tcp-listen", "127.0.0.1"]], user="nobody")
    ours = holders.start([["tcp-listen", "127.0.0.1"]])
    kept = portcheck.listening(tool=backend, user="nobody")
    assert _mine(kept, theirs, ours) == {(theirs.ports[0], theirs.pids[0])}
    by_uid = portcheck.listening(tool=backend, user=0)
    assert _mine(by_uid, theirs, ours) == {(ours.ports[0], ours.pids[0])}


def test_owner_details_match_proc(backend: str | None, two: tuple[Held, Held]) -> None:
    first, _second = two
    pid = first.pids[0]
    found = portcheck.listening(tool=backend, pid=pid)
    assert found
    for sock in found:
        assert sock.parent == os.getpid()  # the holder is this test's child
        assert sock.cwd == os.readlink(f"/proc/{pid}/cwd")
        assert sock.exe == os.readlink(f"/proc/{pid}/exe")


@pytest.mark.skipif(not IS_ROOT, reason="needs root to become nobody")
def test_details_another_user_may_not_read_are_none(two: tuple[Held, Held]) -> None:
    first, _second = two
    pid = first.pids[0]

    def details() -> list[Any]:
        entry = Entry(
            Protocol.TCP, Family.IPV4, Endpoint(address="127.0.0.1", port=1), None, None, 0, 0
        )
        (record,) = _procfs.with_owners(entry, [pid])  # how every Linux backend names owners
        return [record.pid, record.parent, record.cwd, record.exe]

    found, parent, cwd, exe = run_as_nobody(details)
    assert found == pid
    assert parent == os.getpid()  # /proc/PID/stat is world-readable
    assert (cwd, exe) == (None, None)  # root's cwd and exe are not


def test_port_and_state_are_applied_before_owners_are_read(
    two: tuple[Held, Held], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _second = two
    asked: list[set[int]] = []
    real = _procfs.find_owners

    def recording(inodes: set[int], *args: Any, **kwargs: Any) -> dict[int, list[int]]:
        asked.append(set(inodes))
        return real(inodes, *args, **kwargs)

    monkeypatch.setattr(_procfs, "find_owners", recording)
    found = portcheck.listening(tool="procfs", port=first.ports[0])
    assert _mine(found, first) == {(first.ports[0], first.pids[0])}
    assert [len(inodes) for inodes in asked] == [1]  # that one socket's inode only
