"""What the human-readable outputs share beyond `_words`: warnings, commands, units in words.

`safe()` and the owner phrases live in `portcheck._words` (core: errors use
them too) and are re-exported here for the renderers.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._records import NoOwner, Socket
from .._words import ERROR, REASON, SENTENCE, Wording, hidden_owner, named, owner, owners, safe

__all__ = [
    "ERROR",
    "REASON",
    "SENTENCE",
    "Wording",
    "command_line",
    "held_by",
    "hidden_owner",
    "hidden_warning",
    "named",
    "owner",
    "owners",
    "safe",
    "unit_label",
]


def hidden_warning(sockets: Iterable[Socket], *, privileged: bool) -> str | None:
    """The warning for sockets in use whose owner is hidden, or None when there are none."""
    # TIME_WAIT remnants and closed sockets belong to no process, and a tool
    # that shows no owners shows none to root either: privileges would not help.
    if not any(s.no_owner is NoOwner.HIDDEN for s in sockets):
        return None
    why = hidden_owner(privileged)
    return f"portcheck: some sockets are in use but their owner is hidden: {why}"


def command_line(sock: Socket, limit: int = 200) -> str | None:
    """The owner's argv joined with spaces (as ps shows it), escaped, cut at `limit`."""
    if sock.command is None:
        return None
    text = safe(" ".join(sock.command))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def unit_label(sock: Socket) -> str | None:
    """`nginx.service`, `docker:0123456789ab` (runtime:short id), or None: for a table cell."""
    if sock.container is not None:
        return safe(f"{sock.container.runtime}:{sock.container.id[:12]}")
    if not sock.units:
        return None
    shown = ",".join(sock.units[:2])
    more = f",+{len(sock.units) - 2}" if len(sock.units) > 2 else ""
    return safe(shown + more)


def held_by(sock: Socket) -> str | None:
    """`held by nginx.service (pid 812: /usr/sbin/nginx -g daemon off;)`, or None.

    None when no unit or container names it (the pid and name are said already).
    """
    if sock.pid is None:
        return None
    if sock.container is not None:
        pod = f" in pod {sock.container.pod}" if sock.container.pod else ""
        what = f"{sock.container.runtime} container {sock.container.id[:12]}{pod}"
    elif sock.units:
        what = " and ".join(sock.units)
    else:
        return None
    command = command_line(sock)
    detail = f"pid {sock.pid}: {command}" if command else f"pid {sock.pid}"
    forward = f", forwarding to {sock.forwards_to}" if sock.forwards_to is not None else ""
    return safe(f"held by {what} ({detail}){forward}")
