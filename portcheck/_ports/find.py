"""`find_free_ports`: ports in a range that a server can bind right now.

A port is returned when, in this order of checks:

1. no socket of the protocol(s) uses it, in ONE listing of every socket
   (`portcheck.sockets()`'s, through the same backends), not one lookup per port;
2. it is not reserved (`_reserved`: Windows' excluded ranges, Linux's
   `ip_local_reserved_ports`);
3. it is not privileged for this process (below 1024, or Linux's
   `ip_unprivileged_port_start`, without root or CAP_NET_BIND_SERVICE);
4. it is outside the ephemeral range, unless `allow_ephemeral`: the kernel
   may hand such a port to any outgoing connection at any moment;
5. it really binds: a socket of each protocol is bound to it and closed, on
   the IPv4 and the IPv6 wildcard address (IPv6 where this machine has it).

Checks 1 to 4 are read once for the whole range; only candidates that pass
them are bound, and only until `count` are found. The answer is true when it
is given: any process may take the port a moment later. When any port will
do, binding port 0 is the race-free way.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, Callable

import attrs

from .._errors import NoFreePortError
from .._records import Protocol
from .._validate import check_port, check_protocol

if TYPE_CHECKING:
    from .._backends.context import Context

# Why a port of the range was not returned, in the order the checks run; a
# port is counted under the first that applies.
SKIP_REASONS = ("in_use", "reserved", "privileged", "ephemeral", "bind_refused")
# (port, protocols) -> True when the port binds for every protocol.
CanBind = Callable[[int, Sequence[Protocol]], bool]


@attrs.frozen(kw_only=True)
class Search:
    """What a search found: `ports` (at most the count wanted), and why others were skipped."""

    first: int
    last: int
    wanted: int
    protocol: str
    ports: tuple[int, ...]
    skipped: dict[str, int]

    @property
    def enough(self) -> bool:
        """True when `ports` holds as many as wanted."""
        return len(self.ports) >= self.wanted

    def error(self) -> NoFreePortError:
        """The error saying that the range held too few."""
        return NoFreePortError(self.first, self.last, self.wanted, self.ports, self.skipped)


def find_free_ports(
    start: int,
    end: int,
    *,
    count: int = 1,
    protocol: str = "tcp",
    random: bool = False,
    allow_ephemeral: bool = False,
    timeout: float = 10.0,
) -> list[int]:
    """`count` ports of `start`-`end` (inclusive) that nothing uses and this process can bind.

    `protocol` is "tcp", "udp" or "both" (free for both). Skipped are ports
    with a socket of the protocol, reserved ports (Windows' excluded ranges,
    Linux's `ip_local_reserved_ports`), ports this process is not privileged
    to bind, and ports in the ephemeral range unless `allow_ephemeral`. Each
    port returned was bound and closed on IPv4 and IPv6 (where available)
    just before. Lowest first, or in random order with `random` (fewer
    collisions between parallel test runs sharing a range).

    The answer is true at the moment it is given; any process may take the
    port before you bind it. When any port will do, bind port 0 instead.
    Raises `NoFreePortError` (with `.found`) when the range holds fewer than
    `count`, TypeError/ValueError for bad arguments, and what `who_owns`
    raises when the sockets cannot be listed. `timeout` bounds each tool run
    of the one listing of sockets, in seconds.
    """
    from .._context import context_for

    wanted = Wanted.checked(
        start, end, count=count, protocol=protocol, random=random, allow_ephemeral=allow_ephemeral
    )
    found = search(wanted, context_for(timeout=timeout))
    if not found.enough:
        raise found.error()
    return list(found.ports)


@attrs.frozen(kw_only=True)
class Wanted:
    """What a search looks for, validated: build it with `Wanted.checked`."""

    first: int
    last: int
    count: int
    protocols: tuple[Protocol, ...]
    random: bool
    allow_ephemeral: bool

    @classmethod
    def checked(
        cls,
        start: object,
        end: object,
        *,
        count: object = 1,
        protocol: object = "tcp",
        random: object = False,
        allow_ephemeral: object = False,
    ) -> Wanted:
        """The search `find_free_ports` describes; TypeError/ValueError for bad arguments."""
        first, last = check_port(start), check_port(end)
        if first > last:
            raise ValueError(f"start must not be above end: {first}-{last}")
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError(f"count must be an int, not {type(count).__name__} ({count!r})")
        if not 1 <= count <= last - first + 1:
            raise ValueError(f"count must be between 1 and {last - first + 1} (the range's size)")
        for name, value in (("random", random), ("allow_ephemeral", allow_ephemeral)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
        return cls(
            first=first,
            last=last,
            count=count,
            protocols=check_protocol(protocol, allow_none=False),
            random=bool(random),
            allow_ephemeral=bool(allow_ephemeral),
        )


def search(
    wanted: Wanted,
    context: Context,
    *,
    tool: str | None = None,
    strict: bool = False,
    can_bind: CanBind | None = None,
) -> Search:
    """`find_free_ports` in `context`, returning what it found, without raising when too few.

    `tool` forces the backend of the one listing; `can_bind` replaces the real
    bind check in tests. A port where only TIME_WAIT remnants are left is not
    "in use" unless `strict` (docs/time-wait.md): the bind check still decides.
    """
    first, last, protocols = wanted.first, wanted.last, wanted.protocols
    reasons = _static_reasons(
        first, last, protocols=protocols, ctx=context, tool=tool, strict=strict
    )
    if wanted.allow_ephemeral:
        reasons = {p: r for p, r in reasons.items() if r != "ephemeral"}
    candidates = [p for p in range(first, last + 1) if p not in reasons]
    if wanted.random:
        import random as _random

        _random.shuffle(candidates)
    binds = can_bind or BindCheck()
    found: list[int] = []
    for port in candidates:
        if len(found) == wanted.count:
            break
        if binds(port, protocols):
            found.append(port)
        else:
            reasons[port] = "bind_refused"
    skipped = dict.fromkeys(SKIP_REASONS, 0)
    for reason in reasons.values():
        skipped[reason] += 1
    return Search(
        first=first,
        last=last,
        wanted=wanted.count,
        protocol="both" if len(protocols) > 1 else protocols[0].value,
        ports=tuple(found),
        skipped=skipped,
    )


def _static_reasons(
    first: int,
    last: int,
    *,
    protocols: Sequence[Protocol],
    ctx: Context,
    tool: str | None = None,
    strict: bool = False,
) -> dict[int, str]:
    """port -> why it is skipped, for the checks read once: use, reservation, privilege, range."""
    from .._lookup import lookup
    from .._records import in_use
    from .ephemeral import read_range
    from .reserved import privileged_limit, reserved_ranges

    listed = lookup(None, tool=tool, context=ctx, scope="all")
    used = {s.local.port for s in listed if s.protocol in protocols and in_use([s], strict=strict)}
    reserved = reserved_ranges(protocols, ctx)
    ephemeral = read_range(ctx)
    privileged_below = privileged_limit(ctx.platform, ctx)
    reasons: dict[int, str] = {}
    for port in range(first, last + 1):
        if port in used:
            reasons[port] = "in_use"
        elif any(port in r for r in reserved):
            reasons[port] = "reserved"
        elif port < privileged_below:
            reasons[port] = "privileged"
        elif port in ephemeral:
            reasons[port] = "ephemeral"
    return reasons


class BindCheck:
    """Binds a port on the IPv4 and IPv6 wildcard addresses, and closes it at once.

    No SO_REUSEADDR: with it Linux would accept a bind beside a TIME_WAIT
    remnant and Windows beside a live socket, and the check would prove
    nothing. IPv6 sockets are V6ONLY, so that the IPv4 check stands apart.
    """

    def __init__(self) -> None:
        self._families: tuple[socket.AddressFamily, ...] | None = None

    def __call__(self, port: int, protocols: Sequence[Protocol]) -> bool:
        families = self.families()
        return all(_binds(f, _KINDS[p], port) for p in protocols for f in families)

    def families(self) -> tuple[socket.AddressFamily, ...]:
        """AF_INET, and AF_INET6 when this machine can bind its wildcard address."""
        if self._families is None:
            self._families = (socket.AF_INET,)
            if socket.has_ipv6 and _binds(socket.AF_INET6, socket.SOCK_STREAM, 0):
                self._families += (socket.AF_INET6,)
        return self._families


_KINDS = {Protocol.TCP: socket.SOCK_STREAM, Protocol.UDP: socket.SOCK_DGRAM}
_WILDCARD = {socket.AF_INET: "0.0.0.0", socket.AF_INET6: "::"}


def _binds(family: socket.AddressFamily, kind: socket.SocketKind, port: int) -> bool:
    try:
        sock = socket.socket(family, kind)
    except OSError:
        return False  # no such family here (an IPv6-less kernel): probed in `families`
    with sock:
        try:
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((_WILDCARD[family], port))
        except OSError:
            return False  # EADDRINUSE, EACCES (privileged; Windows' excluded ranges)
    return True
