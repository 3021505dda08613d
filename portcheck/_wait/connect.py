"""`wait_until_open`: wait until a TCP connection to every target succeeds.

A listening socket is not proof that a server accepts connections, and the
socket table of this machine says nothing of another host: a deploy script
waiting for `db:5432` wants what wait-for-it and dockerize check, a completed
TCP handshake. Targets are `PORT` (this machine, `localhost`), `HOST:PORT`
and `[v6]:PORT`; names go through the system resolver and every address a
name has is tried. No UDP: nothing confirms that a UDP port is served.

Each target is waited for in its own daemon thread, so that one slow target
(a blackholed address, a resolver that hangs) neither delays the others nor
stretches the wait: the caller returns at the deadline whatever the threads
are doing, and a thread still stuck then is abandoned.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Callable, Union

import attrs

from .._errors import WaitTimeoutError
from .._validate import check_seconds

# The longest one connect may take: a blackholed first address must leave
# time to try the next, and the next round, before the deadline.
_CONNECT_CAP = 3.0
# The shortest: a try made at the deadline (timeout 0) still gets a chance.
_CONNECT_FLOOR = 0.1
# The gap between tries grows by this factor after each failure, up to
# max(interval, _BACKOFF_CAP): a service that is down for long is not hammered,
# and one that comes up is seen within about a second.
_BACKOFF = 1.5
_BACKOFF_CAP = 1.0
# How long the caller waits past the deadline for the tries in flight to
# report (each is bounded by the time left, floored at _CONNECT_FLOOR).
_GRACE = 0.25

Target = Union[int, str]

# What a failed try said, in the words the progress line and the error use.
REFUSED = "refused"
TIMED_OUT = "timed out"
NO_ROUTE = "no route"
NOT_RESOLVED = "name not resolved"
NOT_TRIED = "not tried yet"


@attrs.frozen(kw_only=True)
class Address:
    """A parsed target: `text` as given (the key of every result), `host` and `port`."""

    text: str
    host: str
    port: int


def parse_target(target: Target) -> Address:
    """`PORT`, `HOST:PORT` or `[v6]:PORT` as an `Address`; TypeError/ValueError else.

    A bare port (int or digits) means this machine, as `localhost`.
    """
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        raise TypeError(f"target must be a port or 'host:port', not {type(target).__name__}")
    text = str(target).strip()
    if text.isdigit():
        port = int(text)
        if not 1 <= port <= 65535:
            raise ValueError(f"port must be between 1 and 65535, not {text}")
        return Address(text=text, host="localhost", port=port)
    from .._remote.hosts import parse_host

    if "@" in text:
        raise ValueError(f"not a target (PORT, HOST:PORT or [v6]:PORT): {text!r}")
    parsed = parse_host(text)
    if parsed.port is None:
        raise ValueError(f"no port in target {text!r} (expected HOST:PORT or [v6]:PORT)")
    return Address(text=text, host=parsed.host, port=parsed.port)


def error_words(exc: BaseException) -> str:
    """A failed connect in words: refused, timed out, no route, name not resolved, or errno's."""
    if isinstance(exc, socket.gaierror):
        return NOT_RESOLVED
    if isinstance(exc, ConnectionRefusedError):
        return REFUSED
    if isinstance(exc, socket.timeout) or getattr(exc, "errno", None) == errno.ETIMEDOUT:
        return TIMED_OUT
    code = getattr(exc, "errno", None)
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return NO_ROUTE
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def connect_once(address: Address, deadline: float, clock: Callable[[], float]) -> str | None:
    """Try every address of `address.host` once; None when one accepted, else the last error."""
    try:
        infos = socket.getaddrinfo(
            address.host, address.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError) as exc:
        return error_words(exc) if isinstance(exc, socket.gaierror) else NOT_RESOLVED
    last = NOT_RESOLVED  # a name with no TCP address
    for family, kind, proto, _name, sockaddr in infos:
        left = deadline - clock()
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(min(_CONNECT_CAP, max(left, _CONNECT_FLOOR)))
            try:
                sock.connect(sockaddr)
            except OSError as exc:
                last = error_words(exc)
            else:
                return None
        if clock() >= deadline:
            break
    return last


@attrs.define
class Progress:
    """Where a wait stands: seconds to open per target that answered, last error per other.

    Shared by the target threads (under `lock`) and read by the caller.
    """

    addresses: list[Address]
    opened: dict[str, float] = attrs.field(factory=dict)
    errors: dict[str, str] = attrs.field(factory=dict)
    tries: dict[str, int] = attrs.field(factory=dict)
    lock: threading.Lock = attrs.field(factory=threading.Lock, repr=False)
    changed: threading.Condition = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def snapshot(self) -> tuple[dict[str, float], dict[str, str]]:
        """(opened, last errors of those still down) as copies, in target order."""
        with self.lock:
            opened = dict(self.opened)
            down = {
                a.text: self.errors.get(a.text, NOT_TRIED)
                for a in self.addresses
                if a.text not in opened
            }
            return opened, down

    def done(self) -> bool:
        return len(self.opened) == len(self.addresses)


def wait_until_open(
    targets: Iterable[Target], *, timeout: float = 30.0, interval: float = 0.25
) -> dict[str, float]:
    """Return once a TCP connect to every target succeeds: target -> seconds it took.

    Each target is `PORT` (int or digits: this machine, as `localhost`),
    `"HOST:PORT"` or `"[v6addr]:PORT"`; the keys of the result are the
    targets as text (`8080` -> `"8080"`). Targets are waited for in parallel;
    a name is resolved with the system resolver and every address it has is
    tried, the first to accept wins. The connection is closed at once, so
    nothing is sent.

    `timeout` bounds the whole wait (each connect gets at most the time
    left); `interval` is the gap between tries of one target, growing by half
    after each failure up to 1 s (or `interval`, if longer). On timeout,
    `WaitTimeoutError` is raised: its `last_errors` maps each target still
    down to its last error in words ("refused", "timed out", "no route",
    "name not resolved"), and `opened` holds those that answered.
    TypeError/ValueError for bad input, before anything runs.
    """
    addresses = parse_targets(targets)
    timeout = check_seconds("timeout", timeout, allow_zero=True)
    check_seconds("interval", interval)
    progress = start_wait(addresses, timeout=timeout, interval=interval)
    return finish_wait(progress, timeout=timeout)


def parse_targets(targets: Iterable[Target]) -> list[Address]:
    """Every target parsed, repeats dropped; ValueError when there are none."""
    if isinstance(targets, (str, int)):
        raise TypeError("targets must be a list of targets, not one target")
    parsed = list({a.text: a for a in map(parse_target, targets)}.values())
    if not parsed:
        raise ValueError("no target to wait for")
    return parsed


def start_wait(
    addresses: list[Address],
    *,
    timeout: float,
    interval: float,
    clock: Callable[[], float] = time.monotonic,
) -> Progress:
    """Start one daemon thread per target; they report into the returned `Progress`."""
    progress = Progress(addresses=addresses)
    start = clock()
    deadline = start + timeout
    for address in addresses:
        when = {"start": start, "deadline": deadline, "interval": interval, "clock": clock}
        threading.Thread(
            target=_wait_one, args=(address, progress), kwargs=when, daemon=True
        ).start()
    return progress


def finish_wait(
    progress: Progress,
    *,
    timeout: float,
    report: Callable[[Mapping[str, float], Mapping[str, str]], None] | None = None,
    report_every: float = 0.25,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, float]:
    """Block until every target answered, or raise `WaitTimeoutError` at the deadline.

    `report(opened, down)` is called about every `report_every` seconds while
    targets are down (the command's progress line).
    """
    end = clock() + timeout + _GRACE
    while True:
        with progress.changed:
            left = end - clock()
            if progress.done() or left <= 0:
                break
            progress.changed.wait(min(left, report_every))
            finished = progress.done()
        if report is not None and not finished:
            report(*progress.snapshot())
    opened, down = progress.snapshot()
    if down:
        raise WaitTimeoutError.not_open(timeout, down, opened)
    return {a.text: opened[a.text] for a in progress.addresses}


def _wait_one(
    address: Address,
    progress: Progress,
    *,
    start: float,
    deadline: float,
    interval: float,
    clock: Callable[[], float],
) -> None:
    gap = interval
    while True:
        try:
            error = connect_once(address, deadline, clock)
        except Exception as exc:  # noqa: BLE001 - a thread must report, never die in silence
            error = f"{type(exc).__name__}: {exc}"
        now = clock()
        with progress.changed:
            progress.tries[address.text] = progress.tries.get(address.text, 0) + 1
            if error is None:
                progress.opened[address.text] = now - start
            else:
                progress.errors[address.text] = error
            progress.changed.notify_all()
        if error is None or now >= deadline:
            return
        time.sleep(min(gap, deadline - now))
        gap = min(gap * _BACKOFF, max(interval, _BACKOFF_CAP))
