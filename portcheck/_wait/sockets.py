"""`wait_until_free` and `wait_until_listening`: poll `who_owns` until a condition holds.

"Free" means no socket on the port but TIME_WAIT remnants, which no process
holds (`strict=True`: no socket at all; docs/time-wait.md). A socket whose
owner is hidden (another user's, without root) is a socket: the port is not
free. "Listening" means a socket ready to
receive new peers: a TCP socket in LISTEN, or a UDP socket bound with no peer
(UDP has no listen(); that is how UDP servers wait), optionally of one protocol.
A listener whose owner is hidden counts too: something is serving the port.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

import attrs

from .._errors import WaitTimeoutError
from .._lookup import lookup
from .._records import Protocol, Socket, in_use, is_listening
from .._validate import check_port, check_protocol, check_seconds
from .._words import ERROR
from .._words import owners as owners_in_words

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._backends.context import Context

# Each look is bounded by this (or by the time left, if longer), so that a
# hanging tool cannot stretch a wait far past its deadline.
_LOOK_TIMEOUT = 10.0
_MIN_LOOK_TIMEOUT = 1.0


@attrs.frozen(kw_only=True)
class Poll:
    """Internal: what one look saw, `elapsed` seconds after the start, the `polls`-th look."""

    sockets: list[Socket]
    elapsed: float
    polls: int


def free_condition(*, strict: bool = False) -> Callable[[list[Socket]], bool]:
    """The test of "free": not `in_use`, the one TIME_WAIT rule (docs/time-wait.md)."""
    return lambda sockets: not in_use(sockets, strict=strict)


def listening_condition(protocol: Protocol | None = None) -> Callable[[list[Socket]], bool]:
    """The test of "listening": any socket `is_listening`."""
    return lambda sockets: any(is_listening(s, protocol) for s in sockets)


def wait_until_free(
    port: int,
    *,
    timeout: float = 30.0,
    interval: float = 0.25,
    tool: str | None = None,
    strict: bool = False,
) -> None:
    """Return once nothing uses `port`; raise `WaitTimeoutError` after `timeout` seconds.

    Free means no socket on the port but TIME_WAIT remnants of closed
    connections, which no process holds (a server that sets SO_REUSEADDR, as
    most do, can bind beside them); a socket whose owner is hidden from you is
    in use. `strict=True` waits for the remnants to clear too
    (docs/time-wait.md). The port is looked at
    once at least, then every `interval` seconds; the error carries the
    sockets seen at the last look in `owners`. "Could not look" errors
    (`NoToolError`, `ToolError`, ...) are raised at once, not retried.
    """

    done = free_condition(strict=strict)
    wait_for(port, done, "free", timeout=timeout, interval=interval, tool=tool)


def wait_until_listening(
    port: int,
    *,
    timeout: float = 30.0,
    interval: float = 0.25,
    tool: str | None = None,
    protocol: str | Protocol | None = None,
) -> list[Socket]:
    """Return the listening sockets on `port` once there is one, or raise `WaitTimeoutError`.

    Gives up after `timeout` seconds, looking every `interval` seconds.
    Listening means a TCP socket in LISTEN or a UDP socket bound with no peer;
    `protocol` restricts that to "tcp" or "udp" (or `Protocol.TCP`/`UDP`;
    None or "both" accept either). A listener
    whose owner is hidden counts (`pid` is then None). A port in use only by
    connections, or by nothing, is not listening; the error's `owners` holds
    what was there at the last look.
    """
    protocols = check_protocol(protocol)
    one = protocols[0] if len(protocols) == 1 else None
    found = wait_for(
        port,
        listening_condition(one),
        "listening",
        timeout=timeout,
        interval=interval,
        tool=tool,
        protocol=one,
    )
    return listening(found.sockets, one)


def wait_for(
    port: int,
    done: Callable[[list[Socket]], bool],
    condition: str,
    *,
    timeout: float,
    interval: float,
    tool: str | None = None,
    context: Context | None = None,
    progress: Callable[[Poll], None] | None = None,
    protocol: Protocol | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Poll:
    """Look until `done(sockets)` and return that look, or raise `WaitTimeoutError`.

    The engine of both public waits, with everything injectable for tests and
    the command's progress line. `progress` is called after every look that
    did not satisfy the condition. `timeout` bounds the whole wait; each look
    gets the time left (at least 1 s, at most 10 s) as its own tool limit.
    `protocol` keeps that protocol's sockets only: the condition, the progress
    and the error's "last seen" never name a socket the caller excluded.
    """
    port = check_port(port)
    check_seconds("timeout", timeout, allow_zero=True)
    check_seconds("interval", interval)
    if context is None:
        from .._context import context_for

        context = context_for()
    start = clock()
    deadline = start + timeout
    polls = 0
    while True:
        look = max(min(_LOOK_TIMEOUT, deadline - clock()), _MIN_LOOK_TIMEOUT)
        sockets = lookup(port, tool=tool, context=attrs.evolve(context, timeout=look))
        if protocol is not None:
            sockets = [s for s in sockets if s.protocol is protocol]
        polls += 1
        now = clock()
        if done(sockets):
            return Poll(sockets=sockets, elapsed=now - start, polls=polls)
        if progress is not None:
            progress(Poll(sockets=sockets, elapsed=now - start, polls=polls))
        if now >= deadline:
            seen = "; ".join(owners_in_words(sockets, ERROR))
            raise WaitTimeoutError(port, condition, timeout, sockets, seen)
        sleep(min(interval, deadline - now))


def listening(sockets: Sequence[Socket], protocol: Protocol | None = None) -> list[Socket]:
    """The sockets of `sockets` that are listening, as `wait_until_listening` means it."""
    return [s for s in sockets if is_listening(s, protocol)]
