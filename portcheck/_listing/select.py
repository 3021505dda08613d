"""The filters of `listening()`, `sockets()`, `watch()` and `portcheck list`: `Selection`.

Apart from `allow.py` so that the command's start-up, which reads port lists
with `allow.py`, does not define this class (bench/startup.py).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from .._records import Socket, State
from .allow import Allowed, is_allowed, parse_allowed

if TYPE_CHECKING:
    from .._parsers.proc_net import Entry


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

    def wants_table_entry(self, sock: Socket | Entry) -> bool:
        """The filters that need no owner (port, state): cheap, before owners are read
        (of a record, or of a kernel table's entry)."""
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
