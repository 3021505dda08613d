"""`--csv`: the tables as rows for scripts, a header row first (written by the csv module,
which quotes as RFC 4180 says). Cells are the records' own values, not escaped for a
terminal: a CSV reader, not a person, reads them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .._records import Socket

COLUMNS = (
    "port",
    "protocol",
    "family",
    "local_address",
    "remote_address",
    "state",
    "pid",
    "process",
    "user",
    "no_owner",
)


def _cells(sock: Socket) -> list[object]:
    return [
        sock.local.port,
        sock.protocol.value,
        sock.family.value,
        sock.local.address,
        str(sock.remote) if sock.remote else "",
        sock.state.value if sock.state else "",
        "" if sock.pid is None else sock.pid,
        sock.process or "",
        sock.user or "",
        sock.no_owner.value if sock.no_owner else "",
    ]


def lookup_rows(results: Mapping[int, list[Socket]]) -> list[list[object]]:
    """`portcheck PORTS --csv`: one row per (socket, process)."""
    rows = [_cells(s) for sockets in results.values() for s in sockets]
    return [list(COLUMNS), *rows]


def hosts_rows(results: Mapping[str, Mapping[int, list[Socket]]]) -> list[list[object]]:
    """`portcheck PORTS --host H --csv`: the same rows, a host column first."""
    rows = [
        [host, *_cells(s)]
        for host, ports in results.items()
        for sockets in ports.values()
        for s in sockets
    ]
    return [["host", *COLUMNS], *rows]


def list_rows(results: Mapping[str, list[Socket]] | list[Socket]) -> list[list[object]]:
    """`portcheck list --csv`: one row per (socket, process); with hosts, a host column."""
    if isinstance(results, list):
        return [list(COLUMNS), *(_cells(s) for s in sorted(results, key=_order))]
    rows = [
        [host, *_cells(s)] for host, found in results.items() for s in sorted(found, key=_order)
    ]
    return [["host", *COLUMNS], *rows]


def _order(sock: Socket) -> tuple[int, str]:
    return (sock.local.port, sock.protocol.value)
