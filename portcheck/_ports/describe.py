"""`describe(port)`: what a port number is, who holds it, and whether that is normal.

Answers the questions asked about a port seen in a log or an alert: is it
listening or connecting out, which process owns it, is the number assigned to
a service, is it in the range the kernel hands to outgoing connections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from .._lookup import lookup
from .._records import IanaRange, Protocol, Role, Socket, in_use, is_listening
from .._validate import check_port
from .._words import REASON, owners
from .ephemeral import EphemeralRange, read_range
from .reserved import ReservedRange, is_privileged, reserved_range_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._backends.context import Context


@attrs.frozen(kw_only=True)
class PortRole:
    """One socket found on the port, with its role there."""

    socket: Socket
    role: Role


@attrs.frozen(kw_only=True)
class PortReport:
    """Everything `describe` knows about one port.

    `iana_range` is the port's IANA range; `ephemeral` says whether it lies in
    this system's ephemeral range `ephemeral_range` (ports the kernel picks
    for outgoing connections). `tcp_service` and `udp_service` are the names
    the services database gives the port, or None when it names none (or the
    database is missing, as in slim containers). `sockets` are the sockets on
    the port with their role, empty when it is free. `reasons` says, in
    words, why the port is worth a look; `worth_a_look` is True when there
    is any.

    Why a free port may still refuse a bind, or be a poor choice for a
    server: `reserved` is the reserved range that holds the port (Windows'
    excluded ranges, Linux's `ip_local_reserved_ports`), None when none
    does or the list cannot be read; `privileged` is True when the port is
    privileged here and this process may not bind it (below 1024, or
    Linux's `ip_unprivileged_port_start`, without root or
    CAP_NET_BIND_SERVICE); and `ephemeral`, above.
    """

    port: int
    iana_range: IanaRange
    ephemeral: bool
    ephemeral_range: EphemeralRange
    tcp_service: str | None
    udp_service: str | None
    sockets: tuple[PortRole, ...]
    reasons: tuple[str, ...]
    reserved: ReservedRange | None = None
    privileged: bool = False

    @property
    def in_use(self) -> bool:
        """True when a socket other than a TIME_WAIT remnant is on the port (owner
        hidden or not): the one rule of docs/time-wait.md."""
        return in_use(item.socket for item in self.sockets)

    @property
    def worth_a_look(self) -> bool:
        """True when `reasons` holds anything."""
        return bool(self.reasons)

    def explain(self) -> str:
        """The report in a few sentences, as `portcheck PORT --explain` prints it."""
        from .._render.explain import explain

        return explain(self)


def describe(
    port: int, *, tool: str | None = None, timeout: float = 10.0, host: str | None = None
) -> PortReport:
    """What `port` is, who holds it and each socket's role; see `PortReport`.

    Runs `who_owns(port, tool=tool, timeout=timeout, host=host)` and reads the
    ephemeral range of the system looked at (this one, or `host` over ssh);
    on this machine also its reserved and privileged ports (not read over
    ssh: `reserved` is then None and `privileged` False). Raises what
    `who_owns` raises when it cannot look. The service names come from this
    machine's services database. `timeout` bounds each tool run (the whole
    look at `host`), in seconds.
    """
    port = check_port(port)
    from .._context import context_for

    return report(port, context_for(host=host, timeout=timeout), tool=tool)


def report(
    port: int, ctx: Context, *, tool: str | None = None, sockets: Sequence[Socket] | None = None
) -> PortReport:
    """`describe` in the context `ctx`; `sockets` skips the lookup (already done)."""
    port = check_port(port)
    if sockets is None:
        sockets = lookup(port, tool=tool, context=ctx)
    ephemeral = read_range(ctx)
    if ctx.remote is not None:
        reserved, privileged = None, False
    else:
        reserved = reserved_range_of(port, ctx)
        privileged = is_privileged(port, ctx.platform)
    roles = tuple(PortRole(socket=s, role=r) for s, r in zip(sockets, roles_of(sockets)))
    iana = IanaRange.of(port)
    return PortReport(
        port=port,
        iana_range=iana,
        ephemeral=port in ephemeral,
        ephemeral_range=ephemeral,
        tcp_service=service_name(port, "tcp"),
        udp_service=service_name(port, "udp"),
        sockets=roles,
        reasons=_reasons(port, iana, roles),
        reserved=reserved,
        privileged=privileged,
    )


def roles_of(sockets: Sequence[Socket]) -> list[Role]:
    """The role of each socket, judged among all the sockets on the same port.

    A connected socket is inbound when a listener of its protocol shares its
    local port (the kernel created it by accepting a peer), outbound otherwise
    (a client's local port). Addresses are not compared: an IPv4 peer of a
    dual-stack `::` listener shows as IPv6 (`::ffff:...`).
    """
    listened = {(s.protocol, s.local.port) for s in sockets if is_listening(s)}
    return [_role(s, (s.protocol, s.local.port) in listened) for s in sockets]


def _role(sock: Socket, has_listener: bool) -> Role:
    if is_listening(sock):
        return Role.LISTENING
    if sock.remote is None:
        return Role.BOUND
    return Role.INBOUND if has_listener else Role.OUTBOUND


def service_name(port: int, protocol: str) -> str | None:
    """The services database's name for `port`/`protocol`, or None."""
    import socket

    try:
        return socket.getservbyport(port, protocol)
    except OSError:
        return None


def _reasons(port: int, iana: IanaRange, roles: Sequence[PortRole]) -> tuple[str, ...]:
    listeners = [r.socket for r in roles if r.role is Role.LISTENING]
    if not listeners or iana is not IanaRange.DYNAMIC:
        return ()
    who = " and ".join(owners(listeners, REASON))
    kind = "listens" if any(s.protocol is Protocol.TCP for s in listeners) else "receives"
    return (
        f"{who} {kind} on port {port}, in the dynamic/private range (49152-65535): "
        "few real services choose a port there, so check that this server is expected",
    )
