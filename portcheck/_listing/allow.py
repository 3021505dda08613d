"""What the listing keeps: listeners reachable from other hosts (`--exposed`), and the
ones an allowlist does not expect (`--allow`, and the Ansible plugin's `allowed`).
The filters of `listening(port=, name=, ...)` are in `select.py`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Union

from .._records import Socket


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 and the IPv4-mapped ::ffff:127.x; False for names too."""
    import ipaddress  # here: the command parses its port lists with this module at start-up

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


Allowed = Union[Sequence[Union[int, str]], str]


def parse_allowed(allowed: Allowed) -> list[tuple[int, int]]:
    """Ports and ranges (`22`, `"443"`, `"8000-8100"`) as (first, last) pairs; ValueError else.

    A string is split at commas (`"22,443,8000-8100"`). The one parser of port
    arguments: `portcheck PORTS`, `wait`, `kill`, `list --port` and `--allow`.
    """
    if isinstance(allowed, str):
        allowed = [part for part in allowed.split(",") if part.strip()]
    if not isinstance(allowed, Sequence):
        raise TypeError("allowed must be a list of ports and ranges such as 8000-8100")
    ranges = []
    for item in allowed:
        text = str(item).strip() if not isinstance(item, bool) else ""
        first, dash, last = text.partition("-")
        # ASCII digits only: int() reads "٣٣" as 33, and isdigit() accepts "²".
        if not _digits(first) or (dash and not _digits(last)):
            raise ValueError(f"not a port or a range of ports: {item!r}")
        low, high = int(first), int(last) if dash else int(first)
        if 1 <= high < low <= 65535:
            raise ValueError(f"not a port range, its first port is above its last: {item!r}")
        if not 1 <= low <= high <= 65535:
            raise ValueError(f"not a port or a range of ports (1-65535): {item!r}")
        ranges.append((low, high))
    return ranges


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def is_allowed(port: int, ranges: Sequence[tuple[int, int]]) -> bool:
    """True when `port` lies in one of the (first, last) `ranges`."""
    return any(low <= port <= high for low, high in ranges)


def unexpected(sockets: Iterable[Socket], ranges: Sequence[tuple[int, int]]) -> list[Socket]:
    """The sockets whose local port no range allows: a compliance audit's finding."""
    return [s for s in sockets if not is_allowed(s.local.port, ranges)]
