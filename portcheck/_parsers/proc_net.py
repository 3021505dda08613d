"""Parser for the Linux kernel's socket tables `/proc/net/{tcp,tcp6,udp,udp6}`.

Each table lists every socket of a network namespace with hex, host-byte-order
addresses, a state code, the socket's uid and its inode; a sample line of
/proc/net/tcp::

       0: 0100007F:B79A 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 4910 1 ...

The owners are not in the table: the procfs backend finds them from the inode.
"""

from __future__ import annotations

import functools
import sys
from typing import NamedTuple

from .._errors import ParseError
from .._records import Endpoint, Family, Protocol, Socket, State, record
from . import addr as _addr
from .states import kernel_state
from .text import lines

# table name -> what its sockets are.
TABLES = {
    "tcp": (Protocol.TCP, Family.IPV4),
    "tcp6": (Protocol.TCP, Family.IPV6),
    "udp": (Protocol.UDP, Family.IPV4),
    "udp6": (Protocol.UDP, Family.IPV6),
}


class Entry(NamedTuple):
    """One socket of a kernel table, without owner: its fields and its inode (0: none).

    The fields, not a `Socket`: the procfs backend builds each record once,
    with its owner (`procfs.with_owners`), and a listing makes thousands (at
    4,000 listeners, a throwaway record per socket cost a sixth of the time).
    `socket` builds the ownerless record for the callers that want one.

    A NamedTuple, not an attrs class: the default lookup imports this module
    at every start of the command.
    """

    protocol: Protocol
    family: Family
    local: Endpoint
    remote: Endpoint | None
    state: State | None
    uid: int | None
    inode: int

    @property
    def system_process(self) -> bool:
        """False: no kernel pseudo-process holds a Linux socket (read as of a record)."""
        return False

    @property
    def socket_id(self) -> str | None:
        """The inode as digits (None for 0), as the records carry it."""
        return str(self.inode) if self.inode else None

    @property
    def socket(self) -> Socket:
        """The record without owner (`socket_id` not set: the owner lookup sets it)."""
        return record(self, uid=self.uid)


def parse_table(text: str, name: str, port: int | None = None) -> list[Entry]:
    """Sockets in the text of table `name` ("tcp", "udp6", ...); only local `port` if given.

    Addresses are 32-bit words printed in the host's byte order; captures
    from a machine of the other byte order would read wrong, so this reads
    them as this machine's order, as the kernel wrote them.
    """
    protocol, family = TABLES[name]
    needle = None if port is None else f":{port:04X} "
    entries: list[Entry] = []
    for lineno, line in enumerate(lines(text), 1):
        if needle is not None and needle not in line:
            continue  # cheap pre-filter on a table of thousands of lines
        fields = line.split()
        if not fields or fields[0] == "sl":
            continue
        try:
            entry = _parse_entry(fields, protocol, family)
        except (ValueError, IndexError) as exc:
            raise ParseError(f"/proc/net/{name}", lineno, line, str(exc)) from None
        if port is None or entry.local.port == port:
            entries.append(entry)
    return entries


def is_row_of_port(line: str, port: int) -> bool:
    """True for a table row whose LOCAL port is `port` (what `--raw` keeps of a table)."""
    fields = line.split()
    return len(fields) > 1 and fields[0] != "sl" and fields[1].endswith(f":{port:04X}")


def _parse_entry(fields: list[str], protocol: Protocol, family: Family) -> Entry:
    local = _hex_endpoint(fields[1], family)
    remote = _hex_endpoint(fields[2], family)
    code = int(fields[3], 16)
    return Entry(
        protocol=protocol,
        family=family,
        local=local,
        remote=None if _addr.is_unconnected(remote) else remote,
        state=None if protocol is Protocol.UDP else kernel_state(code),
        uid=int(fields[7]),
        inode=int(fields[9]),
    )


@functools.lru_cache(maxsize=16384)
def _hex_endpoint(text: str, family: Family) -> Endpoint:
    # Cached: the unconnected peer `00000000:0000` is on every listener line,
    # and Endpoint is immutable.
    host, port = text.split(":")
    return Endpoint(address=_hex_address(host, family), port=int(port, 16))


@functools.lru_cache(maxsize=4096)
def _hex_address(host: str, family: Family) -> str:
    # Cached: a host has few addresses, each on many lines, and ipaddress is slow.
    raw = b"".join(
        int(host[i : i + 8], 16).to_bytes(4, sys.byteorder) for i in range(0, len(host), 8)
    )
    expected = 4 if family is Family.IPV4 else 16
    if len(raw) != expected:
        raise ValueError(f"address of {len(raw)} bytes in an {family.value} table")
    import ipaddress  # here: the procfs backend imports this module for `Entry` alone

    return _addr.canonical_address(str(ipaddress.ip_address(raw)))
