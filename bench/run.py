"""The benchmark: `python -m bench.run [--sizes 1000,8000,32000] [--json FILE]`.

For each size it starts a socket farm (bench/farm.py: N processes holding
about SIZE sockets, listeners and established loopback pairs) and times, as
medians over repeated runs in this same process run, side by side:

- `who_owns(port)` with the default order and with each Linux backend;
- the raw tools asked the same question: `ss -tuanp 'sport = :P'`,
  `lsof -nP -i :P`, `netstat -tuanp`;
- psutil's `net_connections()` filtered to the port (if psutil is installed:
  `pip install -e '.[bench]'`; never a runtime dependency);
- the `portcheck P` command as a whole process beside `lsof -nP -i :P`.

Then, independent of the farm: each parser's throughput in lines per second
on large captures, and `import portcheck` beside `import attrs` (whole
interpreter runs; the difference is what portcheck adds).

Ratios are taken between numbers of the same run, because these machines
are noisy. Run as root so that every tool sees every owner.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import portcheck
from bench.farm import Farm

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CHILD_ENV = {"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def median_ms(func: Callable[[], object], repeat: int) -> float:
    func()  # warm caches (dentries, page cache, imports) once, untimed
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run_quietly(argv: list[str]) -> Callable[[], object]:
    def run() -> object:
        return subprocess.run(argv, capture_output=True, env=CHILD_ENV, check=False)

    return run


def tool(name: str) -> str:
    path = shutil.which(name, path=CHILD_ENV["PATH"])
    if path is None:
        raise SystemExit(f"bench needs {name}")
    return path


def psutil_lookup(port: int) -> Callable[[], object] | None:
    try:
        import psutil
    except ImportError:
        return None

    def lookup() -> object:
        return [c for c in psutil.net_connections(kind="inet") if c.laddr and c.laddr.port == port]

    return lookup


def farm_measurements(size: int, processes: int, repeat: int) -> dict[str, Any]:
    with Farm(processes=processes, sockets=size) as farm:
        port = farm.target_port
        # Complete answers only: both holders of the target (see bench/farm.py).
        expected = set(farm.target_pids)
        for backend in (None, "procfs", "ss", "lsof", "netstat"):
            found = {s.pid for s in portcheck.who_owns(port, tool=backend)}
            if found != expected:
                raise SystemExit(f"{backend or 'default'} answered {found}, expected {expected}")
        times: dict[str, float] = {}
        times["who_owns default"] = median_ms(lambda: portcheck.who_owns(port), repeat)
        for backend in ("procfs", "ss", "lsof", "netstat"):
            times[f"who_owns {backend}"] = median_ms(
                lambda b=backend: portcheck.who_owns(port, tool=b),  # type: ignore[misc]
                repeat,
            )
        times["raw ss -tuanp sport"] = median_ms(
            run_quietly([tool("ss"), "-tuanp", f"sport = :{port}"]), repeat
        )
        times["raw lsof -nP -i :P"] = median_ms(
            run_quietly([tool("lsof"), "-nP", "-i", f":{port}"]), repeat
        )
        times["raw netstat -tuanp"] = median_ms(run_quietly([tool("netstat"), "-tuanp"]), repeat)
        lookup = psutil_lookup(port)
        if lookup is not None:
            times["psutil net_connections"] = median_ms(lookup, repeat)
        command = str(Path(sys.executable).with_name("portcheck"))
        times["command portcheck P"] = median_ms(run_quietly([command, str(port)]), repeat)
        holders = sorted(farm.target_pids)
        return {
            "size": farm.held,
            "processes": processes,
            "port": port,
            "holders": holders,
            "first_and_last": farm.target_pids == tuple(holders),
            "ms": times,
        }


def psutil_listeners() -> Callable[[], object] | None:
    try:
        import psutil
    except ImportError:
        return None

    def listeners() -> object:
        return [
            c
            for c in psutil.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN or (c.type == 2 and not c.raddr)  # SOCK_DGRAM
        ]

    return listeners


def listing_measurements(size: int, processes: int, repeat: int) -> dict[str, Any]:
    """`listening()` (default, and each backend) beside `ss -tulpn` and psutil's listeners."""
    with Farm(processes=processes, sockets=size) as farm:
        found = {s.pid for s in portcheck.listening() if s.local.port == farm.target_port}
        if found != set(farm.target_pids):
            raise SystemExit(f"listening() named {found} on the target port")
        times: dict[str, float] = {}
        times["listening() default"] = median_ms(portcheck.listening, repeat)
        for backend in ("procfs", "ss", "lsof", "netstat"):
            times[f"listening() {backend}"] = median_ms(
                functools.partial(portcheck.listening, tool=backend), repeat
            )
        times["sockets() default"] = median_ms(portcheck.sockets, repeat)
        times["raw ss -tulpn"] = median_ms(run_quietly([tool("ss"), "-tulpn"]), repeat)
        listeners = psutil_listeners()
        if listeners is not None:
            times["psutil listeners"] = median_ms(listeners, repeat)
        command = str(Path(sys.executable).with_name("portcheck"))
        times["command portcheck list"] = median_ms(run_quietly([command, "list"]), repeat)
        result = {"default / raw ss -tulpn": times["listening() default"] / times["raw ss -tulpn"]}
        if listeners is not None:
            result["default / psutil listeners"] = (
                times["listening() default"] / times["psutil listeners"]
            )
        return {"size": farm.held, "processes": processes, "ms": times, "ratios": result}


def ratios(times: dict[str, float]) -> dict[str, float]:
    ss = times["raw ss -tuanp sport"]
    result = {
        "default / raw ss": times["who_owns default"] / ss,
        "procfs / raw ss": times["who_owns procfs"] / ss,
        "command / raw lsof": times["command portcheck P"] / times["raw lsof -nP -i :P"],
    }
    if "psutil net_connections" in times:
        result["default / psutil"] = times["who_owns default"] / times["psutil net_connections"]
    return result


def _lines(capture: Path) -> list[str]:
    with capture.open(encoding="utf-8", newline="") as f:
        return f.read().splitlines(keepends=True)


def _header_and_rows(lines: list[str], parse: Callable[[str], list[Any]]) -> tuple[str, str]:
    """Split a capture into its header and its rows, without the non-inet sections after them."""
    end = next(
        (i for i, line in enumerate(lines) if i and line.startswith("Active ")
         and "Internet" not in line and "Connections" not in line),
        len(lines),
    )  # fmt: skip
    head = next((i for i in range(end) if parse("".join(lines[: i + 1]))), 0)
    return "".join(lines[:head]), "".join(lines[head:end])


def parser_throughput(target_lines: int = 200_000) -> dict[str, float]:
    """Lines per second of each parser: its largest capture's rows repeated to `target_lines`."""
    from tests.support import golden

    largest: dict[tuple[str, str], Path] = {}
    for capture in golden.captures():
        key = (golden.platform_of(capture), golden.tool_of(capture))
        if key not in largest or len(_lines(capture)) > len(_lines(largest[key])):
            largest[key] = capture
    result = {}
    for (platform, tool_name), capture in sorted(largest.items()):
        parse = functools.partial(portcheck.parse, tool=tool_name, platform=platform)
        header, rows = _header_and_rows(_lines(capture), parse)
        if not rows:
            continue
        text = header + rows * max(1, target_lines // rows.count("\n"))
        seconds = median_ms(functools.partial(parse, text), 3) / 1000
        result[f"{platform}/{tool_name} ({capture.name})"] = text.count("\n") / seconds
    from portcheck._parsers.proc_net import parse_table

    lines = _lines(FIXTURES / "linux" / "debian-12--proc-net-tcp.out")
    text = "".join(lines[:1] + lines[1:] * (target_lines // (len(lines) - 1)))
    table = functools.partial(parse_table, text, "tcp")
    result["linux/procfs table (every line)"] = text.count("\n") / (median_ms(table, 3) / 1000)
    return result


def import_times(repeat: int = 30) -> dict[str, float]:
    """Whole-interpreter medians of `import attrs` and `import portcheck`, interleaved.

    portcheck's modules are byte-compiled first, as `pip install` does: this
    environment sets PYTHONDONTWRITEBYTECODE, so an editable checkout would
    otherwise compile every module on every import, which no user pays.
    """
    import compileall

    compileall.compile_dir(str(ROOT / "portcheck"), quiet=1)
    runs: dict[str, list[float]] = {"attrs": [], "portcheck": []}
    for _ in range(repeat):
        for module, times in runs.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
            times.append(time.perf_counter() - start)
    result = {f"import {m}": statistics.median(t) * 1000 for m, t in runs.items()}
    # Whole interpreters vary by more than the few ms in question on these
    # machines, so what portcheck adds is also timed inside one interpreter:
    # `import portcheck` right after `import attrs`.
    added = "import attrs, time; t = time.perf_counter(); import portcheck; "
    added += "print(time.perf_counter() - t)"
    deltas = [
        float(subprocess.run([sys.executable, "-c", added], capture_output=True, check=True).stdout)
        for _ in range(repeat)
    ]
    result["added by portcheck (after attrs, same process)"] = statistics.median(deltas) * 1000
    return result


def print_table(title: str, rows: dict[str, float], unit: str) -> None:
    print(f"\n{title}")
    width = max(len(k) for k in rows)
    for key, value in rows.items():
        print(f"  {key.ljust(width)}  {value:12,.2f} {unit}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,8000,32000")
    parser.add_argument("--processes", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--skip-parsers", action="store_true")
    parser.add_argument(
        "--listing-only", action="store_true", help="only the listing section (8,000 sockets)"
    )
    parser.add_argument(
        "--lookup-only", action="store_true", help="only the per-port lookups at each size"
    )
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("warning: not root; tools will not see every owner", file=sys.stderr)
    results: dict[str, Any] = {"python": sys.version.split()[0], "farms": []}
    if not args.lookup_only:
        listing = listing_measurements(8000, args.processes, args.repeat)
        results["listing"] = listing
        title = f"listing: {listing['size']} sockets in {listing['processes']} processes (ms)"
        print_table(title, listing["ms"], "ms")
        print_table("listing ratios", listing["ratios"], "x")
    if args.listing_only:
        return
    for size in (int(s) for s in args.sizes.split(",")):
        farm = farm_measurements(size, args.processes, args.repeat)
        farm["ratios"] = ratios(farm["ms"])
        results["farms"].append(farm)
        title = (
            f"{farm['size']} sockets in {farm['processes']} processes (median ms); target held"
            f" by pids {farm['holders']}, first and last started: {farm['first_and_last']}"
        )
        print_table(title, farm["ms"], "ms")
        print_table("ratios", farm["ratios"], "x")
    if args.lookup_only:
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
        return
    if not args.skip_parsers:
        results["parsers"] = parser_throughput()
        print_table("parser throughput", results["parsers"], "lines/s")
    results["imports"] = import_times()
    print_table("import time (whole interpreter, median)", results["imports"], "ms")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
