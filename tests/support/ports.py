"""Ports a live test can call its own: outside the ephemeral range, free in both families.

The kernel hands ports of the ephemeral range to every connect() and bind() to
port 0 on the machine: a test port taken from there may be given to another
process (another test's client) the moment the test's own socket closes, or
even while it is open, for a socket of the other protocol or family. A port
outside the range is never handed out implicitly; only an explicit bind of the
same number, which no other test makes, could take it.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def quiet_port(rng: random.Random | None = None) -> int:
    """A port outside the ephemeral range that no TCP or UDP socket of either family uses."""
    rng = rng or random.SystemRandom()
    try:
        first = int(_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        first = 32768
    low, high = (10000, first - 1) if first > 11000 else (61000, 65000)
    for _ in range(200):
        port = rng.randint(low, high)
        if _free_everywhere(port):
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


def _free_everywhere(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        for family, address in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            try:
                with socket.socket(family, kind) as probe:
                    if family == socket.AF_INET6:
                        probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    probe.bind((address, port))
            except OSError:
                return False
    return True
