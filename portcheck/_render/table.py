"""The lookup's table: one row per (socket, process), columns aligned."""

from __future__ import annotations

from .._records import Family, Socket

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


def row(port: int, sock: Socket) -> tuple[str, ...]:
    """The table cells of one socket found on `port`."""
    proto = sock.protocol.value + ("6" if sock.family is Family.IPV6 else "")
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
