"""A `PortReport` in sentences a person reads in five seconds (`portcheck PORT --explain`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._records import IanaRange, Protocol, Role
from .words import held_by, owner, safe

if TYPE_CHECKING:
    from .._describe import PortReport, SocketRole

_RANGE_WORDS = {
    IanaRange.SYSTEM: "a well-known (system) port, 0-1023",
    IanaRange.USER: "a registered (user) port, 1024-49151",
    IanaRange.DYNAMIC: "a dynamic/private port, 49152-65535, never assigned to a service",
}


def explain(report: PortReport) -> str:
    """The lines of the explanation, joined with newlines (no trailing newline)."""
    lines = [_range_line(report), _service_line(report)]
    if not report.sockets:
        lines.append("Nothing uses it: the port is free.")
    else:
        count = len(report.sockets)
        lines.append(f"It is in use by {count} socket{'s' if count > 1 else ''}:")
        for item in report.sockets:
            lines.append(f"  - {safe(_socket_line(item))}")
            held = held_by(item.socket)
            if held is not None:
                lines.append(f"    {held}")
    verdict = _verdict(report)
    if verdict:
        lines.append(verdict)
    return "\n".join(lines)


def _range_line(report: PortReport) -> str:
    eph = report.ephemeral_range
    where = "inside" if report.ephemeral else "outside"
    origin = " (the platform default: the real range could not be read)" if eph.default else ""
    return (
        f"Port {report.port} is {_RANGE_WORDS[report.iana_range]}; it is {where} this "
        f"system's ephemeral range {eph}{origin}, where the kernel picks ports for "
        "outgoing connections."
    )


def _service_line(report: PortReport) -> str:
    tcp, udp = report.tcp_service, report.udp_service
    if tcp is None and udp is None:
        return "No service name is registered for it in the services database."
    if tcp == udp:
        return f'The services database calls it "{tcp}" (tcp and udp).'
    named = [f'"{n}" ({p})' for n, p in ((tcp, "tcp"), (udp, "udp")) if n is not None]
    return f"The services database calls it {' and '.join(named)}."


def _socket_line(item: SocketRole) -> str:
    sock, role = item.socket, item.role
    proto = sock.protocol.value
    state = f", {sock.state.value}" if sock.state is not None else ""
    if role is Role.LISTENING:
        verb = "waits for connections" if sock.protocol is Protocol.TCP else "receives datagrams"
        return f"listening: {owner(sock)} {verb} on {sock.local} ({proto})."
    if role is Role.INBOUND:
        return f"inbound: {owner(sock)} serves a peer at {sock.remote} ({proto}{state})."
    if role is Role.OUTBOUND:
        return (
            f"outbound: {owner(sock)} connected out from {sock.local} "
            f"to {sock.remote} ({proto}{state})."
        )
    return (
        f"bound: {owner(sock)} holds {sock.local}, "
        f"neither listening nor connected ({proto}{state})."
    )


def _verdict(report: PortReport) -> str:
    if report.reasons:
        return "Worth a look: " + "; ".join(report.reasons) + "."
    roles = {item.role for item in report.sockets}
    if roles == {Role.OUTBOUND}:
        if report.ephemeral:
            return "This looks normal: a client's outgoing connection from an ephemeral port."
        return (
            "A client connected out from a port outside the ephemeral range: "
            "it chose this port itself (bind before connect)."
        )
    return ""
