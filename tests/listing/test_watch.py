"""`watch`: scripted polls for the diff, then real listeners opened and closed between polls."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import portcheck
from portcheck import Endpoint, EventKind, Family, ListenerEvent, Protocol, Socket, State
from portcheck._context import context_for
from portcheck._listing import watch as _watch
from portcheck._listing.select import select


def listener(port: int, address: str = "127.0.0.1", pid: int = 42) -> Socket:
    return Socket(
        protocol=Protocol.TCP,
        family=Family.IPV6 if ":" in address else Family.IPV4,
        local=Endpoint(address=address, port=port),
        state=State.LISTEN,
        pid=pid,
        process="server",
    )


A, B, C = listener(8080), listener(60688, "0.0.0.0"), listener(9090, "::")


def scripted(
    monkeypatch: pytest.MonkeyPatch, polls: list[list[Socket]], **options: Any
) -> Iterator[ListenerEvent]:
    answers = iter(polls)

    def lookup(*_args: object, **_kwargs: object) -> list[Socket]:
        return next(answers)

    monkeypatch.setattr(_watch, "lookup", lookup)
    options.setdefault("initial", True)
    options.setdefault("exposed", False)
    return _watch._watch(
        context_for(), select(), interval=1.0, tool=None, sleep=lambda _s: None, **options
    )


def kinds(events: Iterator[ListenerEvent], count: int) -> list[tuple[str, int]]:
    return [(e.event.value, e.socket.local.port) for _, e in zip(range(count), events)]


def test_present_then_opened_and_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    events = scripted(monkeypatch, [[A], [A, B], [B], [B, C]])
    assert kinds(events, 4) == [
        ("present", 8080),
        ("opened", 60688),
        ("closed", 8080),
        ("opened", 9090),
    ]


def test_no_initial_skips_the_present_listeners(monkeypatch: pytest.MonkeyPatch) -> None:
    events = scripted(monkeypatch, [[A], [A, B]], initial=False)
    assert kinds(events, 1) == [("opened", 60688)]


def test_a_new_owner_of_the_same_socket_is_closed_then_opened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    restarted = listener(8080, pid=43)
    events = scripted(monkeypatch, [[A], [restarted]], initial=False)
    got = [(e.event, e.socket.pid) for _, e in zip(range(2), events)]
    assert got == [(EventKind.CLOSED, 42), (EventKind.OPENED, 43)]


def test_exposed_keeps_listeners_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    events = scripted(monkeypatch, [[A, B, C]], exposed=True)
    assert kinds(events, 2) == [("present", 60688), ("present", 9090)]


def test_the_flag_is_for_dynamic_ports_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    loopback_dynamic = listener(60000)
    events = scripted(monkeypatch, [[A, B, C, loopback_dynamic]])
    flags = {e.socket.local.port: e.exposed_dynamic for _, e in zip(range(4), events)}
    assert flags == {8080: False, 60688: True, 9090: False, 60000: False}


def test_bad_arguments_are_refused_at_the_call() -> None:
    with pytest.raises(ValueError, match="interval"):
        portcheck.watch(interval=0)
    with pytest.raises(ValueError, match="state"):
        portcheck.watch(state="OPEN")


@pytest.mark.live
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux")
def test_a_real_listener_is_seen_opened_then_closed_at_the_next_poll() -> None:
    # The port is held (bound, not listening) for the whole test: no other
    # process can listen on it. Each change is made while the watch sleeps,
    # so that the very next poll must report it: counted in polls, not seconds.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            sock.listen()
        elif len(sleeps) == 2:
            sock.close()

    try:
        events = _watch._watch(
            context_for(),
            select(port=port),
            interval=0.2,
            initial=False,
            exposed=False,
            tool=None,
            sleep=sleep,
        )
        opened = next(events)
        assert (opened.event, opened.socket.local.port) == (EventKind.OPENED, port)
        assert len(sleeps) == 1
        closed = next(events)
        assert (closed.event, closed.socket.local.port) == (EventKind.CLOSED, port)
        assert len(sleeps) == 2
        events.close()
    finally:
        sock.close()


@pytest.mark.live
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux")
def test_the_public_generator_lists_a_present_listener() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        events = portcheck.watch(interval=0.5, port=port)
        first = next(events)
        events.close()
    assert (first.event, first.socket.local.port) == (EventKind.PRESENT, port)
    assert first.exposed_dynamic is False
