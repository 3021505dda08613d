"""What every human-readable output shares: terminal-safe text, and who owns a socket in words.

Process names, user names and tool output are attacker-controlled: any user
can name a process `\x1b[2J` or put a newline in it. Everything printed for a
person goes through `safe()`, which shows control characters as escapes; the
JSON documents keep the exact text (json escapes it).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from .._records import NoOwner, Socket, State

# C0 controls, DEL and C1 controls; line and paragraph separators; the bidi
# controls that reorder what follows them (the "Trojan Source" characters).
_UNSAFE = [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0x200E, 0x200F]
_UNSAFE += [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_ESCAPES = {code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in _UNSAFE}


def safe(text: str) -> str:
    """`text` with every control character shown as an escape (`\\x0a`, `\\x1b`, `\\u202e`)."""
    return text.translate(_ESCAPES)


@attrs.frozen(kw_only=True)
class Wording:
    """How one output names owners; each output keeps its established wording."""

    user_label: str = "user "
    show_user: bool = True
    hidden: str = "a process hidden from you (more privileges would show it)"
    no_process: str = "no process (a closed connection the kernel keeps in TIME_WAIT)"
    closed: str = "no process any more (closed while portcheck looked)"
    not_shown: str = "an owner this tool does not show"


SENTENCE = Wording()  # --explain: `nginx (pid 812, user www-data)`
ERROR = Wording(user_label="", hidden="a socket with its owner hidden")  # error messages
REASON = Wording(show_user=False, hidden="a process hidden from you")  # --explain's reasons


def owner(sock: Socket, wording: Wording = SENTENCE) -> str:
    """`nginx (pid 812, user www-data)`, or why no process is named (terminal-safe)."""
    if sock.pid is None:
        if sock.no_owner is NoOwner.CLOSED:
            return wording.closed
        if sock.no_owner is NoOwner.NOT_SHOWN:
            return wording.not_shown
        return wording.no_process if sock.state is State.TIME_WAIT else wording.hidden
    user = sock.user if wording.show_user else None
    return named(sock.process, sock.pid, user, user_label=wording.user_label)


def named(
    process: str | None, pid: int, user: str | None, *more: str, user_label: str = "user "
) -> str:
    """`nginx (pid 812, user www-data, ...more)`, escaped: a process named in words."""
    details = [f"pid {pid}", *([f"{user_label}{safe(user)}"] if user else []), *more]
    return f"{safe(process or 'an unnamed process')} ({', '.join(details)})"


def owners(sockets: Iterable[Socket], wording: Wording = SENTENCE) -> list[str]:
    """`owner()` of each socket, once per distinct phrase, in order."""
    return list(dict.fromkeys(owner(s, wording) for s in sockets))


def hidden_warning(sockets: Iterable[Socket], *, privileged: bool) -> str | None:
    """The warning for sockets in use whose owner is hidden, or None when there are none."""
    # TIME_WAIT remnants and closed sockets belong to no process, and a tool
    # that shows no owners shows none to root either: privileges would not help.
    if not any(s.no_owner is NoOwner.HIDDEN for s in sockets):
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
