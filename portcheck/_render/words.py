"""The few phrases every human-readable output shares: who owns a socket, in words."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from .._records import Socket, State


@attrs.frozen(kw_only=True)
class Wording:
    """How one output names owners; each output keeps its established wording."""

    user_label: str = "user "
    show_user: bool = True
    hidden: str = "a process hidden from you (more privileges would show it)"
    no_process: str = "no process (a closed connection the kernel keeps in TIME_WAIT)"


SENTENCE = Wording()  # --explain: `nginx (pid 812, user www-data)`
ERROR = Wording(user_label="", hidden="a socket with its owner hidden")  # error messages
REASON = Wording(show_user=False, hidden="a process hidden from you")  # --explain's reasons


def owner(sock: Socket, wording: Wording = SENTENCE) -> str:
    """`nginx (pid 812, user www-data)`, or why no process is named."""
    if sock.pid is None:
        return wording.no_process if sock.state is State.TIME_WAIT else wording.hidden
    user = f", {wording.user_label}{sock.user}" if wording.show_user and sock.user else ""
    return f"{sock.process or 'an unnamed process'} (pid {sock.pid}{user})"


def owners(sockets: Iterable[Socket], wording: Wording = SENTENCE) -> list[str]:
    """`owner()` of each socket, once per distinct phrase, in order."""
    return list(dict.fromkeys(owner(s, wording) for s in sockets))


def hidden_warning(sockets: Iterable[Socket], *, privileged: bool) -> str | None:
    """The warning for sockets in use whose owner is hidden, or None when there are none."""
    # TIME_WAIT remnants belong to no process: privileges would not show one.
    if not any(s.pid is None and s.state is not State.TIME_WAIT for s in sockets):
        return None
    if privileged:
        # Seen here: even root cannot read /proc/1/fd of a sandbox's init.
        why = (
            "even root cannot see their holder (a process in another pid namespace"
            " or container, or one whose descriptors the kernel hides)"
        )
    else:
        why = "run as root (sudo) or an administrator to see which process holds them"
    return f"portcheck: some sockets are in use but their owner is hidden: {why}"


_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}


def safe(text: str) -> str:
    """`text` with C0 and C1 control characters and DEL written as `\\xNN`.

    Process names, command lines and unit names are chosen by whoever started
    the process; printed raw, `\\x1b[2J` would clear the reader's terminal
    and a newline would forge a table row.
    """
    return text.translate(_CONTROLS)


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
