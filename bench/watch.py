"""CPU of `portcheck.watch` per poll: `python -m bench.watch [--listeners 1000] [--polls 30]`.

Starts holder processes with LISTENERS TCP listeners between them (a tenth
on 0.0.0.0, the rest on loopback; 50 per process, as a machine running many
services has many processes), then runs the real watch loop for POLLS polls
with the sleep between polls replaced by a counter, and reads the CPU time
this process and its children used (user + system, every thread: getrusage).

It prints the median wall time of a poll, the CPU seconds per poll, and
that as a share of one core at a 1 s interval, the budget being 5%. CPU time
is what the budget is about and what a busy machine changes least; the load
average at the start and end is printed so that a reader knows how busy it
was. Run as root so that every owner is read, as an operator would.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from portcheck._context import context_for
from portcheck._listing import watch as _watch
from portcheck._listing.select import select

PER_PROCESS = 50

HOLDER = """
import json, signal, socket, sys
count, wide = int(sys.argv[1]), int(sys.argv[2])
held = []
for i in range(count):
    s = socket.socket()
    s.bind(("0.0.0.0" if i < wide else "127.0.0.1", 0))
    s.listen()
    held.append(s)
print(json.dumps({"ports": [s.getsockname()[1] for s in held]}), flush=True)
signal.pause()
"""


class Done(Exception):  # noqa: N818 - a signal to stop, not an error
    """Raised by the counting sleep to end the watch after the polls wanted."""


def start_holders(listeners: int) -> list[subprocess.Popen[str]]:
    procs = []
    left = listeners
    while left > 0:
        count = min(PER_PROCESS, left)
        wide = count // 10
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(count), str(wide)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        json.loads(proc.stdout.readline())
        procs.append(proc)
        left -= count
    return procs


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # tool runs (ss, lsof) count too
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(polls: int, tool: str | None) -> dict[str, float]:
    walls: list[float] = []
    last = [time.perf_counter()]

    def sleep(_seconds: float) -> None:
        now = time.perf_counter()
        walls.append(now - last[0])
        if len(walls) > polls:
            raise Done
        last[0] = time.perf_counter()

    events = _watch._watch(
        context_for(),
        select(),
        interval=1.0,
        initial=False,
        exposed=False,
        tool=tool,
        sleep=sleep,
    )
    before = cpu_seconds()
    try:
        for _event in events:
            pass
    except Done:
        pass
    used = cpu_seconds() - before
    count = len(walls)  # the first poll (the baseline) and `polls` more
    return {
        "polls": count,
        "wall_per_poll_ms": statistics.median(walls) * 1000,
        "cpu_per_poll_ms": used / count * 1000,
        "share_of_one_core_at_1s": used / count / 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=1000)
    parser.add_argument("--polls", type=int, default=30)
    parser.add_argument("--tool", default=None, help="one backend (default: the usual order)")
    args = parser.parse_args()
    procs = start_holders(args.listeners)
    try:
        load_start = os.getloadavg()[0]
        found = len(_watch.lookup(None, scope="listening"))
        result = measure(args.polls, args.tool)
        load_end = os.getloadavg()[0]
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
    print(f"listeners on this machine: {found} ({args.listeners} started)")
    print(f"cores: {os.cpu_count()}, load average (1 min): {load_start:.2f} -> {load_end:.2f}")
    print(f"backend: {args.tool or 'default order'}, polls: {result['polls']}")
    print(f"wall per poll: {result['wall_per_poll_ms']:.1f} ms (median)")
    print(f"CPU per poll: {result['cpu_per_poll_ms']:.1f} ms")
    share = result["share_of_one_core_at_1s"] * 100
    print(f"at a 1 s interval: {share:.1f}% of one core (budget 5%)")


if __name__ == "__main__":
    main()
