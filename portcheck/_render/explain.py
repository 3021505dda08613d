"""A `PortReport` in sentences a person reads in five seconds (`portcheck PORT --explain`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._records import IanaRange, Protocol, Role
from .table import remnants_note
from .words import held_by, owner, safe

if TYPE_CHECKING:
    from .._ports.describe import PortReport, PortRole
    from .._ports.reserved import ReservedRange

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
    if report.sockets and not report.in_use:
        lines.append(f"The port is free: {remnants_note(len(report.sockets))}.")
    lines.extend(_bind_lines(report))
    verdict = _verdict(report)
    if verdict:
        lines.append(verdict)
    return "\n".join(safe(line) for line in lines)


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


def _bind_lines(report: PortReport) -> list[str]:
    """Why a bind may fail although no socket uses the port, or why a server should avoid it."""
    lines = []
    if report.reserved is not None:
        lines.append(_reserved_line(report.reserved))
    if report.privileged:
        lines.append(
            "It is a privileged port here: binding it needs root (on Linux, or the "
            "CAP_NET_BIND_SERVICE capability), which this process does not have."
        )
    # A reserved port is one the kernel does not hand out: no warning then.
    if report.ephemeral and not report.sockets and report.reserved is None:
        lines.append(
            "It is free now, but inside the ephemeral range: the kernel may hand it to any "
            "outgoing connection at any moment, so a server should not count on it."
        )
    return lines


def _reserved_line(reserved: ReservedRange) -> str:
    if reserved.refuses_bind:
        scope = "/".join(v.value for v in (reserved.protocol, reserved.family) if v is not None)
        who = (
            "an administrator added it"
            if reserved.administered
            else "reserved by a service such as Hyper-V, WSL2 or Docker"
        )
        return (
            f"Windows excludes it from binding: excluded port range {reserved} "
            f"({scope}; {who}; `{reserved.source}`). A bind there fails with "
            '"access forbidden" (WSAEACCES) although no socket uses the port.'
        )
    return (
        f"It is in this system's reserved ports ({reserved}, in {reserved.source}): "
        "the kernel never hands it to an outgoing connection or a bind to port 0, "
        "keeping it for the application it was reserved for; an explicit bind still works."
    )


def _socket_line(item: PortRole) -> str:
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
