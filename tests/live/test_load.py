"""Load and churn: many lookups leak nothing, threads agree, sockets that come and go do no harm.

Counts: 1,000 consecutive lookups through the default backend (procfs), and
`TOOL_REPEATS` through each tool backend (each run starts a process, and lsof
takes about 40 ms on the CI machine); 8 threads of 100 lookups, spread over
procfs, ss and netstat; 20 rounds of a one-second churn under CPU load. CI's
runs after the README's take a share of them (`SHARE`, `CHURN_ROUNDS`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import portcheck
from portcheck import PortcheckError, Protocol
from portcheck._records import NoOwner
from portcheck._run import SystemRunner
from tests.live.conftest import IS_ROOT
from tests.support.hold import Held, Holders

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux"),
]

# The whole counts in the README's run; CI's runs after it take a fifth
# (PORTCHECK_LOAD_SHARE=0.2), as they take a tenth of the fuzz budget: a leak
# of one descriptor or child a lookup shows after the first, and the threads'
# answers are checked one by one.
SHARE = float(os.environ.get("PORTCHECK_LOAD_SHARE", "1"))
CONSECUTIVE = max(1, round(1000 * SHARE))
TOOL_REPEATS = max(1, round(50 * SHARE))
THREADS = 8
PER_THREAD = max(1, round(100 * SHARE))
CHURN_SECONDS = 1.0  # a round; CHURN_ROUNDS of them


def _installed(tool: str | None) -> bool:
    return tool in (None, "procfs") or SystemRunner().which(tool) is not None


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def _my_children() -> set[int]:
    children: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            children.update(int(c) for c in (task / "children").read_text().split())
        except FileNotFoundError:
            continue  # a thread that ended since the listing
    return children


@pytest.fixture
def held(holders: Holders) -> Held:
    """A TCP listener and a UDP socket, both shared by two processes (a fork)."""
    return holders.start([["tcp-listen", "127.0.0.1"], ["udp", "::1"]], fork=True)


def _answer(found: list[portcheck.Socket]) -> list[tuple[Protocol, int, int | None]]:
    return sorted((s.protocol, s.local.port, s.pid) for s in found)


def _expected(held: Held, index: int) -> list[tuple[Protocol, int, int | None]]:
    protocol = (Protocol.TCP, Protocol.UDP)[index]
    return sorted((protocol, held.ports[index], pid) for pid in held.pids)


@pytest.mark.parametrize(
    ("tool", "repeats"),
    [(None, CONSECUTIVE), ("ss", TOOL_REPEATS), ("lsof", TOOL_REPEATS), ("netstat", TOOL_REPEATS)],
    ids=["default", "ss", "lsof", "netstat"],
)
def test_consecutive_lookups_leave_no_descriptor_or_child(
    tool: str | None, repeats: int, held: Held
) -> None:
    if not _installed(tool):
        pytest.skip(f"{tool} is not installed (CI installs it)")
    expected = _expected(held, 0)
    fds, children = _open_fds(), _my_children()
    for _ in range(repeats):
        assert _answer(portcheck.who_owns(held.ports[0], tool=tool)) == expected
    assert _open_fds() == fds
    assert _my_children() == children


# lsof (about 40 ms a run) is left to the consecutive test, to keep this one near 5 s.
THREAD_BACKENDS = [None, "procfs", "ss", "netstat", None, "procfs", "ss", "netstat"]


def test_eight_threads_all_get_the_right_answer(held: Held) -> None:
    backends = [t for t in THREAD_BACKENDS if _installed(t)]
    assert backends

    def work(worker: int) -> int:
        tool = backends[worker % len(backends)]
        right = 0
        for i in range(PER_THREAD):
            which = (worker + i) % 2
            if _answer(portcheck.who_owns(held.ports[which], tool=tool)) == _expected(held, which):
                right += 1
        return right

    fds, children = _open_fds(), _my_children()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))
    assert results == [PER_THREAD] * THREADS
    assert _open_fds() == fds
    assert _my_children() == children


# The churner: forks short-lived owners that bind (SO_REUSEPORT, so several at
# once) TCP listeners and UDP sockets on a few ports and exit after 0-20 ms,
# while it opens and closes sockets on them itself. It owns its ports: it binds
# them itself (port 0: the kernel picks ports nobody uses) and holds a steady
# listener and UDP socket on each for the whole run, so no other process (another
# test's client picking an ephemeral port) can take one of them between two
# churns. Its first line is the ports; then every process that will hold a port
# is logged as "PID PORT" pairs (the churner's own pid for every port).
_CHURN = r"""
import os, random, socket, sys, time
count, seconds = int(sys.argv[1]), float(sys.argv[2])
rng = random.Random(6)

def bind(port):
    held = []
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            s.bind(("127.0.0.1", port))
            if kind == socket.SOCK_STREAM:
                s.listen()
        except OSError:
            pass
        held.append(s)
        port = port or s.getsockname()[1]
    return held

steady = [bind(0) for _ in range(count)]
ports = [held[0].getsockname()[1] for held in steady]
print(",".join(map(str, ports)), flush=True)
print(" ".join(f"{os.getpid()} {p}" for p in ports), flush=True)
end = time.monotonic() + seconds
children = 0
while time.monotonic() < end:
    port = rng.choice(ports)
    pid = os.fork()
    if pid == 0:
        for held in steady:
            for s in held:
                s.close()
        mine = bind(port)
        time.sleep(rng.random() * 0.02)
        os._exit(0)
    # The child inherits the steady sockets until it closes them: it holds every port.
    print(" ".join(f"{pid} {p}" for p in ports), flush=True)
    children += 1
    for s in bind(rng.choice(ports)):
        s.close()
    time.sleep(rng.random() * 0.005)
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
print("done", children, flush=True)
"""

# Rounds of the churn, each under CPU load (a busy loop per core beside it):
# the lookups' races (a pid reused between the descriptor scan and its name
# read) show on a loaded machine. CI runs all 20 once (the README's run) and
# fewer in the runs after it, as it does with the fuzzers' budget.
CHURN_ROUNDS = int(os.environ.get("PORTCHECK_CHURN_ROUNDS", "20"))


@pytest.fixture(scope="module")
def cpu_load() -> Iterator[None]:
    """A busy-loop child per core for the module's churn rounds; one under pytest-xdist,
    whose other workers load the cores already (and must not be starved past their
    own tests' timeouts)."""
    count = 1 if os.environ.get("PYTEST_XDIST_WORKER") else (os.cpu_count() or 1)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for child in busy:
            child.kill()
            child.wait()


@pytest.mark.usefixtures("cpu_load")
@pytest.mark.parametrize("round_", range(CHURN_ROUNDS))
def test_churn_never_crashes_nor_names_a_pid_that_never_held_the_port(round_: int) -> None:
    churner = subprocess.Popen(
        [sys.executable, "-c", _CHURN, "3", str(CHURN_SECONDS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert churner.stdout is not None
    ports = [int(p) for p in churner.stdout.readline().split(",")]
    first = churner.stdout.readline()
    assert first, "the churner died before starting"
    backends = [t for t in (None, "ss", "netstat", "lsof") if _installed(t)]
    seen: list[portcheck.Socket] = []
    by_default: list[portcheck.Socket] = []
    errors: list[PortcheckError] = []
    lookups = 0
    deadline = time.monotonic() + CHURN_SECONDS
    while time.monotonic() < deadline:
        port = ports[lookups % len(ports)]
        tool = backends[(lookups + round_) % len(backends)]
        try:
            found = portcheck.who_owns(port, tool=tool)
        except PortcheckError as exc:  # collected: the assertion below shows them all
            errors.append(exc)
        else:
            assert all(s.local.port == port for s in found)
            seen.extend(found)
            if tool is None:
                by_default.extend(found)
        lookups += 1
    log, _ = churner.communicate(timeout=60)
    assert churner.returncode == 0
    lines = (first + log).split("\n")
    assert lines[-2].startswith("done ")
    held = {
        (int(pid), int(port))
        for line in lines[:-2]
        for pid, port in zip(line.split()[::2], line.split()[1::2])
    }
    assert errors == []
    named = {(s.pid, s.local.port) for s in seen if s.pid is not None}
    assert named, f"{lookups} lookups never saw an owner: the churn did not overlap them"
    assert named <= held, named - held
    if IS_ROOT:
        # Root sees every holder in this pid namespace: a socket whose holder
        # is gone by the time it is read closed during the lookup; it is never
        # called hidden (which would send the operator to look for privileges).
        hidden = [s for s in by_default if s.no_owner is NoOwner.HIDDEN]
        assert hidden == [], hidden[:3]
