"""Start-up of the command, as whole processes: `python -m bench.startup [--runs 60]`.

Times, in rounds run back to back so that each pair sees the same machine:

- `portcheck PORT` on a port nothing holds (the default lookup, few sockets);
- `python -c "import attrs"` from the same interpreter: the floor, since the
  records are attrs classes;
- `python -c pass`: the interpreter alone.

Prints the medians (wall time, and CPU time: user + system of the child, less
sensitive to other work on the machine) and the median of the per-pair ratios
command/attrs, the number the start-up budget is written in (at most 1.5).
Run it on a quiet machine: ratios taken while other work shares the cores
mislead.

Run it with the interpreter of the environment to measure; from a fresh
non-editable install too, as users get it::

    python3 -m venv /tmp/v && /tmp/v/bin/pip install -q . && /tmp/v/bin/python -m bench.startup

The installed package is byte-compiled first, as `pip install` does: with
PYTHONDONTWRITEBYTECODE set, an editable checkout would otherwise compile
every module on every run, which no user pays.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time

COMPILE = (
    "import compileall, os, portcheck; "
    "compileall.compile_dir(os.path.dirname(portcheck.__file__), quiet=1)"
)


def _time(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of argv."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    command = shutil.which("portcheck", path=os.path.dirname(sys.executable))
    if command is None:
        sys.exit("portcheck is not installed beside this interpreter")
    # From /, so that the installed package is compiled, not a checkout in the cwd.
    subprocess.run([sys.executable, "-c", COMPILE], cwd="/", check=True)
    port = str(_free_port())
    cases = {
        "portcheck PORT": [command, port],
        "import attrs": [sys.executable, "-c", "import attrs"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    for argv in cases.values():  # warm the page cache
        _time(argv)
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, argv in cases.items():
            seconds, used = _time(argv)
            wall[name].append(seconds)
            cpu[name].append(used)
    for name in cases:
        print(
            f"{name:16} median wall {statistics.median(wall[name]) * 1000:6.1f} ms"
            f"   cpu {statistics.median(cpu[name]) * 1000:6.1f} ms"
        )
    for label, times in (("wall", wall), ("cpu", cpu)):
        ratios = [c / a for c, a in zip(times["portcheck PORT"], times["import attrs"]) if a]
        print(
            f"ratio portcheck/attrs ({label}), median of {len(ratios)} pairs:"
            f" {statistics.median(ratios):.2f}"
        )


if __name__ == "__main__":
    main()
