"""What the listing keeps: listeners reachable from other hosts (`--exposed`), the
ones an allowlist does not expect (`--allow`, and the Ansible plugin's `allowed`),
and the `Selection` of `listening(port=, name=, pid=, user=, state=, unit=, container=)`."""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Iterable, Sequence
from typing import Union

import attrs

from ._records import Socket, State


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 and the IPv4-mapped ::ffff:127.x; False for names too."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address == "localhost"  # a tool run without -n printed a name
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def exposed(sockets: Iterable[Socket]) -> list[Socket]:
    """The sockets not bound to a loopback address: the audit's question."""
    return [s for s in sockets if not is_loopback(s.local.address)]


Allowed = Union[Sequence[Union[int, str]], str]


def parse_allowed(allowed: Allowed) -> list[tuple[int, int]]:
    """Ports and ranges (`22`, `"443"`, `"8000-8100"`) as (first, last) pairs; ValueError else.

    A string is split at commas (`"22,443,8000-8100"`). The one parser of port
    arguments: `portcheck PORTS`, `wait`, `kill`, `list --port` and `--allow`.
    """
    if isinstance(allowed, str):
        allowed = [part for part in allowed.split(",") if part.strip()]
    if not isinstance(allowed, Sequence):
        raise TypeError("allowed must be a list of ports and ranges such as 8000-8100")
    ranges = []
    for item in allowed:
        text = str(item).strip() if not isinstance(item, bool) else ""
        first, dash, last = text.partition("-")
        # ASCII digits only: int() reads "٣٣" as 33, and isdigit() accepts "²".
        if not _digits(first) or (dash and not _digits(last)):
            raise ValueError(f"not a port or a range of ports: {item!r}")
        low, high = int(first), int(last) if dash else int(first)
        if 1 <= high < low <= 65535:
            raise ValueError(f"not a port range, its first port is above its last: {item!r}")
        if not 1 <= low <= high <= 65535:
            raise ValueError(f"not a port or a range of ports (1-65535): {item!r}")
        ranges.append((low, high))
    return ranges


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def is_allowed(port: int, ranges: Sequence[tuple[int, int]]) -> bool:
    """True when `port` lies in one of the (first, last) `ranges`."""
    return any(low <= port <= high for low, high in ranges)


def unexpected(sockets: Iterable[Socket], ranges: Sequence[tuple[int, int]]) -> list[Socket]:
    """The sockets whose local port no range allows: a compliance audit's finding."""
    return [s for s in sockets if not is_allowed(s.local.port, ranges)]


@attrs.frozen(kw_only=True)
class Selection:
    """The listing filters of `listening()`, `sockets()`, `watch()` and `portcheck list`.

    Each field None keeps every socket; a socket is kept when it matches
    every field given. `ports` are (first, last) ranges, `name` a glob on
    the process name (or the base name of its executable or argv[0]),
    `pids` and `uids` exact, `user` a login name, `states` TCP states (UDP
    sockets have none and never match), `unit` a glob on any of its units,
    `container` an id prefix, a runtime or a pod uid. Globs ignore case.
    A socket whose owner is hidden matches no owner filter.
    """

    ports: tuple[tuple[int, int], ...] | None = None
    name: str | None = None
    pids: frozenset[int] | None = None
    user: str | None = None
    uids: frozenset[int] | None = None
    states: frozenset[State] | None = None
    unit: str | None = None
    container: str | None = None

    @property
    def empty(self) -> bool:
        """True when it keeps every socket."""
        return all(getattr(self, f.name) is None for f in attrs.fields(Selection))

    def wants_table_entry(self, sock: Socket) -> bool:
        """The filters that need no owner (port, state): cheap, before owners are read."""
        if self.ports is not None and not is_allowed(sock.local.port, self.ports):
            return False
        return self.states is None or sock.state in self.states

    def matches(self, sock: Socket) -> bool:
        """True when `sock` passes every filter."""
        return self.wants_table_entry(sock) and self._owner_matches(sock)

    def _owner_matches(self, sock: Socket) -> bool:
        checks = (
            self.name is None or _glob_any(self.name, _names(sock)),
            self.pids is None or sock.pid in self.pids,
            self.user is None or sock.user == self.user,
            self.uids is None or sock.uid in self.uids,
            self.unit is None or _glob_any(self.unit, sock.units),
            self.container is None or _in_container(sock, self.container),
        )
        return all(checks)


def select(
    *,
    port: Allowed | int | None = None,
    name: str | None = None,
    pid: int | Iterable[int] | None = None,
    user: str | int | None = None,
    state: str | State | Iterable[str | State] | None = None,
    unit: str | None = None,
    container: str | None = None,
) -> Selection:
    """A validated `Selection` from what a caller passes; TypeError/ValueError else.

    `port` takes the port-list syntax (`8080`, `"22,8000-8100"`, `[22, "8000-8100"]`);
    `user` a login name or a uid; `state` one state or several, by name, any case.
    """
    ports = None
    if port is not None:
        ports = tuple(parse_allowed([port] if isinstance(port, int) else port))
    user_name, uids = _user(user)
    return Selection(
        ports=ports,
        name=_text("name", name),
        pids=None if pid is None else _pids(pid),
        user=user_name,
        uids=uids,
        states=None if state is None else _states(state),
        unit=_text("unit", unit),
        container=_text("container", container),
    )


def _text(what: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, not {type(value).__name__}")
    if not value:
        raise ValueError(f"{what} must not be empty")
    return value


def _pids(pid: int | Iterable[int]) -> frozenset[int]:
    pids = [pid] if isinstance(pid, int) else list(pid)
    for one in pids:
        if isinstance(one, bool) or not isinstance(one, int) or one < 0:
            raise ValueError(f"not a pid: {one!r}")
    return frozenset(pids)


def _user(user: str | int | None) -> tuple[str | None, frozenset[int] | None]:
    if user is None:
        return None, None
    if isinstance(user, bool) or not isinstance(user, (str, int)):
        raise TypeError(f"user must be a login name or a uid, not {type(user).__name__}")
    if isinstance(user, int) or user.isdigit():
        return None, frozenset([int(user)])
    return _text("user", user), None


def _states(state: str | State | Iterable[str | State]) -> frozenset[State]:
    given = [state] if isinstance(state, str) else list(state)
    states = set()
    for one in given:
        word = one.value if isinstance(one, State) else str(one).upper().replace("-", "_")
        try:
            states.add(State(word))
        except ValueError:
            known = ", ".join(s.value for s in State)
            raise ValueError(f"not a TCP state: {one!r} (one of {known})") from None
    return frozenset(states)


def _names(sock: Socket) -> list[str]:
    names = [sock.process] if sock.process else []
    for path in (sock.exe, sock.command[0] if sock.command else None):
        if path:
            names.append(path.rstrip("/").rpartition("/")[2].removesuffix(" (deleted)"))
    return names


def _glob_any(pattern: str, values: Iterable[str]) -> bool:
    low = pattern.lower()
    return any(fnmatch.fnmatchcase(value.lower(), low) for value in values)


def _in_container(sock: Socket, wanted: str) -> bool:
    box = sock.container
    if box is None:
        return False
    return box.id.startswith(wanted) or wanted in (box.runtime, box.pod)
