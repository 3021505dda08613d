"""`--timeout` is a real bound, whatever other users' processes do to the machine.

Any local user can make the descriptor scan slow: here 150 processes hold
about 19,000 descriptors each (one parent dups them, then forks, so the
tables cost nothing to build), and a full scan of them takes many seconds.
With `--timeout 1`, the lookup, `wait` and `kill` each end within 3 s with a
timeout error that names what was being read, never a late answer and never
"free".
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

# `alone`: while the hog lives, every other lookup on the machine is slow too.
pytestmark = [pytest.mark.live, pytest.mark.alone]

if not sys.platform.startswith("linux"):
    pytest.skip("the descriptor scan reads Linux /proc", allow_module_level=True)

PROCESSES = 150
FDS = min(19_000, resource.getrlimit(resource.RLIMIT_NOFILE)[1] - 64)

# One process dups /dev/null until its table is full, then forks the others.
HOG = f"""
import os, resource, signal, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
fd = os.open("/dev/null", os.O_RDONLY)
for _ in range({FDS}):
    os.dup(fd)
children = []
for _ in range({PROCESSES} - 1):
    pid = os.fork()
    if pid == 0:
        signal.pause()
        os._exit(0)
    children.append(pid)
print("ready", flush=True)
try:
    signal.pause()
finally:
    for pid in children:
        os.kill(pid, signal.SIGKILL)
"""


@pytest.fixture(scope="module")
def fd_hog() -> Iterator[None]:
    hog = subprocess.Popen(
        [sys.executable, "-c", HOG], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert hog.stdout is not None
        assert hog.stdout.readline() == b"ready\n"
        yield
    finally:
        os.killpg(hog.pid, signal.SIGKILL)
        hog.wait()
        if hog.stdout is not None:
            hog.stdout.close()


@pytest.fixture
def port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.usefixtures("fd_hog")
@pytest.mark.parametrize(
    "argv",
    [
        ["PORT"],
        ["wait", "PORT", "--free"],
        ["kill", "PORT", "--yes"],
    ],
    ids=["lookup", "wait", "kill"],
)
def test_timeout_1_ends_within_3_s_with_a_timeout_error(argv: list[str], port: int) -> None:
    args = [str(port) if a == "PORT" else a for a in argv]
    # What starting the command costs now (about 0.1 s on a quiet machine; more
    # when CI's parallel workers share the cores): the bound is on top of it.
    start = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "portcheck", "--version"], capture_output=True, check=True
    )
    startup = time.monotonic() - start
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "portcheck", *args, "--timeout", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    elapsed = time.monotonic() - start
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "reading /proc/*/fd did not finish within 1 s" in done.stderr
    assert elapsed < 3.0 + startup, (elapsed, startup)
