"""Start-up of the command, as whole processes: `python -m bench.startup [--runs 60]`.

Times, in pairs run back to back so that both see the same machine:

- `portcheck PORT` on a port nothing holds (the default lookup, few sockets);
- `python -c "import attrs"` from the same interpreter: the floor, since the
  records are attrs classes;
- `python -c pass`: the interpreter alone.

Prints the medians and the median of the per-pair ratios command/attrs, the
number the start-up budget is written in (at most 1.5). Run it on a quiet
machine: ratios taken while other work shares the cores mislead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time


def _time(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


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
    port = str(_free_port())
    cases = {
        "portcheck PORT": [command, port],
        "import attrs": [sys.executable, "-c", "import attrs"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    for argv in cases.values():  # warm the page cache
        _time(argv)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, argv in cases.items():
            times[name].append(_time(argv))
    for name, values in times.items():
        print(f"{name:16} median {statistics.median(values) * 1000:6.1f} ms")
    ratios = [c / a for c, a in zip(times["portcheck PORT"], times["import attrs"])]
    print(f"ratio portcheck/attrs, median of {args.runs} pairs: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
