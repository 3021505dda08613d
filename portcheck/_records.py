"""The records every backend and parser returns: `Socket` and its `Endpoint`."""

from __future__ import annotations

import enum

import attrs


class Protocol(str, enum.Enum):
    """Transport protocol of a socket."""

    TCP = "tcp"
    UDP = "udp"


class Family(str, enum.Enum):
    """Address family of a socket. A dual-stack socket (`::` accepting IPv4 too) is IPv6."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"


class State(str, enum.Enum):
    """TCP state, named as in the Linux kernel. `UNKNOWN` is a word no parser knows."""

    LISTEN = "LISTEN"
    ESTABLISHED = "ESTABLISHED"
    SYN_SENT = "SYN_SENT"
    SYN_RECV = "SYN_RECV"
    FIN_WAIT1 = "FIN_WAIT1"
    FIN_WAIT2 = "FIN_WAIT2"
    TIME_WAIT = "TIME_WAIT"
    CLOSE = "CLOSE"
    CLOSE_WAIT = "CLOSE_WAIT"
    LAST_ACK = "LAST_ACK"
    CLOSING = "CLOSING"
    UNKNOWN = "UNKNOWN"


def _valid_port(_instance: object, _attribute: object, value: int) -> None:
    if not 0 <= value <= 65535:
        raise ValueError(f"port {value} is outside 0-65535")


@attrs.frozen(kw_only=True)
class Endpoint:
    """One end of a socket.

    `address` is canonical IP text without brackets (`127.0.0.1`, `::1`,
    `::ffff:10.0.2.15`); the wildcard is `0.0.0.0` or `::`. When a tool ran
    without `-n` printed a host name that is not an IP address, the name is kept
    as printed. `zone` is the interface scope (`eth0`, `24`) without the `%`,
    or None. `service` is the service name the tool printed instead of a number
    (tools run without `-P`/`-n`), or None: its `port` comes from the services
    database, and is 0 when the name is unknown there.
    """

    address: str
    port: int = attrs.field(validator=_valid_port)
    zone: str | None = None
    service: str | None = None

    def __str__(self) -> str:
        host = self.address if self.zone is None else f"{self.address}%{self.zone}"
        return f"[{host}]:{self.port}" if ":" in self.address else f"{host}:{self.port}"


@attrs.frozen(kw_only=True)
class Socket:
    """One socket as held by one process.

    A socket shared by several processes (pre-fork servers, inherited
    descriptors) is reported once per process. `remote` is None when the
    socket is not connected (listeners, unbound UDP). `state` is None for UDP.
    `pid`, `process`, `user` and `uid` are None when the tool could not see the
    owner (most often: another user's socket looked up without root) or, for
    `uid`/`user`, when the tool does not show them. `system_process` is True
    for pseudo-processes that hold sockets on behalf of the kernel (Windows PID
    0 "System Idle Process" and PID 4 "System"): never a program to stop.
    """

    protocol: Protocol
    family: Family
    local: Endpoint
    remote: Endpoint | None = None
    state: State | None = None
    pid: int | None = None
    process: str | None = None
    user: str | None = None
    uid: int | None = None
    system_process: bool = False

    @property
    def owner_hidden(self) -> bool:
        """True when the socket exists but the tool could not see which process holds it."""
        return self.pid is None
