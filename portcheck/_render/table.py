"""The lookup's table: one row per (socket, process), columns aligned."""

from __future__ import annotations

from .._records import Family, NoOwner, Protocol, Socket, in_use
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
    return (
        str(port),
        _PROTO[sock.protocol, sock.family],
        safe(str(sock.local)),
        safe(str(sock.remote)) if sock.remote else "-",
        sock.state.value if sock.state else "-",
        str(sock.pid) if sock.pid is not None else "-",
        _process_cell(sock),
        _user_cell(sock),
    )


# The PROTO cell: the protocol, and 6 for IPv6.
_PROTO = {
    (protocol, family): protocol.value + ("6" if family is Family.IPV6 else "")
    for protocol in Protocol
    for family in Family
}


def _process_cell(sock: Socket) -> str:
    if sock.pid is None:
        return NO_OWNER_CELLS[sock.no_owner or NoOwner.HIDDEN]
    return safe(sock.process) if sock.process else "-"


def _user_cell(sock: Socket) -> str:
    if sock.user:
        return safe(sock.user)
    return str(sock.uid) if sock.uid is not None else "-"


def _aligned(rows: list[tuple[str, ...]]) -> list[str]:
    """The rows as lines, each column as wide as its widest cell (the last one unpadded)."""
    widths = [max(map(len, column)) for column in zip(*rows)]
    line = "  ".join(f"{{:<{width}}}" for width in widths)
    return [line.format(*r).rstrip() for r in rows]


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
    lines = _aligned([HEADER, *rows]) if rows else []
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

    Each cell is made once per row, from the row's first record: a listing
    may hold thousands (bench/listing.py).
    """
    groups: dict[tuple[object, ...], list[Socket]] = {}
    units: dict[tuple[object, ...], str | None] = {}
    for sock in sorted(sockets, key=_port_order):
        unit = words.unit_label(sock) if sock.units or sock.container else None
        # One socket (its state too) and one kind of owner: a row. The fields
        # themselves, not a key function: a listing may hold thousands.
        local, remote = sock.local, sock.remote
        # Plain values, not the Endpoints: their hash is computed anew at every use.
        key: tuple[object, ...] = (
            sock.protocol,
            sock.family,
            local.address,
            local.port,
            local.zone,
            None if remote is None else (remote.address, remote.port, remote.zone),
            sock.state,
            sock.process,
            sock.user,
            sock.uid,
            unit,
        )
        group = groups.get(key)
        if group is None:
            groups[key] = [sock]
            units[key] = unit
        else:
            group.append(sock)
    with_unit = any(unit for unit in units.values())
    header = ["PROTO", "LOCAL ADDRESS"]
    header += ["REMOTE ADDRESS", "STATE"] if connections else []
    header += ["PID", "PROCESS", "USER"] + (["UNIT"] if with_unit else [])
    rows = [tuple(header)]
    for key, group in groups.items():
        rows.append(_listing_row(group, units[key], connections=connections, with_unit=with_unit))
    if len(rows) == 1:
        return []
    return _aligned(rows)


def _port_order(sock: Socket) -> tuple[object, ...]:
    # Protocol and Family are str enums: they sort as their values.
    remote = (sock.remote.address, sock.remote.port) if sock.remote else ("", 0)
    return (
        sock.local.port,
        sock.protocol,
        sock.family,
        sock.local.address,
        remote,
        sock.pid or 0,
    )


def _listing_row(
    group: list[Socket], unit: str | None, *, connections: bool, with_unit: bool
) -> tuple[str, ...]:
    first = group[0]
    cells = [_PROTO[first.protocol, first.family], safe(str(first.local))]
    if connections:
        cells.append(safe(str(first.remote)) if first.remote else "-")
        cells.append(first.state.value if first.state else "-")
    if len(group) == 1:
        shown = "-" if first.pid is None else str(first.pid)
    else:
        pids = [s.pid for s in group if s.pid is not None]
        more = f",... ({len(pids)})" if len(pids) > 3 else ""
        shown = ",".join(str(p) for p in pids[:3]) + more or "-"
    cells += [shown, _process_cell(first), _user_cell(first)]
    if with_unit:
        cells.append(unit or "-")
    return tuple(cells)
