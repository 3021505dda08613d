"""`describe(port)`: what a port number is, who holds it, and whether that is normal.

Answers the questions asked about a port seen in a log or an alert: is it
listening or connecting out, which process owns it, is the number assigned to
a service, is it in the range the kernel hands to outgoing connections.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

import attrs

from .._errors import PortcheckError
from .._lookup import lookup
from .._records import IanaRange, Protocol, Role, Socket, in_use, is_listening
from .._validate import check_port
from .._words import REASON, owners
from .ephemeral import EphemeralRange, read_range
from .reserved import ReservedRange, is_privileged, reserved_range_of

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from .._backends.context import Context


@attrs.frozen(kw_only=True)
class PortRole:
    """One socket found on the port, with its role there and the `evidence` for it (words)."""

    socket: Socket
    role: Role
    evidence: str = ""


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

    `lookup_privileged` is True when the lookup ran privileged (root there):
    an owner hidden then is one even root cannot see.
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
    lookup_privileged: bool = False

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
        privileged = is_privileged(port, ctx.platform, ctx)
    judged = judge_roles(sockets, ephemeral, _local_peers(sockets, ctx, tool))
    roles = tuple(
        PortRole(socket=s, role=role, evidence=why) for s, (role, why) in zip(sockets, judged)
    )
    iana = IanaRange.of(port)
    return PortReport(
        port=port,
        iana_range=iana,
        ephemeral=port in ephemeral,
        ephemeral_range=ephemeral,
        tcp_service=service_name(port, "tcp"),
        udp_service=service_name(port, "udp"),
        sockets=roles,
        reasons=_reasons(port, iana, roles, ctx.privileged),
        reserved=reserved,
        privileged=privileged,
        lookup_privileged=ctx.privileged,
    )


# Where no range was read: the IANA dynamic range, which most systems but Linux use.
_DYNAMIC = EphemeralRange(first=49152, last=65535, source="IANA dynamic range", default=True)


def roles_of(sockets: Sequence[Socket], ephemeral: EphemeralRange | None = None) -> list[Role]:
    """The role of each socket, judged among all the sockets on the same port (see
    `judge_roles`)."""
    return [role for role, _why in judge_roles(sockets, ephemeral)]


def judge_roles(
    sockets: Sequence[Socket],
    ephemeral: EphemeralRange | None = None,
    peer_listeners: Collection[tuple[Protocol, int]] = (),
) -> list[tuple[Role, str]]:
    """(role, evidence in words) of each socket, judged among all the sockets on its port.

    A connected socket's direction is decided from both ends, in this order:
    a listener of its protocol on its local port in this lookup (the kernel
    made it by accepting a peer; addresses are not compared: an IPv4 peer of
    a dual-stack listener shows as IPv6); a listener on the peer's port of
    this machine, for a loopback peer (`peer_listeners`: (protocol, port)
    pairs); which end's port is in the
    `ephemeral` range (the kernel gives a client one); which end's port is a
    well-known or registered service; several peers on this one local port
    (as a server's accepted connections; a closed listener leaves them in
    TIME_WAIT). When none decides, the role is CONNECTION, and the evidence
    says why. Not "no listener, so outbound": a server stopped before a
    redeploy leaves TIME_WAIT sockets on its own port.
    """
    facts = _Facts(
        eph=_DYNAMIC if ephemeral is None else ephemeral,
        listened={(s.protocol, s.local.port) for s in sockets if is_listening(s)},
        peer_listeners=set(peer_listeners),
    )
    for s in sockets:
        if s.remote is not None:
            facts.peers.setdefault((s.protocol, s.local.port), set()).add(s.remote)
    return [_judge(s, facts) for s in sockets]


@attrs.define
class _Facts:
    """What the lookup tells about every socket on the port, for judging each."""

    eph: EphemeralRange
    listened: set[tuple[Protocol, int]]
    peer_listeners: set[tuple[Protocol, int]]
    peers: dict[tuple[Protocol, int], set[object]] = attrs.field(factory=dict)


def _judge(sock: Socket, facts: _Facts) -> tuple[Role, str]:
    if is_listening(sock):
        return Role.LISTENING, ""
    if sock.remote is None:
        return Role.BOUND, "bound, not listening: neither listen() nor connect() was called"
    if (sock.protocol, sock.local.port) in facts.listened:
        return Role.INBOUND, f"a listener on port {sock.local.port} accepted it"
    if (sock.protocol, sock.remote.port) in facts.peer_listeners:
        return Role.OUTBOUND, f"the peer {sock.remote} is a listener on this machine"
    return _direction(sock, sock.local.port, sock.remote.port, facts)


def _direction(sock: Socket, ours: int, theirs: int, facts: _Facts) -> tuple[Role, str]:
    """A connection's direction from its two port numbers, or CONNECTION and why not."""
    eph = facts.eph
    if (ours in eph) != (theirs in eph):
        client = "ours" if ours in eph else "the peer's"
        role = Role.OUTBOUND if ours in eph else Role.INBOUND
        return role, f"{client} is the port in the ephemeral range {eph}, the client's side"
    rank_ours, rank_theirs = _service_rank(ours, sock), _service_rank(theirs, sock)
    if rank_ours != rank_theirs:
        server = ours if rank_ours > rank_theirs else theirs
        role = Role.INBOUND if rank_ours > rank_theirs else Role.OUTBOUND
        return role, f"port {server} is {_RANKS[max(rank_ours, rank_theirs)]}, the server's side"
    peers = len(facts.peers.get((sock.protocol, ours), ()))
    if peers > 1:
        return Role.INBOUND, f"{peers} peers are connected to port {ours}, as to a server"
    where = "inside" if ours in eph else "outside"
    return Role.CONNECTION, (
        f"both ports ({ours}, {theirs}) are {where} the ephemeral range {eph}, neither is "
        f"the better-known service, and no listener is on port {ours} in this lookup: "
        "which side connected cannot be told"
    )


def _local_peers(
    sockets: Sequence[Socket], ctx: Context, tool: str | None
) -> set[tuple[Protocol, int]]:
    """(protocol, port) of the listeners behind the loopback peers of `sockets`' connections.

    One lookup per peer port, on the same machine, and only for connections
    no listener of our own port explains.
    """
    ours = {(s.protocol, s.local.port) for s in sockets if is_listening(s)}
    wanted = {
        s.remote.port
        for s in sockets
        if s.remote is not None
        and (s.protocol, s.local.port) not in ours
        and _is_loopback(s.remote.address)
    }
    found: set[tuple[Protocol, int]] = set()
    for port in sorted(wanted)[:_PEER_LOOKUPS]:
        try:
            peers = lookup(port, tool=tool, context=ctx)
        except PortcheckError:
            continue  # no evidence, not an error of this report
        found |= {(s.protocol, port) for s in peers if is_listening(s)}
    return found


_PEER_LOOKUPS = 8


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool((mapped or ip).is_loopback)


_RANKS = {2: "a well-known port (below 1024)", 1: "a registered service"}


def _service_rank(port: int, sock: Socket) -> int:
    """2 for a well-known port, 1 for one the services database names, 0 otherwise."""
    if port < 1024:
        return 2
    return 1 if service_name(port, sock.protocol.value) is not None else 0


def service_name(port: int, protocol: str) -> str | None:
    """The services database's name for `port`/`protocol`, or None."""
    import socket

    try:
        return socket.getservbyport(port, protocol)
    except OSError:
        return None


def _reasons(
    port: int, iana: IanaRange, roles: Sequence[PortRole], privileged: bool
) -> tuple[str, ...]:
    listeners = [r.socket for r in roles if r.role is Role.LISTENING]
    if not listeners or iana is not IanaRange.DYNAMIC:
        return ()
    who = " and ".join(owners(listeners, REASON, privileged=privileged))
    kind = "listens" if any(s.protocol is Protocol.TCP for s in listeners) else "receives"
    return (
        f"{who} {kind} on port {port}, in the dynamic/private range (49152-65535): "
        "few real services choose a port there, so check that this server is expected",
    )
