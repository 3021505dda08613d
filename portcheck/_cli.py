"""The `portcheck` command: `portcheck PORT [PORT ...]`.

Exit status: 0 when a port is in use, 1 when every port is free, 2 on an error
(bad arguments, no usable tool, a tool that failed or timed out).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from ._errors import PortcheckError
from ._json import socket_to_dict
from ._lookup import who_owns
from ._records import Socket

# Version of the --json output; bumped on any incompatible change.
JSON_SCHEMA = 1

EXIT_IN_USE, EXIT_FREE, EXIT_ERROR = 0, 1, 2

_EPILOG = """\
examples:
  portcheck 8080                 who holds port 8080? (exit 0 in use, 1 free, 2 error)
  portcheck 80 443 --json        both ports, as JSON for scripts
  portcheck 5432 --tool ss       force one backend
  if portcheck -q 8080; then echo "8080 is taken"; fi
"""


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {text!r}")
    return int(text)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portcheck",
        description="Show which processes listen on or connect from a TCP/UDP port.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("ports", metavar="PORT", nargs="+", type=_port, help="port number(s)")
    parser.add_argument("--json", action="store_true", help="print the records as JSON")
    parser.add_argument("--tool", help="force one backend (linux: procfs, ss, lsof, netstat)")
    parser.add_argument(
        "--timeout", type=_positive, default=10.0, help="seconds allowed per tool run (10)"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing; only the exit status"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    results: dict[int, list[Socket]] = {}
    try:
        for port in args.ports:
            results[port] = who_owns(port, tool=args.tool, timeout=args.timeout)
    except PortcheckError as exc:
        print(f"portcheck: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if not args.quiet:
        if args.json:
            print(json.dumps(_json_document(results), indent=2))
        else:
            _print_table(results)
        _warn_hidden(results)
    return EXIT_IN_USE if any(results.values()) else EXIT_FREE


def _json_document(results: dict[int, list[Socket]]) -> dict[str, object]:
    return {
        "schema": JSON_SCHEMA,
        "ports": [
            {
                "port": port,
                "in_use": bool(sockets),
                "sockets": [socket_to_dict(s) for s in sockets],
            }
            for port, sockets in results.items()
        ],
    }


_HEADER: tuple[str, ...] = (
    "PORT",
    "PROTO",
    "LOCAL ADDRESS",
    "REMOTE ADDRESS",
    "STATE",
    "PID",
    "PROCESS",
    "USER",
)


def _row(port: int, sock: Socket) -> tuple[str, ...]:
    proto = sock.protocol.value + ("6" if sock.family.value == "ipv6" else "")
    return (
        str(port),
        proto,
        str(sock.local),
        str(sock.remote) if sock.remote else "-",
        sock.state.value if sock.state else "-",
        str(sock.pid) if sock.pid is not None else "-",
        sock.process or ("(hidden)" if sock.pid is None else "-"),
        sock.user or (str(sock.uid) if sock.uid is not None else "-"),
    )


def _print_table(results: dict[int, list[Socket]]) -> None:
    rows = [_row(port, s) for port, sockets in results.items() for s in sockets]
    if rows:
        rows.insert(0, _HEADER)
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(len(_HEADER))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    for port, sockets in results.items():
        if not sockets:
            print(f"port {port} is free")


def _warn_hidden(results: dict[int, list[Socket]]) -> None:
    if not any(s.pid is None for sockets in results.values() for s in sockets):
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        why = "held by a process outside this view (another pid namespace or container?)"
    else:
        why = "run as root (sudo) or an administrator to see which process holds them"
    print(f"portcheck: some sockets are in use but their owner is hidden: {why}", file=sys.stderr)
