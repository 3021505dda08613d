"""`watch`: the listeners of this machine as they appear and disappear.

One poll is one `listening()`; two polls are compared by socket and owner,
so a listener handed from one process to another (a restart that keeps its
socket) is one `closed` and one `opened`. Between polls nothing is seen: a
listener that lives shorter than the interval may be missed, which is the
price of asking nothing of the kernel but the listing itself.

The flag `exposed_dynamic` answers the security question behind "a process
is listening on port 60688": listening beyond loopback on a port of the
dynamic range (49152-65535) or of this system's ephemeral range, the ports
the kernel hands out for outgoing connections, is unusual; connecting out
from one is normal and never flagged (watch sees listeners only).
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Callable

import attrs

from .._lookup import lookup
from .._records import IanaRange, Socket, State, Word, is_listening, socket_key
from .._validate import check_seconds
from .allow import Allowed, is_loopback
from .select import Selection, select

if TYPE_CHECKING:
    from .._backends.context import Context


class EventKind(Word):
    """What happened to a listener between two polls (or `PRESENT`: there at the start)."""

    PRESENT = "present"
    OPENED = "opened"
    CLOSED = "closed"


@attrs.frozen(kw_only=True)
class ListenerEvent:
    """One listener seen to appear (`opened`), disappear (`closed`), or there at the start.

    `socket` is the listener as the poll saw it (for `closed`: as last seen).
    `exposed_dynamic` is True when it listens beyond loopback on a port of
    the dynamic range (49152-65535) or this system's ephemeral range.
    """

    event: EventKind
    socket: Socket
    exposed_dynamic: bool


Key = tuple[object, ...]


def listener_key(sock: Socket) -> Key:
    """What tells two listeners apart across polls: the socket and its owner."""
    return (*socket_key(sock), sock.pid)


def watch(
    *,
    interval: float = 1.0,
    initial: bool = True,
    exposed: bool = False,
    tool: str | None = None,
    timeout: float = 10.0,
    port: Allowed | int | None = None,
    name: str | None = None,
    pid: int | Iterable[int] | None = None,
    user: str | int | None = None,
    state: str | State | Iterable[str | State] | None = None,
    unit: str | None = None,
    container: str | None = None,
) -> Generator[ListenerEvent, None, None]:
    """Yield a `ListenerEvent` each time a listener of this machine opens or closes.

    Polls `listening()` every `interval` seconds, for as long as the caller
    iterates (close the generator, or stop iterating, to end it). The first
    poll's listeners come first as `present` events (`initial=False` skips
    them). `exposed=True` watches only listeners beyond loopback; the other
    filters are `listening()`'s. `tool` and `timeout` are passed to each
    poll; an error of a poll ("could not look") is raised, never taken for
    "every listener closed".
    """
    check_seconds("interval", interval)
    chosen = select(
        port=port, name=name, pid=pid, user=user, state=state, unit=unit, container=container
    )
    from .._context import context_for

    context = context_for(timeout=timeout)
    return _watch(context, chosen, interval=interval, initial=initial, exposed=exposed, tool=tool)


def _watch(
    context: Context,
    chosen: Selection,
    *,
    interval: float,
    initial: bool,
    exposed: bool,
    tool: str | None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Generator[ListenerEvent, None, None]:
    flag = dynamic_flagger(context)

    def poll() -> dict[Key, Socket]:
        found = lookup(None, tool=tool, context=context, scope="listening", selection=chosen)
        kept = (
            s
            for s in found
            if is_listening(s)
            and chosen.matches(s)
            and not (exposed and is_loopback(s.local.address))
        )
        return {listener_key(s): s for s in kept}

    def event(kind: EventKind, sock: Socket) -> ListenerEvent:
        return ListenerEvent(event=kind, socket=sock, exposed_dynamic=flag(sock))

    before = poll()
    if initial:
        for sock in before.values():
            yield event(EventKind.PRESENT, sock)
    due = clock() + interval
    while True:
        sleep(max(0.0, due - clock()))
        # The next poll is due one interval after this one was: a slow poll
        # does not push every later one back.
        due = max(due + interval, clock())
        now = poll()
        for key, sock in before.items():
            if key not in now:
                yield event(EventKind.CLOSED, sock)
        for key, sock in now.items():
            if key not in before:
                yield event(EventKind.OPENED, sock)
        before = now


def dynamic_flagger(context: Context) -> Callable[[Socket], bool]:
    """The test behind `exposed_dynamic`, with the system's ephemeral range read once."""
    from .._ports.ephemeral import read_range

    eph = read_range(context)  # the documented default where it cannot be read
    ranges = [(eph.first, eph.last), IanaRange.DYNAMIC.bounds]

    def flag(sock: Socket) -> bool:
        port = sock.local.port
        in_range = any(low <= port <= high for low, high in ranges)
        return in_range and not is_loopback(sock.local.address)

    return flag
