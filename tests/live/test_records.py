"""One record per (socket, process), and every record right: hidden owners kept apart,
bound-only sockets, sockets held by threads of a process whose main thread exited.

Every test owns its port: the kernel picks it (bind to port 0) for a socket
the test or its child keeps for the whole test.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

import portcheck
from portcheck import Protocol, State
from portcheck._records import NoOwner, Role
from tests.live.conftest import IS_ROOT
from tests.support.as_nobody import run_as_nobody
from tests.support.ports import quiet_port

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux"),
]

# A child that binds a UDP socket with SO_REUSEPORT to the port given (0: any),
# prints the port, and holds it until killed.
_REUSEPORT_UDP = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
print(s.getsockname()[1], flush=True)
time.sleep(600)
"""


def _start(script: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    assert line, "the child died before holding its socket"
    return child, line


def _stop(children: list[subprocess.Popen[str]]) -> None:
    for child in children:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()


@pytest.fixture
def two_hidden() -> Iterator[tuple[int, list[int]]]:
    """(port, pids): two root processes, each with its own SO_REUSEPORT UDP socket there."""
    # Outside the ephemeral range: no TCP socket of another test takes the number.
    first, port = _start(_REUSEPORT_UDP, str(quiet_port()))
    second, _same = _start(_REUSEPORT_UDP, port)
    try:
        yield int(port), [first.pid, second.pid]
    finally:
        _stop([first, second])


BACKENDS = ["procfs", "ss", "lsof", "netstat"]


@pytest.mark.skipif(not IS_ROOT, reason="needs root to start the other user's sockets")
@pytest.mark.parametrize("tool", BACKENDS)
def test_two_hidden_sockets_on_one_port_stay_two_records(
    tool: str, two_hidden: tuple[int, list[int]]
) -> None:
    port, pids = two_hidden
    if tool != "procfs" and portcheck._run.SystemRunner().which(tool) is None:
        pytest.skip(f"{tool} is not installed")

    def look() -> list[list[object]]:
        found = portcheck.who_owns(port, tool=tool)
        return [[s.pid, s.no_owner.value if s.no_owner else None, s.socket_id] for s in found]

    as_nobody = run_as_nobody(look)
    assert [r[:2] for r in as_nobody] == [[None, "hidden"], [None, "hidden"]]
    assert as_nobody[0][2] != as_nobody[1][2]  # two sockets, told apart by inode
    # Root sees both owners, one record each.
    assert sorted(s.pid or 0 for s in portcheck.who_owns(port, tool=tool)) == sorted(pids)


@pytest.mark.skipif(not IS_ROOT, reason="needs root to start the other user's sockets")
def test_two_hidden_sockets_in_listening(two_hidden: tuple[int, list[int]]) -> None:
    port, _pids = two_hidden

    def look() -> int:
        return sum(1 for s in portcheck.listening() if s.local.port == port)

    assert run_as_nobody(look) == 2


def _kernel_at_least(major: int, minor: int) -> bool:
    parts = platform.release().split(".")
    try:
        return (int(parts[0]), int(parts[1])) >= (major, minor)
    except (IndexError, ValueError):
        return False


needs_bound_inactive = pytest.mark.skipif(
    not _kernel_at_least(6, 5),
    reason="a bound-only TCP socket is listed only by Linux 6.5+ (TCP_BOUND_INACTIVE)",
)


@pytest.fixture
def bound_only() -> Iterator[int]:
    """The port of a TCP socket this process bound, neither listening nor connected."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@needs_bound_inactive
@pytest.mark.parametrize("tool", [*BACKENDS, None])
def test_bound_only_socket_through_every_backend(tool: str | None, bound_only: int) -> None:
    if tool not in (None, "procfs") and portcheck._run.SystemRunner().which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    [sock] = portcheck.who_owns(bound_only, tool=tool)
    assert (sock.protocol, sock.state, sock.pid, sock.remote) == (
        Protocol.TCP,
        State.BOUND,
        os.getpid(),
        None,
    )
    assert sock.socket_id is not None


@needs_bound_inactive
def test_bound_only_find_and_describe_agree(bound_only: int) -> None:
    report = portcheck.describe(bound_only)
    assert [r.role for r in report.sockets] == [Role.BOUND]
    assert "bound, not listening" in report.explain()
    # find_free_ports binds its candidates: it never offers the port either.
    with pytest.raises(portcheck.NoFreePortError):
        portcheck.find_free_ports(bound_only, bound_only, allow_ephemeral=True)


@needs_bound_inactive
def test_bound_only_socket_is_not_listed_as_listening(bound_only: int) -> None:
    assert [s for s in portcheck.listening() if s.local.port == bound_only] == []
    assert [s.state for s in portcheck.sockets() if s.local.port == bound_only] == [State.BOUND]


# The listener lives in a second thread; the main thread then exits with
# pthread_exit, leaving a zombie leader with an empty /proc/PID/fd.
_THREAD_HELD = r"""
import ctypes, socket, threading, time
ready = threading.Event()
def serve():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    print(s.getsockname()[1], flush=True)
    ready.set()
    while True:
        time.sleep(60)
threading.Thread(target=serve).start()
ready.wait()
ctypes.CDLL(None).pthread_exit(None)
"""


def _zombie_leader(pid: int) -> bool:
    with open(f"/proc/{pid}/stat", "rb") as f:
        return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"


@pytest.fixture
def thread_held() -> Iterator[tuple[int, int]]:
    """(port, pid) of a listener held by a thread whose process's main thread exited."""
    child, port = _start(_THREAD_HELD)
    try:
        for _ in range(1000):  # up to 10 s on a busy machine
            if _zombie_leader(child.pid):
                break
            time.sleep(0.01)
        else:
            pytest.skip("the main thread did not exit (pthread_exit unavailable?)")
        yield int(port), child.pid
    finally:
        os.kill(child.pid, signal.SIGKILL)
        _stop([child])


@pytest.mark.skipif(not IS_ROOT, reason="root sees every owner")
@pytest.mark.parametrize("tool", [*BACKENDS, None])
def test_socket_held_by_a_thread_after_the_main_thread_exited(
    tool: str | None, thread_held: tuple[int, int]
) -> None:
    if tool not in (None, "procfs") and portcheck._run.SystemRunner().which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    port, pid = thread_held
    assert os.listdir(f"/proc/{pid}/fd") == []  # what every tool reads: nothing
    [sock] = portcheck.who_owns(port, tool=tool)
    assert (sock.pid, sock.state, sock.no_owner) == (pid, State.LISTEN, None)


def test_started_is_the_owners_start_time() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        [found] = portcheck.who_owns(sock.getsockname()[1])
    assert found.started is not None
    assert found.started.tzinfo is not None
    with open(f"/proc/{os.getpid()}/stat", "rb") as f:
        ticks = int(f.read().rsplit(b")", 1)[1].split()[19])
    with open("/proc/stat", "rb") as f:
        boot = next(float(line.split()[1]) for line in f if line.startswith(b"btime "))
    assert found.started.timestamp() == pytest.approx(boot + ticks / os.sysconf("SC_CLK_TCK"))


def test_time_wait_is_not_owner_hidden() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server closes first: its end goes to TIME_WAIT
        client.close()
        found = [s for s in portcheck.who_owns(port) if s.state is State.TIME_WAIT]
    assert found, "no TIME_WAIT socket left on the port"
    assert all(s.no_owner is NoOwner.TIME_WAIT and not s.owner_hidden for s in found)


# A pre-fork server: one listener inherited by three children (the parent keeps it too).
_PRE_FORK = r"""
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
for _ in range(3):
    if os.fork() == 0:
        time.sleep(600)
        os._exit(0)
print(s.getsockname()[1], flush=True)
time.sleep(600)
"""


def test_records_come_in_one_order_from_every_backend() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _PRE_FORK], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        answers = {}
        for tool in [*BACKENDS, None]:
            if tool not in (None, "procfs") and portcheck._run.SystemRunner().which(tool) is None:
                continue
            answers[tool] = [s.pid or 0 for s in portcheck.who_owns(port, tool=tool)]
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the server and its children
        _stop([child])
    pids = answers["procfs"]
    assert len(pids) == 4
    assert pids == sorted(pids)  # ascending (ss lists pre-fork pids descending)
    assert all(found == pids for found in answers.values()), answers
