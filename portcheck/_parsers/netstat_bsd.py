"""Parser for `netstat` on FreeBSD, NetBSD and OpenBSD (and the row reader macOS shares).

Reads `netstat -an`, `-A`, `-T`, `-x`, `-aT` and their mixes. The backends run
`netstat -an`. A sample row (FreeBSD 12, `netstat -an`)::

    tcp4       0      0 127.0.0.1.25           *.*                    LISTEN

Addresses use the BSD `host.port` notation (`*.22`, `::1.22`). Proto words:
`tcp4`/`udp4`, `tcp6`/`udp6`, `tcp46`/`udp46` (one dual-stack socket, reported
as IPv6), and plain `tcp`/`udp` for IPv4 on NetBSD and OpenBSD. netstat on
the BSDs shows no owner: every record has pid None (owner hidden).

Columns are located from the `Proto ...` header of each section, because the
flags move them: `-A` puts a PCB address (macOS: also a flow hash) before
Proto and narrows the address columns from 22 to 18 characters; FreeBSD `-T`
has three counters (Rexmit OOORcv 0-win) instead of Recv-Q Send-Q, filled on
TCP rows only (UDP rows leave them blank); FreeBSD `-x` and `-T` drop the
`(state)` column. UDP rows never fill the state column, so it is read for TCP
rows only. Rows filtered by `grep` or `awk` (no header) are read with the
default `-an` layout. A `tcp4` row whose address is IPv6 (seen once, in a
hand-trimmed macOS capture) is reported as IPv6.

Cut addresses: netstat prints at most 16 characters of an IPv6 host and then
`.port`, all cut to the column width. With the default width (22) the port
always survives (16 + 1 + 5 = 22): such rows are reported with the port as
printed and the host kept as the cut text (`fe80::aede:48ff:`). With `-A`
(width 18) the port itself can be cut (`fe80::aede:48ff:.5` for port 5353),
so a row whose LOCAL address fills a narrow column is skipped: reporting it
would claim a port it may not hold. A cut remote address is kept as printed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import NamedTuple

import attrs

from .._errors import ParseError
from .._records import Endpoint, Family, NoOwner, Protocol, Socket, State, record
from . import addr as _addr
from .states import state_from_word
from .text import lines

# Version of this parser's output, recorded in each golden file it produced
# (tests/support/golden.py). Raise it with any deliberate change of the records it returns.
FORMAT_VERSION = 1

PROTOS: dict[str, tuple[Protocol, Family]] = {
    "tcp": (Protocol.TCP, Family.IPV4),
    "tcp4": (Protocol.TCP, Family.IPV4),
    "tcp6": (Protocol.TCP, Family.IPV6),
    "tcp46": (Protocol.TCP, Family.IPV6),
    "udp": (Protocol.UDP, Family.IPV4),
    "udp4": (Protocol.UDP, Family.IPV4),
    "udp6": (Protocol.UDP, Family.IPV6),
    "udp46": (Protocol.UDP, Family.IPV6),
}
# Below this address width (the -A layouts) an IPv6 `host.port` can lose port digits.
_FULL_WIDTH = 22
_STATE_TITLES = ("(state)", "state", "tcp-state")
# Section titles in the C locale. Only Internet sections hold TCP/UDP rows; the
# others (UNIX domain, macOS Multipath, kernel event and control sockets) have
# their own `Proto` headers and are skipped whole.
_TITLES = ("Active ", "Registered ")
_INET_TITLE = re.compile(r"^Active Internet6? connections")


@attrs.frozen(kw_only=True)
class Layout:
    """Where the columns of one section are, read from its `Proto ...` header."""

    lead: int = 0  # columns before Proto: -A adds the PCB address (macOS also Flowhash)
    counts: int = 2  # columns between Proto and Local Address: FreeBSD -T has 3
    state: bool = True  # a (state) column, filled on TCP rows only
    width: int = _FULL_WIDTH  # width of the address columns
    tail: tuple[str, ...] = ()  # lower-cased names of the columns after the state


class Row(NamedTuple):
    """One TCP/UDP row: what its socket needs but the owner, and the columns after the state.

    A tuple rather than a Socket: macOS adds the owner from the tail, and the
    Socket is then made once, with it.
    """

    lineno: int
    line: str
    layout: Layout
    protocol: Protocol
    family: Family
    local: Endpoint
    remote: Endpoint | None
    state: State | None
    tail: list[str]

    def socket(self, pid: int | None = None, process: str | None = None) -> Socket:
        """The row's Socket, with the owner when the caller read one."""
        return record(
            self,
            pid=pid,
            process=process,
            # netstat -an has no owner column: it shows none, hidden or not.
            no_owner=NoOwner.NOT_SHOWN if pid is None else None,
        )


def parse(text: str) -> list[Socket]:
    """Every TCP/UDP socket in BSD netstat output, owner hidden (pid None)."""
    return [row.socket() for row in rows(text)]


def rows(text: str) -> Iterator[Row]:
    """Each TCP/UDP row of the Internet sections, with the layout of its section."""
    layout = Layout()
    inet = True
    for lineno, line in enumerate(lines(text), 1):
        if line.startswith(_TITLES):
            inet = _INET_TITLE.match(line) is not None
            continue
        words = line.split()
        if not inet or not words:
            continue
        if "Proto" in words[:3]:
            layout = _header(lineno, line)
            continue
        if len(words) <= layout.lead or words[layout.lead] not in PROTOS:
            continue  # raw (icm4, ip), sctp, divert or another section's row
        try:
            row = _row(words, layout, lineno, line)
        except (ValueError, IndexError) as exc:
            raise ParseError("netstat", lineno, line, str(exc)) from None
        if row is not None:
            yield row


def _header(lineno: int, line: str) -> Layout:
    try:
        return layout_of(line)
    except ValueError:
        raise ParseError("netstat", lineno, line, "a header without Local Address") from None


def layout_of(header: str) -> Layout:
    """The layout a `Proto ...` header announces."""
    names = _header_names(header)
    proto = names.index("proto")
    local = names.index("local address")
    after = names.index("foreign address") + 1
    # FreeBSD and macOS say "(state)", NetBSD "State", OpenBSD "TCP-State";
    # FreeBSD -x and -T have none. macOS -v has a later, unrelated "state".
    state = after < len(names) and names[after] in _STATE_TITLES
    if not state:
        after -= 1
    return Layout(
        lead=proto,
        counts=local - proto - 1,
        state=state,
        width=_address_width(header),
        tail=tuple(names[after + 1 :]),
    )


def _header_names(header: str) -> list[str]:
    merged = re.sub(r"(?i)\b(Local|Foreign) Address\b", r"\1_Address", header)
    return [name.lower().replace("_", " ") for name in merged.split()]


def _address_width(header: str) -> int:
    # The Local Address title is padded to the column width plus one space.
    match = re.search(r"(?i)Local Address\s+(?=Foreign)", header)
    return len(match.group()) - 1 if match else _FULL_WIDTH


def _row(words: list[str], layout: Layout, lineno: int, line: str) -> Row | None:
    at = layout.lead
    protocol, family = PROTOS[words[at]]
    at += 1 + _counts(words, at + 1, layout.counts)
    local_text, remote_text = words[at], words[at + 1]
    at += 2
    if _port_may_be_cut(local_text, layout):
        return None
    state: State | None = None
    if protocol is Protocol.TCP and layout.state:
        state = tcp_state(words[at])
        at += 1
    remote = endpoint(remote_text, protocol, family)
    local = endpoint(local_text, protocol, family)
    if _addr.family_of(local.address) is Family.IPV6:
        family = Family.IPV6  # a `tcp4` row holding an IPv6 address: the address wins
    return Row(
        lineno=lineno,
        line=line,
        layout=layout,
        protocol=protocol,
        family=family,
        local=local,
        remote=None if _addr.is_unconnected(remote) else remote,
        state=state,
        tail=words[at:],
    )


def _counts(words: list[str], at: int, counts: int) -> int:
    """How many of the `counts` number columns after Proto this row fills.

    FreeBSD `-T` prints its three counters (Rexmit OOORcv 0-win) for TCP rows
    only and leaves them blank on UDP rows; every other layout fills its
    Recv-Q Send-Q on every row. An address never reads as a number: BSD
    addresses always hold a `.` before the port.
    """
    filled = 0
    while filled < counts and at + filled < len(words) and words[at + filled].isdecimal():
        filled += 1
    return filled


def _port_may_be_cut(text: str, layout: Layout) -> bool:
    return layout.width < _FULL_WIDTH and len(text) >= layout.width


@functools.lru_cache(maxsize=256)  # a handful of words, on every TCP line
def tcp_state(word: str) -> State:
    """State of a netstat state word; a trailing `*` (FreeBSD T/TCP hidden state) is dropped."""
    return state_from_word(word.rstrip("*"))


@functools.lru_cache(maxsize=16384)
def endpoint(text: str, protocol: Protocol, family: Family) -> Endpoint:
    """Endpoint of a BSD `host.port` token; `*.*` gives the unconnected wildcard.

    Cached whole: `*.*` and listeners repeat on many lines, and Endpoint is immutable.
    """
    host, zone, port = _addr.split_dot(text)
    return _addr.make_endpoint(host, zone, port, protocol.value, family)
