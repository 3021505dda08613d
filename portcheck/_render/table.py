"""The lookup's table: one row per (socket, process), columns aligned."""

from __future__ import annotations

from .._records import Family, NoOwner, Socket
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


def table(results: dict[int, list[Socket]], *, say_free: bool = True) -> list[str]:
    """The lines of the table, then `port N is free` for each free port (if `say_free`)."""
    rows = [row(port, s) for port, sockets in results.items() for s in sockets]
    if rows:
        rows.insert(0, HEADER)
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    if say_free:
        lines += [f"port {port} is free" for port, sockets in results.items() if not sockets]
    return lines
