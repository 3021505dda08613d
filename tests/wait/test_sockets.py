"""`wait_until_free` / `wait_until_listening`: scripted looks, then real sockets."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time

import pytest

import portcheck
from portcheck import Endpoint, Family, Protocol, Socket, State, WaitTimeoutError
from portcheck._wait import sockets as _wait
from tests.support.hold import Holders
from tests.support.ports import quiet_port

PORT = 8080
LISTENER = Socket(
    protocol=Protocol.TCP,
    family=Family.IPV4,
    local=Endpoint(address="127.0.0.1", port=PORT),
    state=State.LISTEN,
    pid=42,
    process="server",
    user="alice",
)
CONNECTION = Socket(
    protocol=Protocol.TCP,
    family=Family.IPV4,
    local=Endpoint(address="127.0.0.1", port=PORT),
    remote=Endpoint(address="127.0.0.1", port=40000),
    state=State.ESTABLISHED,
    pid=43,
    process="client",
)
TIME_WAIT = Socket(
    protocol=Protocol.TCP,
    family=Family.IPV4,
    local=Endpoint(address="127.0.0.1", port=PORT),
    remote=Endpoint(address="127.0.0.1", port=40001),
    state=State.TIME_WAIT,
)
HIDDEN_LISTENER = Socket(
    protocol=Protocol.TCP,
    family=Family.IPV6,
    local=Endpoint(address="::", port=PORT),
    state=State.LISTEN,
    uid=0,
)
UDP_BOUND = Socket(
    protocol=Protocol.UDP, family=Family.IPV4, local=Endpoint(address="0.0.0.0", port=PORT)
)


class Script:
    """Replaces the lookup with a list of answers (the last one repeats) and a fake clock."""

    def __init__(self, answers: list[list[Socket]]) -> None:
        self.answers = answers
        self.looks = 0
        self.now = 100.0
        self.sleeps: list[float] = []

    def lookup(self, port: int, **_: object) -> list[Socket]:
        assert port == PORT
        answer = self.answers[min(self.looks, len(self.answers) - 1)]
        self.looks += 1
        return list(answer)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Script:
    fake = Script([[]])
    monkeypatch.setattr(_wait, "lookup", fake.lookup)
    # wait_for binds clock/sleep as defaults at definition time: patch those.
    defaults = _wait.wait_for.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "clock", fake.clock)
    monkeypatch.setitem(defaults, "sleep", fake.sleep)
    return fake


def test_free_at_once_looks_once(script: Script) -> None:
    portcheck.wait_until_free(PORT, timeout=5, interval=1)
    assert (script.looks, script.sleeps) == (1, [])


def test_free_after_the_owner_leaves(script: Script) -> None:
    script.answers = [[LISTENER], [LISTENER, CONNECTION], []]
    portcheck.wait_until_free(PORT, timeout=5, interval=0.5)
    assert script.looks == 3
    assert script.sleeps == [0.5, 0.5]


def test_free_times_out_with_the_last_owners(script: Script) -> None:
    script.answers = [[LISTENER], [CONNECTION]]
    with pytest.raises(WaitTimeoutError) as info:
        portcheck.wait_until_free(PORT, timeout=2, interval=0.5)
    error = info.value
    assert isinstance(error, TimeoutError)
    assert isinstance(error, portcheck.PortcheckError)
    assert (error.port, error.condition, error.timeout) == (PORT, "free", 2)
    assert error.owners == [CONNECTION]
    assert str(error) == "port 8080 was not free after 2 s; last seen: client (pid 43)"
    # Looks at 0, 0.5, 1, 1.5 and at the deadline itself: five looks, four sleeps.
    assert script.looks == 5
    assert sum(script.sleeps) == pytest.approx(2.0)


def test_the_last_sleep_stops_at_the_deadline(script: Script) -> None:
    script.answers = [[LISTENER]]
    with pytest.raises(WaitTimeoutError):
        portcheck.wait_until_free(PORT, timeout=1, interval=0.75)
    assert script.sleeps == [0.75, 0.25]


def test_a_hidden_owner_is_not_free(script: Script) -> None:
    script.answers = [[HIDDEN_LISTENER]]
    with pytest.raises(WaitTimeoutError, match="a socket with its owner hidden"):
        portcheck.wait_until_free(PORT, timeout=0.5, interval=0.25)


def test_time_wait_is_free_unless_strict(script: Script) -> None:
    # The one TIME_WAIT rule (docs/time-wait.md): remnants count as free.
    script.answers = [[TIME_WAIT]]
    with pytest.raises(WaitTimeoutError):
        portcheck.wait_until_free(PORT, timeout=0.5, interval=0.25, strict=True)
    script.looks = 0
    portcheck.wait_until_free(PORT, timeout=0.5, interval=0.25)
    assert script.looks == 1
    script.answers = [[TIME_WAIT, LISTENER]]
    with pytest.raises(WaitTimeoutError):
        portcheck.wait_until_free(PORT, timeout=0.5, interval=0.25, strict=False)


def test_timeout_zero_looks_exactly_once(script: Script) -> None:
    script.answers = [[LISTENER]]
    with pytest.raises(WaitTimeoutError):
        portcheck.wait_until_free(PORT, timeout=0, interval=1)
    assert (script.looks, script.sleeps) == (1, [])


def test_listening_returns_only_the_listeners(script: Script) -> None:
    script.answers = [[], [CONNECTION], [CONNECTION, LISTENER]]
    assert portcheck.wait_until_listening(PORT, timeout=5, interval=0.1) == [LISTENER]
    assert script.looks == 3


def test_a_connection_alone_is_not_listening(script: Script) -> None:
    script.answers = [[CONNECTION, TIME_WAIT]]
    with pytest.raises(WaitTimeoutError) as info:
        portcheck.wait_until_listening(PORT, timeout=0.3, interval=0.1)
    assert info.value.condition == "listening"
    assert info.value.owners == [CONNECTION, TIME_WAIT]


def test_a_hidden_listener_counts(script: Script) -> None:
    script.answers = [[HIDDEN_LISTENER]]
    assert portcheck.wait_until_listening(PORT, timeout=1, interval=0.1) == [HIDDEN_LISTENER]


def test_a_bound_udp_socket_is_listening_unless_tcp_is_asked(script: Script) -> None:
    script.answers = [[UDP_BOUND]]
    assert portcheck.wait_until_listening(PORT, timeout=1, interval=0.1) == [UDP_BOUND]
    assert portcheck.wait_until_listening(PORT, timeout=1, interval=0.1, protocol=Protocol.UDP) == [
        UDP_BOUND
    ]
    with pytest.raises(WaitTimeoutError):
        portcheck.wait_until_listening(PORT, timeout=0.2, interval=0.1, protocol=Protocol.TCP)


def test_wait_tcp_never_reports_the_udp_socket_it_excluded(
    script: Script, capsys: pytest.CaptureFixture[str]
) -> None:
    script.answers = [[UDP_BOUND]]
    with pytest.raises(WaitTimeoutError) as info:
        portcheck.wait_until_listening(PORT, timeout=0.2, interval=0.1, protocol=Protocol.TCP)
    assert (info.value.owners, str(info.value)) == ([], "port 8080 was not listening after 0.2 s")
    from portcheck._cli import main

    argv = ["wait", str(PORT), "--listening", "--tcp", "--timeout", "0.2", "--interval", "0.1"]
    assert main([*argv, "--json"]) == 1  # timed out
    assert json.loads(capsys.readouterr().out)["sockets"] == []
    main(argv)
    assert "last seen" not in capsys.readouterr().err


def test_could_not_look_is_raised_at_once(script: Script, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(port: int, **_: object) -> list[Socket]:
        script.looks += 1
        raise portcheck.NoToolError("linux", {"ss": "ss not found"})

    monkeypatch.setattr(_wait, "lookup", broken)
    with pytest.raises(portcheck.NoToolError):
        portcheck.wait_until_free(PORT, timeout=10, interval=0.1)
    assert script.looks == 1


def test_progress_is_called_after_each_unsatisfied_look(script: Script) -> None:
    script.answers = [[LISTENER], [LISTENER], []]
    seen: list[_wait.Poll] = []
    poll = _wait.wait_for(
        PORT, lambda s: not s, "free", timeout=5, interval=1, progress=seen.append
    )
    assert [(p.polls, p.elapsed, p.sockets) for p in seen] == [
        (1, 0.0, [LISTENER]),
        (2, 1.0, [LISTENER]),
    ]
    assert (poll.polls, poll.elapsed, poll.sockets) == (3, 2.0, [])


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"timeout": -1}, ValueError),
        ({"timeout": float("nan")}, ValueError),
        ({"interval": 0}, ValueError),
        ({"timeout": True}, TypeError),
        ({"interval": "1"}, TypeError),
    ],
)
def test_bad_times(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        portcheck.wait_until_free(PORT, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("bad", "error"), [(0, ValueError), (True, TypeError)])
def test_bad_port(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        portcheck.wait_until_listening(bad)  # type: ignore[arg-type]


# --- live: real sockets opened and closed while the wait runs -------------------------

live = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux")


@live
def test_live_listening_once_a_thread_starts_a_server() -> None:
    port = quiet_port()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def start() -> None:
        server.bind(("127.0.0.1", port))
        server.listen()

    timer = threading.Timer(0.4, start)
    began = time.monotonic()
    timer.start()
    try:
        found = portcheck.wait_until_listening(port, timeout=10, interval=0.05)
    finally:
        timer.join()
    try:
        assert time.monotonic() - began >= 0.4
        assert [(s.pid, s.state, s.local.port) for s in found] == [
            (os.getpid(), State.LISTEN, port)
        ]
    finally:
        server.close()


@live
def test_live_free_once_a_thread_closes_its_server() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    assert portcheck.who_owns(port) != []
    timer = threading.Timer(0.4, server.close)
    began = time.monotonic()
    timer.start()
    try:
        portcheck.wait_until_free(port, timeout=10, interval=0.05)
    finally:
        timer.join()
    assert time.monotonic() - began >= 0.4
    assert portcheck.who_owns(port) == []


@live
def test_live_free_once_a_child_process_dies(holders: Holders) -> None:
    held = holders.start([["tcp-listen", "127.0.0.1"], ["udp", "::1"]])
    tcp_port, udp_port = held.ports
    with pytest.raises(WaitTimeoutError) as info:
        portcheck.wait_until_free(tcp_port, timeout=0.2, interval=0.05)
    assert [s.pid for s in info.value.owners] == held.pids
    timer = threading.Timer(0.3, held.kill)
    timer.start()
    try:
        portcheck.wait_until_free(tcp_port, timeout=10, interval=0.05)
        portcheck.wait_until_free(udp_port, timeout=10, interval=0.05)
    finally:
        timer.join()
    assert portcheck.who_owns(udp_port) == []


@live
def test_live_listening_times_out_on_a_client_port(holders: Holders) -> None:
    server = holders.start([["tcp-listen", "127.0.0.1"]], accept=True)
    client = holders.start([["tcp-connect", f"127.0.0.1:{server.ports[0]}"]])
    # TCP only: the test owns these TCP ports, not a UDP socket of the same number.
    with pytest.raises(WaitTimeoutError) as info:
        portcheck.wait_until_listening(client.ports[0], timeout=0.3, interval=0.1, protocol="tcp")
    assert [(s.pid, s.state) for s in info.value.owners] == [(client.pids[0], State.ESTABLISHED)]
    [listener] = portcheck.wait_until_listening(
        server.ports[0], timeout=5, interval=0.1, protocol="tcp"
    )
    assert listener.pid == server.pids[0]
