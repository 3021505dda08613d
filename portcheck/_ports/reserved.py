"""Ports the operating system keeps back although no socket uses them.

Two reasons a free port may still not be yours:

- **Reserved ports.** Windows: the excluded port ranges of
  `netsh interface ipv{4,6} show excludedportrange protocol={tcp,udp}`
  (Hyper-V, WSL2, Docker, administrators); a bind there fails with
  WSAEACCES. Linux: `/proc/sys/net/ipv4/ip_local_reserved_ports`, a comma
  list of ports and ranges (``8080,9000-9010``) that the administrator keeps
  for known applications: the kernel never hands them out automatically
  (an outgoing connection, a bind to port 0) but an explicit bind still
  works. Both are "reserved" here; `ReservedRange.refuses_bind` tells them
  apart. macOS and the BSDs have no such list.
- **Privileged ports.** Linux: ports below
  `/proc/sys/net/ipv4/ip_unprivileged_port_start` (1024 unless changed;
  Docker sets 0 in containers) need root or CAP_NET_BIND_SERVICE. FreeBSD:
  up to `sysctl net.inet.ip.portrange.reservedhigh` (1023 unless changed)
  need root. NetBSD, OpenBSD: below 1024 need root. macOS (10.14 and later) and
  Windows: none.

Reading is done here, parsing in pure functions (`_parsers.port_ranges`, and
`_parsers.netsh_excluded` for Windows). Only this machine is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import attrs

from .._errors import PortcheckError
from .._parsers.port_ranges import parse_linux_list, parse_port
from .._records import Family, Platform, Protocol

if TYPE_CHECKING:
    from .._backends.context import Context

LINUX_RESERVED = "/proc/sys/net/ipv4/ip_local_reserved_ports"
LINUX_UNPRIVILEGED_START = "/proc/sys/net/ipv4/ip_unprivileged_port_start"
# IPPORT_RESERVED: the historical privileged ports are 1-1023.
DEFAULT_UNPRIVILEGED_START = 1024
# Linux capability number of CAP_NET_BIND_SERVICE (linux/capability.h).
_CAP_NET_BIND_SERVICE = 10


@attrs.frozen(kw_only=True)
class ReservedRange:
    """Ports `first` to `last` inclusive that the OS keeps back, and where that was read.

    `protocol` and `family` are those the reservation applies to, None for
    all (the Linux list covers TCP and UDP, IPv4 and IPv6). `refuses_bind` is
    True when a bind inside the range fails (Windows' excluded ranges), False
    when only the kernel's automatic choice avoids it (the Linux list).
    `administered` marks a Windows range an administrator added (netsh's
    `*`) rather than one a service such as Hyper-V reserved. `source` is the
    file or command it was read from.
    """

    first: int
    last: int
    source: str
    protocol: Protocol | None = None
    family: Family | None = None
    refuses_bind: bool = False
    administered: bool = False

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.first <= port <= self.last

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


def reserved_ranges(protocols: Iterable[Protocol], ctx: Context) -> list[ReservedRange]:
    """The ranges reserved for any of `protocols` on this machine, read as `ctx.platform` does.

    A list that cannot be read is left out: on Linux the list only steers
    the kernel's automatic choice (an explicit bind works anyway), and on
    Windows `find_free_ports` binds every candidate, which an excluded range
    refuses, so nothing is returned that cannot be bound.
    """
    return list(_each_reserved(tuple(protocols), ctx))


def reserved_range_of(port: int, ctx: Context) -> ReservedRange | None:
    """The first reserved range (TCP first, then UDP) that holds `port`, or None."""
    every = _each_reserved((Protocol.TCP, Protocol.UDP), ctx)
    return next((r for r in every if port in r), None)


def _each_reserved(protocols: tuple[Protocol, ...], ctx: Context) -> Iterator[ReservedRange]:
    if ctx.remote is not None:
        return  # only this machine's lists are read
    if ctx.local_proc:
        yield from _linux_reserved(LINUX_RESERVED)
    elif ctx.platform is Platform.WINDOWS:
        yield from _windows_excluded(protocols, ctx)


def _linux_reserved(path: str) -> list[ReservedRange]:
    try:
        with open(path, encoding="ascii") as f:
            pairs = parse_linux_list(f.read())
    except (OSError, ValueError):
        return []  # no /proc/sys here (gVisor, a chroot): see reserved_ranges
    return [ReservedRange(first=a, last=b, source=path) for a, b in pairs]


def _windows_excluded(protocols: tuple[Protocol, ...], ctx: Context) -> Iterator[ReservedRange]:
    from .._backends import windows

    for protocol in protocols:
        for family in (Family.IPV4, Family.IPV6):
            try:
                source, found = windows.excluded_ranges(ctx, family, protocol)
            except (PortcheckError, OSError):
                continue  # netsh missing or failing: see reserved_ranges
            for excluded in found:
                yield ReservedRange(
                    first=excluded.first,
                    last=excluded.last,
                    source=source,
                    protocol=protocol,
                    family=family,
                    refuses_bind=True,
                    administered=excluded.administered,
                )


def unprivileged_port_start(platform: Platform, ctx: Context | None = None) -> int:
    """The lowest port any user may bind on `platform` (this machine's value on Linux).

    On FreeBSD, given the lookup's `ctx`: one above the reservedhigh sysctl.
    """
    if platform is Platform.FREEBSD and ctx is not None:
        return _freebsd_reserved_high(ctx) + 1
    if platform is Platform.LINUX:
        if Platform.current() is not Platform.LINUX:
            return DEFAULT_UNPRIVILEGED_START
        return _read_int(LINUX_UNPRIVILEGED_START, DEFAULT_UNPRIVILEGED_START)
    if platform in (Platform.DARWIN, Platform.WINDOWS):
        return 0  # macOS 10.14 dropped the restriction; Windows never had it
    return DEFAULT_UNPRIVILEGED_START


def may_bind_privileged(platform: Platform) -> bool:
    """True when this process may bind ports below `unprivileged_port_start`.

    Root may; on Linux so may any process with CAP_NET_BIND_SERVICE (a
    service granted it by systemd's AmbientCapabilities, a binary with
    `setcap`), and root in a container without it may not.
    """
    if platform is Platform.WINDOWS:
        return True
    if platform is Platform.LINUX and Platform.current() is Platform.LINUX:
        caps = _effective_capabilities()
        if caps is not None:
            return bool(caps >> _CAP_NET_BIND_SERVICE & 1)
    from .._backends.context import is_root

    return is_root()


def privileged_limit(platform: Platform, ctx: Context | None = None) -> int:
    """Ports below this one are privileged on `platform` and this process may not bind them."""
    return 0 if may_bind_privileged(platform) else unprivileged_port_start(platform, ctx)


def is_privileged(port: int, platform: Platform, ctx: Context | None = None) -> bool:
    """True when `port` is privileged on `platform` and this process may not bind it."""
    return port < privileged_limit(platform, ctx)


def _freebsd_reserved_high(ctx: Context) -> int:
    """`net.inet.ip.portrange.reservedhigh` read with `sysctl -n`; 1023 when unreadable."""
    sysctl = ctx.runner.which("sysctl")
    if sysctl is None:
        return DEFAULT_UNPRIVILEGED_START - 1
    argv = [sysctl, "-n", "net.inet.ip.portrange.reservedhigh"]
    try:
        done = ctx.runner.run(argv, timeout=ctx.timeout)
        if done.returncode != 0:
            return DEFAULT_UNPRIVILEGED_START - 1
        return parse_port(done.stdout.decode("ascii", "replace"))
    except (OSError, ValueError):
        return DEFAULT_UNPRIVILEGED_START - 1


def _effective_capabilities(status: str = "/proc/self/status") -> int | None:
    try:
        with open(status, encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError, IndexError):
        return None
    return None


def _read_int(path: str, default: int) -> int:
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return default  # before Linux 4.11 the file does not exist: 1024 it is
