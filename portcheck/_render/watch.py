"""`portcheck watch`: one line per listener event, for people."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from .table import NO_OWNER_CELLS
from .words import safe

if TYPE_CHECKING:
    from .._listing.watch import ListenerEvent

FLAG = "[exposed dynamic port]"


def event_line(event: ListenerEvent, when: datetime.datetime | None = None) -> str:
    """`12:00:01 opened  tcp 0.0.0.0:60688  pid 4242 python3 (alice)  [exposed dynamic port]`.

    The owner, then its unit or container where known; every system string through `safe`.
    """
    sock = event.socket
    when = when or datetime.datetime.now()
    proto = sock.protocol.value + ("6" if sock.family.value == "ipv6" else "")
    parts = [when.strftime("%H:%M:%S"), f"{event.event.value:<7}", proto, safe(str(sock.local))]
    if sock.pid is not None:
        who = f"pid {sock.pid} {safe(sock.process or '-')}"
        if sock.user:
            who += f" ({safe(sock.user)})"
        parts.append(who)
    else:
        parts.append(NO_OWNER_CELLS[sock.no_owner] if sock.no_owner else "(hidden)")
    if sock.units:
        parts.append("unit " + ",".join(safe(u) for u in sock.units))
    if sock.container is not None:
        box = sock.container
        parts.append(f"container {safe(box.runtime)}:{safe(box.id[:12])}")
    if event.exposed_dynamic:
        parts.append(FLAG)
    return "  ".join(parts)
