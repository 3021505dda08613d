"""The lookup's table: one row per (socket, process), columns aligned."""

from __future__ import annotations

from .._records import Family, NoOwner, Socket, in_use
from .._records import socket_key as records_socket_key
from . import words
from .words import safe

HEADER: tuple[str, ...] = (
    "PORT",
    "PROTO",
    "LOCAL ADDRESS",
    "REMOTE ADDRESS",
    "STATE",
    "PID",
    "PROCESS",
    "USER",
)


# The PROCESS cell of a record without a pid, by why it has none.
NO_OWNER_CELLS = {
    NoOwner.HIDDEN: "(hidden)",
    NoOwner.TIME_WAIT: "(no process)",
    NoOwner.CLOSED: "(closed)",
    NoOwner.NOT_SHOWN: "(not shown)",
}


def row(port: int, sock: Socket) -> tuple[str, ...]:
    """The table cells of one socket found on `port`, every one terminal-safe."""
    proto = sock.protocol.value + ("6" if sock.family is Family.IPV6 else "")
    if sock.pid is not None:
        process = sock.process or "-"
    else:
        process = NO_OWNER_CELLS[sock.no_owner or NoOwner.HIDDEN]
    cells = (
        str(port),
        proto,
        str(sock.local),
        str(sock.remote) if sock.remote else "-",
        sock.state.value if sock.state else "-",
        str(sock.pid) if sock.pid is not None else "-",
        process,
        sock.user or (str(sock.uid) if sock.uid is not None else "-"),
    )
    return tuple(safe(cell) for cell in cells)


def remnants_note(count: int) -> str:
    """What TIME_WAIT remnants mean, said the same way by every command (docs/time-wait.md)."""
    return (
        f"{count} TIME_WAIT remnant(s) of closed connections, no process; a server that sets"
        " SO_REUSEADDR can bind it, one that does not may fail for up to a minute"
    )


def table(
    results: dict[int, list[Socket]], *, say_free: bool = True, strict: bool = False
) -> list[str]:
    """The lines of the table, then `port N is free` for each free port (if `say_free`).

    A port where only TIME_WAIT remnants are left is free, with the remnants
    counted, unless `strict` (docs/time-wait.md).
    """
    rows = [row(port, s) for port, sockets in results.items() for s in sockets]
    if rows:
        rows.insert(0, HEADER)
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    if say_free:
        for port, sockets in results.items():
            if not sockets:
                lines.append(f"port {port} is free")
            elif not strict and not in_use(sockets):
                lines.append(f"port {port} is free ({remnants_note(len(sockets))})")
    return lines


def listing(sockets: list[Socket], *, connections: bool = False) -> list[str]:
    """The `portcheck list` table: sorted by port, one row per socket and kind of owner.

    Built to stay readable at hundreds of rows: the port is part of the local
    address (no PORT column repeating it); the remote address and state appear
    only with `connections` (`--all`); processes of one name, user and unit
    sharing a socket (pre-fork workers) share a row, their pids listed (at
    most three, then the count); the UNIT column appears only when a row has
    a unit or container. Every cell is escaped (`words.safe`).
    """
    groups: dict[tuple[object, ...], list[Socket]] = {}
    for sock in sorted(sockets, key=_port_order):
        key = (*socket_key(sock), sock.process, sock.user, sock.uid, words.unit_label(sock))
        groups.setdefault(key, []).append(sock)
    with_unit = any(words.unit_label(s) for s in sockets)
    header = ["PROTO", "LOCAL ADDRESS"]
    header += ["REMOTE ADDRESS", "STATE"] if connections else []
    header += ["PID", "PROCESS", "USER"] + (["UNIT"] if with_unit else [])
    rows = [tuple(header)]
    for group in groups.values():
        rows.append(_listing_row(group, connections=connections, with_unit=with_unit))
    if len(rows) == 1:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]


def socket_key(sock: Socket) -> tuple[object, ...]:
    """The listing's group of records: one socket (its state too), whoever holds it."""
    return (*records_socket_key(sock), sock.state)


def _port_order(sock: Socket) -> tuple[object, ...]:
    remote = (sock.remote.address, sock.remote.port) if sock.remote else ("", 0)
    return (
        sock.local.port,
        sock.protocol.value,
        sock.family.value,
        sock.local.address,
        remote,
        sock.pid or 0,
    )


def _listing_row(group: list[Socket], *, connections: bool, with_unit: bool) -> tuple[str, ...]:
    first = group[0]
    proto = first.protocol.value + ("6" if first.family is Family.IPV6 else "")
    cells = [proto, words.safe(str(first.local))]
    if connections:
        cells += [words.safe(str(first.remote)) if first.remote else "-"]
        cells += [first.state.value if first.state else "-"]
    pids = [s.pid for s in group if s.pid is not None]
    shown = ",".join(str(p) for p in pids[:3]) + (f",... ({len(pids)})" if len(pids) > 3 else "")
    cells += [shown or "-", *row(0, first)[6:8]]
    if with_unit:
        cells.append(words.unit_label(first) or "-")
    return tuple(cells)
