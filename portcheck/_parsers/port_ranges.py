"""Port ranges as the systems print them: the ephemeral range and reserved ports.

Pure: text in, (first, last) pairs out; ValueError for anything else. Read by
`_ports/ephemeral.py` and `_ports/reserved.py`.
"""

from __future__ import annotations

import re

_LABELLED_NUMBER = re.compile(r"^\s*\S.*?\s*:\s*(\d+)\s*$")


def parse_pair(text: str) -> tuple[int, int]:
    """The two port numbers of the Linux file or of `sysctl -n A B` (whitespace-separated)."""
    fields = text.split()
    if len(fields) != 2 or not all(f.isdigit() for f in fields):
        raise ValueError(f"expected two port numbers, got {text.strip()!r}")
    return _checked(int(fields[0]), int(fields[1]))


def parse_port(text: str) -> int:
    """One port number, as `sysctl -n net.inet.ip.portrange.reservedhigh` prints it."""
    word = text.strip()
    if not (word.isascii() and word.isdigit()) or int(word) > 65535:
        raise ValueError(f"expected a port number, got {word!r}")
    return int(word)


def parse_netsh(text: str) -> tuple[int, int]:
    """(first, last) from `netsh int ipv4 show dynamicport tcp`, in any display language."""
    numbers = [int(m.group(1)) for m in map(_LABELLED_NUMBER.match, text.splitlines()) if m]
    if len(numbers) < 2:
        raise ValueError(f"expected 'start : N' and 'count : N' lines, got {text.strip()!r}")
    start, count = numbers[0], numbers[1]
    if count < 1:
        raise ValueError(f"a dynamic port range of {count} ports")
    return _checked(start, start + count - 1)


def _checked(first: int, last: int) -> tuple[int, int]:
    if not 1 <= first <= last <= 65535:
        raise ValueError(f"not a port range: {first}-{last}")
    return first, last


# One item of the Linux list: a port or a range; ASCII digits only.
_LIST_ITEM = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$", re.ASCII)


def parse_linux_list(text: str) -> list[tuple[int, int]]:
    """(first, last) pairs of `ip_local_reserved_ports` text: ``8080,9000-9010``; [] if empty.

    ValueError for anything else than ports and ascending ranges of ports.
    """
    pairs: list[tuple[int, int]] = []
    text = text.strip()
    if not text:
        return pairs
    for item in text.split(","):
        match = _LIST_ITEM.match(item)
        if match is None:
            raise ValueError(f"not a port or range of ports: {item.strip()!r} in {text!r}")
        first = int(match.group(1))
        last = first if match.group(2) is None else int(match.group(2))
        if not 0 <= first <= last <= 65535:
            raise ValueError(f"not a range of ports: {item.strip()!r} in {text!r}")
        if last >= 1:  # port 0 is never bound by number: nothing to reserve
            pairs.append((max(first, 1), last))
    return pairs
