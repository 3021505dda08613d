"""Parser and backend for iproute2 `ss`.

Reads any mix of `ss -t -u -a -l -n -p -e -H`, old (before about 4.x) and new
layouts. The backend runs `ss -t -u -a -n -p -e 'sport = :PORT'` so the kernel
filters by local port. A sample row (`ss -tuanpe`)::

    tcp LISTEN 0 128 *:47001 *:* users:(("python3",pid=2093,fd=3),("python3",pid=2051,fd=3))
        ino:4909 sk:1006 cgroup:/ v6only:0 <->

(shown on two lines here; one line in the output).

Each row is one socket; `users:(...)` lists every process holding it, so one
record is made per distinct pid. Without root, `users:` is missing for other
users' sockets: the record is kept with pid None (owner hidden).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import attrs

from .._errors import ParseError
from .._records import Endpoint, Family, Protocol, Socket, State
from . import addr as _addr
from .states import state_from_word
from .text import joined_rows

# Version of this parser's output, recorded in each golden file it produced
# (tests/support/golden.py). Raise it with any deliberate change of the records it returns.
FORMAT_VERSION = 1

_NETIDS = {"tcp": Protocol.TCP, "udp": Protocol.UDP}
# Netids of sockets portcheck does not report (unix, raw, sctp, netlink, ...).
_OTHER_NETIDS = {
    "u_str",
    "u_dgr",
    "u_seq",
    "raw",
    "nl",
    "p_raw",
    "p_dgr",
    "sctp",
    "mptcp",
    "tipc",
    "v_str",
    "v_dgr",
    "xdp",
    "dccp",
    "icmp6",
    "icmp",
}
_STATE_WORDS = {
    "UNCONN",
    "ESTAB",
    "LISTEN",
    "SYN-SENT",
    "SYN-RECV",
    "FIN-WAIT-1",
    "FIN-WAIT-2",
    "TIME-WAIT",
    "CLOSE-WAIT",
    "LAST-ACK",
    "CLOSING",
    "CLOSED",
    "UNKNOWN",
}
# ("name",pid=1,fd=3); ss prints the name raw, so it may hold spaces, quotes,
# parentheses and newlines. An entry ends only where the next one starts or the
# list closes, so `x",pid=1,fd=3)` inside a name is read as part of the name.
# iproute2 before 3.10 printed ("name",PID,FD) without the `pid=`/`fd=` labels.
_USER = re.compile(r'\("(.*?)",(?:pid=)?(\d+),(?:fd=)?\d+\)(?=,\(|\))', re.DOTALL)
_USERS = re.compile(r'users:\((?:\(".*?",(?:pid=)?\d+,(?:fd=)?\d+\)(?=,\(|\)),?)+\)', re.DOTALL)
_UID = re.compile(r" uid:(\d+)")
_INODE = re.compile(r" ino:(\d+)")
# A row starts with a netid or state word and the two queue sizes. A process
# name cannot fake that after a newline: comm holds at most 15 bytes.
_ROW_START = re.compile(
    r"^(?:[a-z_0-9]+\s+)?(?:" + "|".join(map(re.escape, sorted(_STATE_WORDS))) + r")\s+\d+\s+\d+\s"
)


def parse(text: str) -> list[Socket]:
    """Every TCP/UDP socket in `ss` output; other netids and headers are skipped."""
    return [sock for sock, _inode in parse_rows(text)]


def parse_rows(text: str) -> list[tuple[Socket, int | None]]:
    """Every TCP/UDP socket with its inode (`ino:`, with -e; None without)."""
    found: list[tuple[Socket, int | None]] = []
    layout = _Layout(extended=" ino:" in text, star_is_ipv4=_old_layout(text))
    header_seen = False
    for lineno, line in _rows(text):
        if not line or line[0].isspace():
            continue  # blank, or an indented -i/-m continuation line
        if not header_seen and line.split(None, 1)[0] in ("Netid", "State"):
            header_seen = True
            continue
        header_seen = True
        try:
            sockets = _parse_row(line, layout)
        except (ValueError, IndexError) as exc:
            raise ParseError("ss", lineno, line, str(exc)) from None
        inode = _INODE.search(line)
        found += [(sock, int(inode.group(1)) if inode else None) for sock in sockets]
    return found


def _rows(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, row) of each row, a row whose process name held newlines joined.

    A line continues the row before it when that row's `users:(` list is still
    open (a name cut by a newline) and the line does not start a row itself.
    """
    return joined_rows(text, lambda row, line: _users_open(row) and not _ROW_START.match(line))


def _users_open(row: str) -> bool:
    at = row.find("users:(")
    return at >= 0 and _USERS.match(row, at) is None


@attrs.frozen
class _Layout:
    extended: bool  # -e given: a missing `uid:` then means uid 0
    star_is_ipv4: bool  # old ss printed IPv4 "any" as `*`; new ss means dual-stack IPv6


def _old_layout(text: str) -> bool:
    """Old ss (iproute2 3.x) never brackets IPv6 (`:::22`); new ss always does (`[::]:22`)."""
    return "[" not in text and re.search(r"\s:::\d|\s::\S*:\d", text) is not None


def _parse_row(line: str, layout: _Layout) -> list[Socket]:
    # One split serves the usual Netid-first row; the last piece is the
    # (800-column padded) Process column, searched only with substring tests
    # and one regex.
    fields = line.split(None, 6)
    first = fields[0]
    if first in _NETIDS:
        protocol = _NETIDS[first]
        fields = fields[1:]
    elif first in _OTHER_NETIDS or first.startswith(("u_", "p_", "v_")):
        return []
    elif first in _STATE_WORDS:
        # No Netid column (only -t or only -u given): UDP sockets are UNCONN or
        # connected; without the column, UNCONN is the only sure sign of UDP.
        protocol = Protocol.UDP if first == "UNCONN" else Protocol.TCP
        fields = line.split(None, 5)
    else:
        raise ValueError(f"unknown netid or state {first!r}")
    if len(fields) < 5:
        raise ValueError("fewer columns than State Recv-Q Send-Q Local Peer")
    state_word, _recvq, _sendq, local_text, peer_text = fields[:5]
    if state_word not in _STATE_WORDS:
        raise ValueError(f"unknown state {state_word!r}")
    extra = fields[5] if len(fields) > 5 else ""
    star_v4 = layout.star_is_ipv4 and "v6only" not in extra
    family, local = _local(local_text, protocol, star_v4)
    remote = _remote(peer_text, protocol)
    state = None if protocol is Protocol.UDP else _tcp_state(state_word)
    # A plain substring test first: the regex alone was most of the parse time
    # on ss's 800-column padded lines.
    uid_match = _UID.search(" " + extra) if "uid:" in extra else None
    uid = int(uid_match.group(1)) if uid_match else (0 if layout.extended else None)
    # The uid ss prints with -e is the socket's (its creator's); it is the best
    # the text holds. Backends replace it with each process's own uid from /proc.
    return [
        Socket(
            protocol=protocol,
            family=family,
            local=local,
            remote=remote,
            state=state,
            uid=uid,
            pid=pid,
            process=name,
        )
        for pid, name in _owners(extra).items()
    ] or [
        Socket(protocol=protocol, family=family, local=local, remote=remote, state=state, uid=uid)
    ]


def _owners(extra: str) -> dict[int, str]:
    """Process name by pid, in the order `users:(...)` lists them."""
    owners: dict[int, str] = {}
    if '("' not in extra:
        return owners  # no `users:` (owner hidden: another user's socket, no root)
    for name, pid_text in _USER.findall(extra):
        pid = int(pid_text)
        if pid > 0:  # pid 0 is no process: kill(0, ...) would hit the caller's group
            owners.setdefault(pid, name)
    return owners


@functools.lru_cache(maxsize=16384)
def _local(text: str, protocol: Protocol, star_is_ipv4: bool) -> tuple[Family, Endpoint]:
    """(family, endpoint) of a Local column; cached: listeners repeat across lines."""
    local = _endpoint(text, protocol)
    if local.address == "*":
        family = Family.IPV4 if star_is_ipv4 else Family.IPV6
        return family, attrs.evolve(local, address=_addr.WILDCARD[family])
    family = _addr.family_of(local.address) or (
        Family.IPV6 if text.startswith("[") else Family.IPV4
    )
    return family, local


@functools.lru_cache(maxsize=16384)
def _remote(text: str, protocol: Protocol) -> Endpoint | None:
    """The Peer column's endpoint, None when unconnected (`0.0.0.0:*` on every listener)."""
    peer = _endpoint(text, protocol)
    return None if peer.address == "*" or _addr.is_unconnected(peer) else peer


@functools.lru_cache(maxsize=16384)
def _endpoint(text: str, protocol: Protocol) -> Endpoint:
    # Cached: peers (`0.0.0.0:*`) and listeners repeat on every line of a busy
    # host, and Endpoint is immutable.
    host, zone, port = _addr.split_colon(text)
    port_num, service = _addr.port_number(port, protocol.value)
    if host == "*":
        return Endpoint(address="*", port=port_num, zone=zone, service=service)
    return Endpoint(
        address=_addr.canonical_address(host), port=port_num, zone=zone, service=service
    )


@functools.cache
def _tcp_state(word: str) -> State:
    return State.CLOSE if word == "UNCONN" else state_from_word(word)
