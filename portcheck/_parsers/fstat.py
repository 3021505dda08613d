"""Parser for OpenBSD `fstat`: the processes behind Internet sockets.

fstat lists every open file of every process (as root; without root only the
caller's own). The OpenBSD backend runs `fstat -n` (numeric device numbers:
no mount or device name lookups; socket rows are the same with or without
it). Only the rows of Internet sockets are read; a sample (OpenBSD 6.6, real
capture)::

    www      httpd2     22930    3* internet stream tcp 0xffff8000008e9660 *:80
    _ntp     ntpd       20075    6* internet dgram udp 10.0.2.15:39674 <-> 162.159.200.1:123
    _bind    named      55537  512* internet6 dgram udp [fe80::1%lo0]:53

Columns: USER (cut at 8 characters: `%-8.8s`, so a name of exactly 8 may be
cut), CMD (the kernel's command name, free to hold spaces: it is taken from
the line between USER and PID), PID, FD (the `*` after it marks a socket
row), domain (`internet` is IPv4, `internet6` IPv6), socket type, protocol,
for TCP the address of the protocol control block (`0x...`, the same in
every process sharing the socket; it is the record's `socket_id`), the local
address, and for a connected socket `<->` and the remote address. Addresses
are always numeric; IPv6 ones are bracketed; `*` is the wildcard, `*:0` a
socket not bound yet.

fstat prints no TCP state: TCP records have `state=None` (the backend takes
the state from `netstat -an`). Rows of other domains (unix, route, pipes,
kqueues, vnodes) are skipped. The header (`USER CMD PID FD MOUNT ...`) is
skipped too, so output filtered by `grep` (no header) reads the same.
"""

from __future__ import annotations

import functools
import re

from .._errors import ParseError
from .._records import Endpoint, Family, Protocol, Socket
from . import addr as _addr

# Version of this parser's output, recorded in each golden file it produced
# (tests/support/golden.py). Raise it with any deliberate change of the records it returns.
FORMAT_VERSION = 2

_DOMAINS = {"internet": Family.IPV4, "internet6": Family.IPV6}
_PROTOCOLS = {"tcp": Protocol.TCP, "udp": Protocol.UDP}
_FD = re.compile(r"\d+\*?")
_TOKEN = re.compile(r"\S+")
# What fstat puts between a connected socket's two addresses.
_ARROWS = ("<->", "-->", "<--")


def parse(text: str) -> list[Socket]:
    """Every TCP/UDP socket row in fstat output, one record per (process, descriptor)."""
    sockets: list[Socket] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        words = line.split()
        at = _domain_index(words)
        if at is None:
            continue
        try:
            sock = _row(line, words, at)
        except (ValueError, IndexError) as exc:
            raise ParseError("fstat", lineno, line, str(exc)) from None
        if sock is not None:
            sockets.append(sock)
    return sockets


def _domain_index(words: list[str]) -> int | None:
    """Index of the `internet`/`internet6` word that follows PID and FD, or None."""
    for at in range(3, len(words)):
        if words[at] in _DOMAINS and _FD.fullmatch(words[at - 1]):
            return at
    return None


def _row(line: str, words: list[str], at: int) -> Socket | None:
    family = _DOMAINS[words[at]]
    rest = words[at + 1 :]
    if len(rest) < 3:
        raise ValueError("fewer columns than TYPE PROTO ADDRESS after the domain")
    protocol = _PROTOCOLS.get(rest[1])
    if protocol is None:
        return None  # raw IP, ICMP, or a protocol number
    addresses = rest[2:]
    pcb = None
    if addresses and addresses[0].startswith("0x"):
        pcb, addresses = addresses[0], addresses[1:]  # TCP: the control block's address
    if not addresses:
        raise ValueError("no local address")
    local = _endpoint(addresses[0], protocol, family)
    remote: Endpoint | None = None
    if len(addresses) >= 3 and addresses[1] in _ARROWS:
        remote = _endpoint(addresses[2], protocol, family)
        if _addr.is_unconnected(remote):
            remote = None
    elif len(addresses) > 1:
        raise ValueError(f"unexpected {' '.join(addresses[1:])!r} after the local address")
    user, process, pid = _owner(line, words[: at - 1])
    return Socket(
        protocol=protocol,
        family=_addr.family_of(local.address) or family,
        local=local,
        remote=remote,
        state=None,  # fstat shows no TCP state
        pid=pid,
        process=process,
        user=None if user.isdecimal() else user,
        uid=int(user) if user.isdecimal() else None,
        socket_id=pcb,  # one per socket: a socket on two descriptors is one record
    )


def _owner(line: str, before: list[str]) -> tuple[str, str, int | None]:
    """(user, command, pid) from the words before FD: USER CMD... PID."""
    if len(before) < 3:
        raise ValueError("fewer columns than USER CMD PID FD")
    pid_text = before[-1]
    if not (pid_text.isascii() and pid_text.isdecimal()):
        raise ValueError(f"pid {pid_text!r} is not a number")
    # CMD may hold spaces: cut from the line itself, between USER and PID.
    spans = [token.span() for token in _TOKEN.finditer(line)]
    command = line[spans[1][0] : spans[len(before) - 2][1]]
    return before[0], command, int(pid_text) or None  # pid 0 is no process


@functools.lru_cache(maxsize=4096)
def _endpoint(text: str, protocol: Protocol, family: Family) -> Endpoint:
    # Cached: a pre-fork server's listener repeats on one line per process.
    host, zone, port = _addr.split_colon(text)
    return _addr.make_endpoint(host, zone, port, protocol.value, family)
