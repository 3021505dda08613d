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


def safe(text: str) -> str:
    """`text` with C0 and C1 control characters and DEL written as `\\xNN`.

    Process names are chosen by whoever starts the process: one holding
    an escape sequence could rewrite the terminal (or a confirmation
    question) it is printed to.
    """
    return "".join(
        f"\\x{ord(c):02x}" if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F else c for c in text
    )
