"""Terminal-safe text, and who owns a socket in words: shared by errors, reports and outputs.

Process names, user names and tool output are attacker-controlled: any user
can name a process `\x1b[2J` or put a newline in it. Everything printed for a
person goes through `safe()`, which shows control characters as escapes; the
JSON documents keep the exact text (json escapes it). This is core, not
presentation: error messages and `describe`'s reasons name owners too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from ._records import NoOwner, Socket, State

# C0 controls, DEL and C1 controls; line and paragraph separators; the bidi
# controls that reorder what follows them (the "Trojan Source" characters).
_UNSAFE = [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0x200E, 0x200F]
_UNSAFE += [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_ESCAPES = {code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in _UNSAFE}


def safe(text: str) -> str:
    """`text` with every control character shown as an escape (`\\x0a`, `\\x1b`, `\\u202e`)."""
    # Every character escaped is one `isprintable` refuses (categories Cc, Cf,
    # Zl, Zp): most text is printable and skips the translation, which looks
    # up each character (a listing escapes three cells a row).
    return text if text.isprintable() else text.translate(_ESCAPES)


def hidden_owner(privileged: bool, *, short: bool = False) -> str:
    """Who holds a socket whose owner this lookup could not see: the one phrase every
    output uses (`--explain`, `list`, `kill`, the JSON `note`), chosen by whether the
    lookup ran privileged. Root is told more privileges would not help; others, that
    they would."""
    if privileged:
        why = " (in another pid namespace or container, or one whose descriptors the kernel hides)"
        return "a process even root cannot see" + ("" if short else why)
    why = " (run as root or an administrator to see it)"
    return "a process hidden from you" + ("" if short else why)


class Wording(NamedTuple):
    """How one output names owners; each output keeps its established wording.

    `hidden` None: `hidden_owner()` for the lookup's privileges (`short` for reasons).
    A NamedTuple, not an attrs class: the command's table imports this module
    at every start, where each attrs class costs about ten times more.
    """

    user_label: str = "user "
    show_user: bool = True
    hidden: str | None = None
    short: bool = False
    no_process: str = "no process (a closed connection the kernel keeps in TIME_WAIT)"
    closed: str = "no process any more (closed while portcheck looked)"
    not_shown: str = "an owner this tool does not show"


SENTENCE = Wording()  # --explain: `nginx (pid 812, user www-data)`
ERROR = Wording(user_label="", hidden="a socket with its owner hidden")  # error messages
REASON = Wording(show_user=False, short=True)  # --explain's reasons


def owner(sock: Socket, wording: Wording = SENTENCE, *, privileged: bool = False) -> str:
    """`nginx (pid 812, user www-data)`, or why no process is named (terminal-safe).

    `privileged`: whether the lookup that found `sock` ran privileged (root).
    """
    if sock.pid is None:
        if sock.no_owner is NoOwner.CLOSED:
            return wording.closed
        if sock.no_owner is NoOwner.NOT_SHOWN:
            return wording.not_shown
        if sock.state is State.TIME_WAIT:
            return wording.no_process
        if wording.hidden is not None:
            return wording.hidden
        return hidden_owner(privileged, short=wording.short)
    user = sock.user if wording.show_user else None
    return named(sock.process, sock.pid, user, user_label=wording.user_label)


def named(
    process: str | None, pid: int, user: str | None, *more: str, user_label: str = "user "
) -> str:
    """`nginx (pid 812, user www-data, ...more)`, escaped: a process named in words."""
    details = [f"pid {pid}", *([f"{user_label}{safe(user)}"] if user else []), *more]
    return f"{safe(process or 'an unnamed process')} ({', '.join(details)})"


def owners(
    sockets: Iterable[Socket], wording: Wording = SENTENCE, *, privileged: bool = False
) -> list[str]:
    """`owner()` of each socket, once per distinct phrase, in order."""
    return list(dict.fromkeys(owner(s, wording, privileged=privileged) for s in sockets))
