"""What the listing command keeps: listeners reachable from other hosts (`--exposed`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from ._records import Socket


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 and the IPv4-mapped ::ffff:127.x; False for names too."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address == "localhost"  # a tool run without -n printed a name
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def exposed(sockets: Iterable[Socket]) -> list[Socket]:
    """The sockets not bound to a loopback address: the audit's question."""
    return [s for s in sockets if not is_loopback(s.local.address)]
