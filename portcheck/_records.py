"""The records every backend and parser returns (`Socket`, `Endpoint`), and the closed sets.

`Platform` names the systems portcheck knows; `Platform.current()` is the one
place that reads `sys.platform`.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import datetime
    from typing import Protocol as _Shape

    # For the type checker only: the command's start-up defines no class it need not.
    class Unowned(_Shape):
        """What makes a socket, owners aside: a record, a kernel table's entry, a tool's row."""

        @property
        def protocol(self) -> Protocol: ...
        @property
        def family(self) -> Family: ...
        @property
        def local(self) -> Endpoint: ...
        @property
        def remote(self) -> Endpoint | None: ...
        @property
        def state(self) -> State | None: ...


class Word(str, enum.Enum):
    """Base of portcheck's enums: `str()` of a member is its value (`"LISTEN"`,
    `"tcp"`), the word the command and the JSON documents print, on every Python."""

    def __str__(self) -> str:
        return str(self.value)


class Platform(Word):
    """An operating system whose tools portcheck can run or whose output it can parse."""

    LINUX = "linux"
    DARWIN = "darwin"
    FREEBSD = "freebsd"
    NETBSD = "netbsd"
    OPENBSD = "openbsd"
    WINDOWS = "windows"

    @classmethod
    def of(cls, name: str | Platform) -> Platform:
        """The platform named `name`; UnsupportedError for a name portcheck does not know."""
        try:
            return cls(name)
        except ValueError:
            from ._errors import UnsupportedError

            known = ", ".join(p.value for p in cls)
            raise UnsupportedError(f"unknown platform {name!r}; expected one of {known}") from None

    @classmethod
    def current(cls) -> Platform:
        """This system; UnsupportedError on a system portcheck does not know."""
        for prefix in ("linux", "freebsd", "netbsd", "openbsd", "darwin"):
            if sys.platform.startswith(prefix):
                return cls(prefix)
        if sys.platform == "win32":
            return cls.WINDOWS
        return cls.of(sys.platform)


class Protocol(Word):
    """Transport protocol of a socket."""

    TCP = "tcp"
    UDP = "udp"


class Family(Word):
    """Address family of a socket. A dual-stack socket (`::` accepting IPv4 too) is IPv6."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"


class State(Word):
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
    BOUND = "BOUND"
    """Bound to its port with neither listen() nor connect(): it holds the port (another
    bind fails with EADDRINUSE). Seen on Linux 6.5+ over sock_diag only (TCP_BOUND_INACTIVE)."""
    UNKNOWN = "UNKNOWN"


class NoOwner(Word):
    """Why a socket's record names no process (`Socket.no_owner`; None when `pid` is set)."""

    TIME_WAIT = "time_wait"
    """No process owns it: a closed TCP connection the kernel keeps for a while."""
    HIDDEN = "hidden"
    """A process holds it, but this user cannot see which (another user's, without root;
    as root: a process in another pid namespace, or one whose descriptors are unreadable)."""
    CLOSED = "closed"
    """Its holder closed it or exited while the lookup ran: no process holds it any more."""
    NOT_SHOWN = "not_shown"
    """The tool shows no owners at all (OpenBSD and BSD `netstat -an`, `netstat` without -p)."""


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
class Container:
    """The container a process runs in: `runtime` (docker, podman, containerd, cri-o, lxc,
    kubernetes), its `id` (or lxc name), and for a Kubernetes pod its `pod` uid, else None."""

    runtime: str
    id: str
    pod: str | None = None


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

    `no_owner` says why `pid` is None (see `NoOwner`); it is None when `pid`
    is set. `socket_id` is the kernel's name for the socket where the tool
    shows one (the inode on Linux, as digits; the kernel address lsof prints
    as DEVICE on macOS and the BSDs), else None: records with the same
    `socket_id` are one socket held by several processes, and two records
    without one are two sockets. `started` is the owner's start time (an
    aware datetime, from /proc on Linux), None where the system does not
    give it; with `pid` it names the process even after the pid is reused.

    Service identity, where the system can tell (see the platform matrix):
    `command` is the owner's full argv; `units` the service-manager units
    running it (`nginx.service`, `user:x.service` for a user unit, a Windows
    service name); `container` the container it runs in, None when none or
    the same one as portcheck; `forwards_to` the container endpoint a
    docker-proxy forwards to.

    About the owner, where the system says (/proc on Linux; None elsewhere,
    and where access is denied, which is never an error): `parent` is its
    parent's pid (over ssh too), `cwd` its working directory and `exe` the
    path of its executable (`readlink /proc/PID/exe`; " (deleted)" kept when
    the file was replaced since it started), on this machine only.
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
    no_owner: NoOwner | None = None
    command: tuple[str, ...] | None = None
    units: tuple[str, ...] = ()
    container: Container | None = None
    forwards_to: Endpoint | None = None
    socket_id: str | None = None
    started: datetime.datetime | None = None
    parent: int | None = None
    cwd: str | None = None
    exe: str | None = None

    def __attrs_post_init__(self) -> None:
        # One rule for every parser and backend: a record names its owner or
        # says why not. TIME_WAIT without a pid is owned by no process; the uid
        # 0 tools print for it is the kernel's placeholder, not root.
        if self.pid is not None:
            why = None
        elif self.state is State.TIME_WAIT:
            why = NoOwner.TIME_WAIT
            object.__setattr__(self, "uid", None)
            object.__setattr__(self, "user", None)
        else:
            why = self.no_owner or NoOwner.HIDDEN
        object.__setattr__(self, "no_owner", why)

    @property
    def owner_hidden(self) -> bool:
        """True when a process holds the socket but this lookup could not see which
        (`no_owner is NoOwner.HIDDEN`): never for TIME_WAIT or closed sockets."""
        return self.no_owner is NoOwner.HIDDEN


class IanaRange(Word):
    """The IANA range of a port number (RFC 6335)."""

    SYSTEM = "system"
    """0-1023: well-known ports, assigned by IANA; binding them needs privileges on POSIX."""
    USER = "user"
    """1024-49151: registered ports, assigned to services on request."""
    DYNAMIC = "dynamic"
    """49152-65535: dynamic/private ports, never assigned; meant for temporary use."""

    @classmethod
    def of(cls, port: int) -> IanaRange:
        """The range `port` falls in."""
        if port <= 1023:
            return cls.SYSTEM
        if port <= 49151:
            return cls.USER
        return cls.DYNAMIC

    @property
    def bounds(self) -> tuple[int, int]:
        """(first, last) port of the range."""
        return _BOUNDS[self]


_BOUNDS = {
    IanaRange.SYSTEM: (0, 1023),
    IanaRange.USER: (1024, 49151),
    IanaRange.DYNAMIC: (49152, 65535),
}


class Role(Word):
    """What a socket is doing on the port it is reported for (its local port)."""

    LISTENING = "listening"
    """Waiting for peers: a TCP socket in LISTEN, or a UDP socket bound with no peer."""
    INBOUND = "inbound"
    """A peer connected to us: the evidence says our end is the server's (see
    `portcheck.describe`'s `PortRole.evidence`)."""
    OUTBOUND = "outbound"
    """We connected out from this port: the evidence says our end is the client's."""
    CONNECTION = "connection"
    """A connected socket whose direction the evidence does not decide."""
    BOUND = "bound"
    """A TCP socket bound to the port but neither listening nor connected."""


def is_listening(sock: Socket, protocol: Protocol | None = None) -> bool:
    """True for a TCP socket in LISTEN or a UDP socket bound with no peer (of `protocol`)."""
    if protocol is not None and sock.protocol is not protocol:
        return False
    if sock.protocol is Protocol.TCP:
        return sock.state is State.LISTEN
    return sock.remote is None


def is_remnant(sock: Socket) -> bool:
    """True for a record no process holds: a TIME_WAIT remnant of a closed TCP
    connection, or a socket closed while the lookup ran (docs/time-wait.md)."""
    if sock.pid is not None:
        return False
    return sock.no_owner in (NoOwner.TIME_WAIT, NoOwner.CLOSED) or sock.state is State.TIME_WAIT


def in_use(sockets: Iterable[Socket], *, strict: bool = False) -> bool:
    """The one TIME_WAIT rule (docs/time-wait.md): a port is in use when a socket
    other than a remnant is on it; with `strict`, remnants count as in use too."""
    return any(strict or not is_remnant(s) for s in sockets)


def record(sock: Unowned, make: Callable[..., Socket] = Socket, /, **owner: Any) -> Socket:
    """The record of `sock`'s socket with the `owner` fields given (pid, process, ...).

    How the parsers and backends that read a socket and its owner apart build
    each record once: a listing makes thousands, and copying a record with
    `attrs.evolve` cost a third of its time. `make` is `Socket` with some
    owner fields already bound (`functools.partial`), for the records of one
    process.
    """
    return make(
        protocol=sock.protocol,
        family=sock.family,
        local=sock.local,
        remote=sock.remote,
        state=sock.state,
        **owner,
    )


def socket_key(sock: Socket) -> tuple[object, ...]:
    """What tells one socket from another, owners aside: (protocol, family, local
    address, local port, remote). Two tools' views are merged on it, and records
    of one socket held by several processes share it (group them with the state)."""
    return (sock.protocol, sock.family, sock.local.address, sock.local.port, sock.remote)


def record_order(sock: Socket) -> tuple[object, ...]:
    """The order every lookup returns its records in, whatever the backend: by local
    port, protocol (tcp, udp), family (ipv4, ipv6), local address, remote end
    (unconnected first), state, then owner: pid ascending (hidden owners last),
    then the socket's kernel identity."""
    remote = ("", -1) if sock.remote is None else (sock.remote.address, sock.remote.port)
    # The enums are str enums: they sort as their values (`.value`, an enum
    # property, cost a tenth of a listing's sort).
    return (
        sock.local.port,
        sock.protocol,
        sock.family,
        sock.local.address,
        sock.local.zone or "",
        remote,
        sock.state or "",
        sock.pid is None,
        sock.pid or 0,
        sock.socket_id or "",
    )
