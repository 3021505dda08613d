"""Parser and backend for Linux `netstat` (net-tools, and BusyBox's).

Reads net-tools output with any of `-a -l -n -p -e -t -u -W` and BusyBox
`netstat`; the unix-domain and other sections after the inet rows are
skipped. The backend runs `netstat -t -u -a -n -p -e -W` and filters the port
in Python (netstat has no filter). A sample row (`netstat -tuanpeW`)::

    tcp6       0      0 :::47001          :::*             LISTEN  0  4909  2051/python3

net-tools names ONE process per socket even when several hold it, so the
backend completes the list of holders from /proc. Without root, other users'
owners print as `-` (pid None) and a warning goes to stderr.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import NamedTuple

from .._errors import ParseError
from .._records import Endpoint, Family, Protocol, Socket
from . import addr as _addr
from .states import state_from_word
from .text import joined_rows

# Version of this parser's output, recorded in each golden file it produced
# (tests/support/golden.py). Raise it with any deliberate change of the records it returns.
FORMAT_VERSION = 1

_INET = {"tcp": Protocol.TCP, "tcp6": Protocol.TCP, "udp": Protocol.UDP, "udp6": Protocol.UDP}
_SKIPPED = {"raw", "raw6", "udpl", "udpl6", "unix", "sctp", "sctp6", "ax25", "ipx", "netrom"}
# After the inet rows: `STATE`, then with -e `User Inode`, then with -p `PID/Program name`
# (the program name may hold spaces: `1234/sshd: /usr/sbin`) or `-` when hidden.
# The name runs to the last non-blank: `(?:.*\S)?` reads the same as a lazy
# `.*?` before `\s*$`, without retrying the end at every character.
_REST = re.compile(
    r"^(?:(?P<state>[A-Z][A-Z0-9_]*)(?:\s+|$))?"
    r"(?:(?P<user>\S+)\s+(?P<inode>\d+)(?:\s+|$))?"
    r"(?P<owner>\d+/(?:.*\S)?|-)?\s*$",
    re.DOTALL,
)
# A row or section start: a protocol word and a number (Recv-Q, or unix RefCnt), or a title.
_ROW_START = re.compile(r"^(?:[a-z][a-z0-9]*\s+\d+\s|Active\s|Proto\s)")
# A row of -p output ending in its owner `PID/name`: a newline in the name may follow.
_OWNED = re.compile(r"^(?:tcp|udp)6?\s.*\s\d+/", re.DOTALL)


class Row(NamedTuple):
    """A parsed row: the socket and, when `-e` was given, its inode (a tuple: cheap to make)."""

    socket: Socket
    inode: int | None


def parse(text: str) -> list[Socket]:
    """Every TCP/UDP socket in netstat output."""
    return [row.socket for row in parse_rows(text)]


def parse_rows(text: str) -> list[Row]:
    """Every TCP/UDP row with its inode (None without -e)."""
    rows: list[Row] = []
    for lineno, line in _rows(text):
        # Split once, here: the row reader takes the same fields.
        fields = line.split(None, 5)
        first = fields[0] if fields else ""
        if first in _INET:
            try:
                rows.append(_parse_row(fields))
            except (ValueError, IndexError) as exc:
                raise ParseError("netstat", lineno, line, str(exc)) from None
            continue
        if first == "Active" and "Internet" not in line:
            break  # unix-domain (or Bluetooth) section: not ours
        if first in ("", "Active", "Proto") or first in _SKIPPED:
            continue
        raise ParseError("netstat", lineno, line, f"unknown protocol {first!r}")
    return rows


def _rows(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, row) of each row, a row whose program name held newlines joined.

    netstat prints argv[0] raw, newlines included. A line continues the row
    before it when that row ends in an owner (`PID/name`) and the line does not
    start a row or a section itself; a name fragment cannot: net-tools cuts
    names to 20 characters, too short for a protocol, two queues and two
    addresses.
    """
    return joined_rows(
        text, lambda row, line: bool(_OWNED.search(row)) and not _ROW_START.match(line)
    )


def _parse_row(fields: list[str]) -> Row:
    """A row from its first five columns and the rest of the line (State User Inode PID)."""
    if len(fields) < 5:
        raise ValueError("fewer columns than Proto Recv-Q Send-Q Local Foreign")
    proto, _recvq, _sendq, local_text, foreign_text = fields[:5]
    protocol = _INET[proto]
    family, local = _local(proto, local_text)
    remote = _remote(foreign_text, protocol, family)
    match = _REST.match(fields[5] if len(fields) > 5 else "")
    if match is None:
        raise ValueError("unreadable State/User/Inode/PID columns")
    state, user_text, inode, owner = match.group("state", "user", "inode", "owner")
    pid, process = _owner(owner)
    return Row(
        socket=Socket(
            protocol=protocol,
            family=family,
            local=local,
            remote=remote,
            state=state_from_word(state) if protocol is Protocol.TCP and state else None,
            pid=pid,
            process=process,
            user=user_text if user_text and not user_text.isdigit() else None,
            uid=int(user_text) if user_text and user_text.isdigit() else None,
        ),
        inode=int(inode) if inode else None,
    )


@functools.lru_cache(maxsize=16384)
def _local(proto: str, text: str) -> tuple[Family, Endpoint]:
    """(family, endpoint) of a Local Address; cached: listeners repeat on many lines."""
    host, zone, port = _addr.split_colon(text)
    # BusyBox labels IPv6 sockets `tcp`/`udp`: the address tells the family.
    family = Family.IPV6 if proto.endswith("6") else _addr.family_of(host) or Family.IPV4
    return family, _addr.make_endpoint(host, zone, port, _INET[proto].value, family)


@functools.lru_cache(maxsize=16384)
def _remote(text: str, protocol: Protocol, family: Family) -> Endpoint | None:
    """The peer of a Foreign Address, None when unconnected (`0.0.0.0:*` on every listener)."""
    remote = _addr.make_endpoint(*_addr.split_colon(text), protocol.value, family)
    return None if _addr.is_unconnected(remote) else remote


@functools.lru_cache(maxsize=4096)  # a process's sockets all print the same owner
def _owner(text: str | None) -> tuple[int | None, str | None]:
    if not text or text == "-":
        return None, None
    pid, _, name = text.partition("/")
    if int(pid) == 0:
        return None, None  # no process has pid 0: kill(0, ...) would hit the caller's group
    return int(pid), name.rstrip() or None
