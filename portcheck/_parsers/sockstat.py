"""Parser for `sockstat` on FreeBSD and NetBSD.

Reads the default listing and `-4`, `-6`, `-l`, `-c`, `-s` (a state column
after the addresses; FreeBSD 12+ also prints an empty SCTP `PATH STATE`
before it), `-p PORTS`, `-P PROTOS`. The FreeBSD backend runs
`sockstat -4 -6 -s -P tcp,udp -p PORT`. A sample row (FreeBSD)::

    USER     COMMAND    PID   FD PROTO  LOCAL ADDRESS         FOREIGN ADDRESS
    root     sshd       812   4  tcp4   *:22                  *:*

Traps, each from FreeBSD's sockstat.c, which pads each field to a fixed
column (USER 0, COMMAND 9, PID 20, FD 26, PROTO 29) and never cuts the user:

- COMMAND is cut to 10 characters (`%.10s`); the backend asks `ps` for the
  full name.
- A user name longer than its column pushes COMMAND so far right that it
  runs into the PID (`messagebus dbus-daemo731 5 udp4 ...`,
  `python2.781106` for `python2.7` and PID 81106): the split takes the
  longest PID of at most 5 digits (FreeBSD's PID_MAX is 99999) that leaves
  a command of at most 10 characters ending at column 20 or later.
- FreeBSD 14 (real capture) pads differently: PID right-aligned in 5
  columns ending at 24, FD at 26, PROTO at 30; every field is followed by a
  space, so nothing runs in there. Rows are read by shape, so both layouts
  and headerless (`grep`-filtered) output read the same.
- A descriptor of 100 or more pushes PROTO and the addresses right.
- Before FreeBSD 10 a dual-stack socket printed its PROTO as `tcp4 6`
  (`"4 "` and `"6 "` appended one after the other): two tokens.
- Sockets that no process holds any more are listed with `?` in USER,
  COMMAND, PID and FD: they are reported with the owner hidden.
- FreeBSD prints `*:22`, `::1:22`; NetBSD prints netstat's `*.22`, `::1.22`.
  Each address is split at its last `.` or `:`, whichever comes last.

Unix rows (`stream`, `dgram`, `seqpac`), SCTP and divert rows are skipped.
"""

from __future__ import annotations

import functools
import re

from .._errors import ParseError
from .._records import Endpoint, Family, Protocol, Socket, State
from . import addr as _addr
from .netstat_bsd import PROTOS as _PROTOS
from .netstat_bsd import tcp_state
from .text import lines

# Version of this parser's output, recorded in each golden file it produced
# (tests/support/golden.py). Raise it with any deliberate change of the records it returns.
FORMAT_VERSION = 1

_TOKEN = re.compile(r"\S+")
# The PROTO words are netstat's: FreeBSD `tcp4`, `udp6`, `tcp46`; NetBSD `tcp`/`udp` for IPv4.
# FreeBSD sockstat.c pads COMMAND to this column before printing the PID.
_PID_COLUMN = 20
# sockstat.c prints at most this many characters of COMMAND (`%.10s`).
_COMMAND_WIDTH = 10
# FreeBSD's PID_MAX: no pid has more than five digits.
_PID_MAX = 99999


def parse(text: str) -> list[Socket]:
    """Every TCP/UDP socket in sockstat output; unix rows and the header are skipped."""
    sockets: list[Socket] = []
    for lineno, line in enumerate(lines(text), 1):
        words = line.split()
        at = _proto_index(words)
        if at is None:
            continue
        try:
            sockets.append(_row(line, words, at))
        except (ValueError, IndexError) as exc:
            raise ParseError("sockstat", lineno, line, str(exc)) from None
    return sockets


def _proto_index(words: list[str]) -> int | None:
    """Index of the TCP/UDP PROTO word: the first one following a descriptor."""
    for at in range(2, len(words)):
        if words[at] in _PROTOS and _is_fd(words[at - 1]):
            return at
    return None


def _is_fd(word: str) -> bool:
    # isdecimal() is exactly the regex \d (Unicode decimal digits).
    return word == "?" or word.isdecimal()


def _row(line: str, words: list[str], at: int) -> Socket:
    protocol, family = _PROTOS[words[at]]
    rest = words[at + 1 :]
    if family is Family.IPV4 and rest and rest[0] == "6":
        family = Family.IPV6  # old FreeBSD: `tcp4 6`, one dual-stack socket
        rest = rest[1:]
    local = _endpoint(rest[0], protocol, family)
    remote = _endpoint(rest[1], protocol, family)
    user, process, pid = _owner(line, words[:at])
    return Socket(
        protocol=protocol,
        family=_addr.family_of(local.address) or family,
        local=local,
        remote=None if _addr.is_unconnected(remote) else remote,
        state=_state(rest[2:]) if protocol is Protocol.TCP else None,
        pid=pid,
        process=process,
        user=None if user is None or user.isdigit() else user,
        uid=int(user) if user is not None and user.isdigit() else None,
    )


def _owner(line: str, before: list[str]) -> tuple[str | None, str | None, int | None]:
    """(user, command, pid) from the columns before PROTO: USER COMMAND PID FD."""
    if len(before) < 3:
        raise ValueError("fewer columns than USER COMMAND PID FD")
    user = before[0]
    if len(before) == 3:  # COMMAND ran into PID
        command, pid_text = _split_run_in(before[1], _spans(line)[1][0])
    elif len(before) == 4:
        command, pid_text = before[1], before[2]
    else:  # COMMAND holds spaces: taken from the line, so that they are kept as printed
        spans = _spans(line)
        command = line[spans[1][0] : spans[len(before) - 3][1]]
        pid_text = before[-2]
    if user == "?" and command == "?" and pid_text == "?":
        return None, None, None  # no process holds the socket
    if not pid_text.isdigit():
        raise ValueError(f"pid {pid_text!r} is not a number")
    return user, command, int(pid_text) or None  # pid 0 is no process


def _spans(line: str) -> list[tuple[int, int]]:
    """Where each word of the line starts and ends: needed only for odd COMMAND columns."""
    return [token.span() for token in _TOKEN.finditer(line)]


def _split_run_in(text: str, start: int) -> tuple[str, str]:
    """Command and pid of a `dbus-daemo731` word starting at column `start`.

    sockstat.c pads COMMAND (at most 10 characters) to column 20 and prints
    the PID right after it, with no space once a long user has pushed the
    command past that column. So the PID starts at column 20 or later, the
    command holds 1 to 10 characters, and a FreeBSD PID is at most 99999
    (PID_MAX) with no leading zero. The first split from the left that meets
    all of these is taken, which is the longest possible PID:
    `python2.781106` is `python2.7` and 81106 (781106 is no PID). A command
    that ends in digits can still be ambiguous (`python2.71106`: 71106 or
    1106); `ps` then gives the full name, but the PID stays the longest one.
    """
    for cut in range(max(1, _PID_COLUMN - start), min(_COMMAND_WIDTH, len(text) - 1) + 1):
        pid = text[cut:]
        if pid.isascii() and pid.isdigit() and pid[0] != "0" and int(pid) <= _PID_MAX:
            return text[:cut], pid
    raise ValueError(f"cannot tell command from pid in {text!r}")


def _state(columns: list[str]) -> State | None:
    """The TCP state among the columns after the addresses (-s), or None without -s."""
    for word in columns:
        state = tcp_state(word)
        if state is not State.UNKNOWN:
            return state
    return State.UNKNOWN if columns else None


@functools.lru_cache(maxsize=16384)
def _endpoint(text: str, protocol: Protocol, family: Family) -> Endpoint:
    # Cached: `*:*` and listeners repeat on many lines, and Endpoint is immutable.
    if text.startswith("["):
        host, zone, port = _addr.split_colon(text)
    elif text.rfind(".") > text.rfind(":"):
        host, zone, port = _addr.split_dot(text)  # NetBSD: *.22, ::1.22
    else:
        host, zone, port = _addr.split_colon(text)  # FreeBSD: *:22, ::1:22
    return _addr.make_endpoint(host, zone, port, protocol.value, family)
