"""The listing at 4,000 listeners: `python -m bench.listing [--listeners 4000] [--rounds 25]`.

Starts processes holding LISTENERS listening sockets in all (three TCP
listeners for one bound UDP socket, IPv4 and IPv6 loopback), then times, in
rounds run back to back so that each pair sees the same machine:

- `portcheck list` as a whole process (output to /dev/null) beside `ss -tulpn`;
- `portcheck.listening()` in this process beside `ss -tulpn`;
- the floor of any listing in Python with attrs records, in this process: the
  kernel's table over sock_diag, the scan of every process's descriptors, and
  one bare record per socket (no owner's files read, no order); what
  `listening()` costs above it is owners' names, identities, and order.

Prints the medians and the median of the per-round ratios; the budget is at
most 3.0 for the command and 1.0 in-process. Run it as root (so that ss and
portcheck see every owner) on a quiet machine: ratios taken while other work
shares the cores mislead. The installed package is byte-compiled first (see
bench/startup.py).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from types import TracebackType

import portcheck
from bench.farm import spawn, stop
from portcheck import Socket

PER_PROCESS = 100
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPILE = (
    "import compileall, os, portcheck; "
    "compileall.compile_dir(os.path.dirname(portcheck.__file__), quiet=1)"
)


def _hold(count: int) -> None:
    """Hold `count` listening sockets (3 TCP listeners for 1 UDP socket), until killed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
    held = []
    for i in range(count):
        family, host = (socket.AF_INET6, "::1") if i % 2 else (socket.AF_INET, "127.0.0.1")
        kind = socket.SOCK_DGRAM if i % 4 == 3 else socket.SOCK_STREAM
        sock = socket.socket(family, kind)
        sock.bind((host, 0))
        if kind == socket.SOCK_STREAM:
            sock.listen(8)
        held.append(sock)
    print("ready", flush=True)
    signal.pause()


class Listeners:
    """`count` listening sockets held by processes of PER_PROCESS each."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.procs: list[subprocess.Popen[str]] = []

    def __enter__(self) -> Listeners:
        left = self.count
        while left > 0:
            share = min(PER_PROCESS, left)
            left -= share
            argv = [sys.executable, "-m", "bench.listing", "hold", str(share)]
            self.procs.append(spawn(argv, cwd=ROOT))
        for proc in self.procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit("a listener process failed to start")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stop(self.procs)


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _floor() -> list[Socket]:
    """The table, the descriptor scan and one bare record per socket (see the docstring)."""
    from portcheck._backends import procfs

    entries = procfs.socket_table(None, listening=True)
    procfs.find_owners({e.inode for e in entries if e.inode})
    return [
        Socket(protocol=e.protocol, family=e.family, local=e.local, remote=e.remote, state=e.state)
        for e in entries
    ]


def _quietly(argv: list[str]) -> Callable[[], object]:
    out = subprocess.DEVNULL
    return lambda: subprocess.run(argv, stdout=out, stderr=out, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("warning: not root; tools will not see every owner", file=sys.stderr)
    command = shutil.which("portcheck", path=os.path.dirname(sys.executable))
    ss = shutil.which("ss", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if command is None or ss is None:
        raise SystemExit("needs the portcheck command beside this interpreter, and ss")
    subprocess.run([sys.executable, "-c", COMPILE], cwd="/", check=True)
    with Listeners(args.listeners):
        found = len(portcheck.listening())
        cases: dict[str, Callable[[], object]] = {
            "portcheck list": _quietly([command, "list"]),
            "ss -tulpn": _quietly([ss, "-tulpn"]),
            "listening()": portcheck.listening,
            "floor": _floor,
        }
        for run in cases.values():  # warm caches once, untimed
            _timed(run)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, run in cases.items():
                times[name].append(_timed(run))
    print(f"{args.listeners} listeners held; listening() returned {found} records")
    for name, values in times.items():
        print(f"  {name:16} median {statistics.median(values) * 1000:7.1f} ms")
    for name, budget in (("portcheck list", "3.0"), ("listening()", "1.0"), ("floor", "none")):
        ratios = [a / b for a, b in zip(times[name], times["ss -tulpn"])]
        print(
            f"  {name} / ss -tulpn, median of {args.rounds} rounds:"
            f" {statistics.median(ratios):.2f} (budget {budget})"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["hold"]:
        _hold(int(sys.argv[2]))
    else:
        main()
