"""`wait_until_open`: real TCP connects to sockets this test owns.

A port is reserved by binding a socket without listening on it: a connect
there is refused (the kernel answers RST), and no other process can take the
port while the test holds it. Calling listen() later makes it answer.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

import portcheck
from portcheck import WaitTimeoutError
from portcheck._wait.connect import (
    NOT_RESOLVED,
    REFUSED,
    Address,
    error_words,
    finish_wait,
    parse_target,
    parse_targets,
    start_wait,
)


@pytest.fixture
def bound() -> Iterator[socket.socket]:
    """A TCP socket bound to a free loopback port and not listening (connects are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock


def target(sock: socket.socket) -> str:
    return f"127.0.0.1:{sock.getsockname()[1]}"


def listen_later(sock: socket.socket, delay: float) -> threading.Timer:
    timer = threading.Timer(delay, sock.listen)
    timer.start()
    return timer


def test_a_listener_that_appears_after_a_second_is_waited_for(bound: socket.socket) -> None:
    timer = listen_later(bound, 1.0)
    try:
        took = portcheck.wait_until_open([target(bound)], timeout=30, interval=0.1)
    finally:
        timer.join()
    assert list(took) == [target(bound)]
    assert took[target(bound)] >= 0.9


def test_a_listener_that_never_appears_times_out_refused(bound: socket.socket) -> None:
    with pytest.raises(WaitTimeoutError) as caught:
        portcheck.wait_until_open([target(bound)], timeout=1, interval=0.1)
    error = caught.value
    assert error.last_errors == {target(bound): REFUSED}
    assert error.condition == "open"
    assert error.port == bound.getsockname()[1]
    assert error.opened == {}
    assert f"{target(bound)} (refused)" in str(error)
    assert isinstance(error, TimeoutError)


def test_a_name_that_does_not_resolve_says_so() -> None:
    # RFC 6761: .invalid never resolves.
    with pytest.raises(WaitTimeoutError) as caught:
        portcheck.wait_until_open(["name.invalid:80"], timeout=1, interval=0.1)
    assert caught.value.last_errors == {"name.invalid:80": NOT_RESOLVED}


def test_two_targets_one_late_waits_for_both(bound: socket.socket) -> None:
    with socket.socket() as early:
        early.bind(("127.0.0.1", 0))
        early.listen()
        first = target(early)
        timer = listen_later(bound, 1.0)
        try:
            took = portcheck.wait_until_open([first, target(bound)], timeout=30, interval=0.1)
        finally:
            timer.join()
    assert list(took) == [first, target(bound)]
    assert took[first] < took[target(bound)]


def test_the_error_names_only_the_targets_still_down(bound: socket.socket) -> None:
    with socket.socket() as up:
        up.bind(("127.0.0.1", 0))
        up.listen()
        answers = target(up)
        with pytest.raises(WaitTimeoutError) as caught:
            portcheck.wait_until_open([answers, target(bound)], timeout=1, interval=0.1)
    assert caught.value.last_errors == {target(bound): REFUSED}
    assert list(caught.value.opened) == [answers]


def test_a_bare_port_means_localhost() -> None:
    with socket.socket() as up:
        up.bind(("127.0.0.1", 0))
        up.listen()
        port = up.getsockname()[1]
        took = portcheck.wait_until_open([port], timeout=10)
    assert list(took) == [str(port)]


def test_ipv6_literal_in_brackets() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        up = socket.socket(socket.AF_INET6)
        up.bind(("::1", 0))
    except OSError:
        pytest.skip("no ::1 here")
    with up:
        up.listen()
        text = f"[::1]:{up.getsockname()[1]}"
        assert list(portcheck.wait_until_open([text], timeout=10)) == [text]


def test_progress_reports_the_last_error_of_each_target(bound: socket.socket) -> None:
    seen: list[dict[str, str]] = []
    progress = start_wait([parse_target(target(bound))], timeout=1, interval=0.1)
    with pytest.raises(WaitTimeoutError):
        finish_wait(progress, timeout=1, report=lambda _o, down: seen.append(dict(down)))
    assert seen
    assert seen[-1] == {target(bound): REFUSED}


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("8080", "localhost", 8080),
        (8080, "localhost", 8080),
        ("db:5432", "db", 5432),
        ("10.0.0.1:80", "10.0.0.1", 80),
        ("[::1]:443", "::1", 443),
        ("[fe80::1%eth0]:22", "fe80::1%eth0", 22),
    ],
)
def test_targets_are_parsed(text: str | int, host: str, port: int) -> None:
    assert parse_target(text) == Address(text=str(text), host=host, port=port)


@pytest.mark.parametrize(
    "text", ["0", "65536", "db", "db:", "db:0", "::1", "user@db:22", "-x:1", "a b:1", ""]
)
def test_bad_targets_are_refused_before_anything_runs(text: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        portcheck.wait_until_open([text], timeout=1)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        parse_target(True)
    with pytest.raises(TypeError):
        portcheck.wait_until_open("db:5432", timeout=1)
    with pytest.raises(ValueError, match="no target"):
        portcheck.wait_until_open([], timeout=1)
    with pytest.raises(ValueError, match="timeout"):
        portcheck.wait_until_open(["80"], timeout=-1)
    with pytest.raises(ValueError, match="interval"):
        portcheck.wait_until_open(["80"], timeout=1, interval=0)


def test_repeated_targets_are_waited_for_once() -> None:
    assert [a.text for a in parse_targets(["80", "80", "db:1"])] == ["80", "db:1"]


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "refused"),
        (socket.timeout("timed out"), "timed out"),
        (OSError(110, "Connection timed out"), "timed out"),
        (OSError(113, "No route to host"), "no route"),
        (OSError(101, "Network is unreachable"), "no route"),
        (socket.gaierror(-2, "Name or service not known"), "name not resolved"),
        (OSError(99, "Cannot assign requested address"), "cannot assign requested address"),
    ],
)
def test_errors_in_words(exc: OSError, words: str) -> None:
    assert error_words(exc) == words


def test_an_unexpected_error_in_a_try_is_reported_not_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object) -> str | None:
        raise LookupError("unknown encoding: idna")

    monkeypatch.setattr("portcheck._wait.connect.connect_once", broken)
    with pytest.raises(WaitTimeoutError) as caught:
        portcheck.wait_until_open(["db:5432"], timeout=0.5, interval=0.1)
    assert caught.value.last_errors == {"db:5432": "LookupError: unknown encoding: idna"}
