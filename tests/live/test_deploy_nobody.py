"""Live, as the unprivileged `nobody`: wait_until_open, run's port choice and watch.

The work runs in a forked child that dropped to nobody (tests/support/as_nobody.py);
the sockets are root's, held by this test.
"""

from __future__ import annotations

# Imported before the fork: nobody cannot read this interpreter's library.
import concurrent.futures.thread  # noqa: F401
import encodings.ascii
import encodings.idna  # noqa: F401
import socket
import sys

import pytest

import portcheck
from portcheck._errors import PortInUseError
from portcheck._listing import watch as _watch  # noqa: F401 - loaded before the fork
from portcheck._ports import ephemeral, find, reserved  # noqa: F401 - loaded before the fork
from portcheck._ports import launch as _launch
from portcheck._wait import connect as _reach  # noqa: F401
from tests.live.conftest import IS_ROOT
from tests.support.as_nobody import run_as_nobody

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux"),
    pytest.mark.skipif(not IS_ROOT, reason="needs root to become nobody"),
]


def test_nobody_waits_for_root_s_listener() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        target = f"127.0.0.1:{sock.getsockname()[1]}"
        took = run_as_nobody(lambda: portcheck.wait_until_open([target], timeout=30))
    assert list(took) == [target]


def test_nobody_is_told_why_a_target_is_down() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, not listening: refused
        target = f"127.0.0.1:{sock.getsockname()[1]}"

        def wait() -> dict[str, str]:
            try:
                portcheck.wait_until_open([target], timeout=0.5)
            except portcheck.WaitTimeoutError as exc:
                return exc.last_errors
            return {}

        assert run_as_nobody(wait) == {target: "refused"}


def test_nobody_cannot_run_on_root_s_port_and_sees_a_hidden_owner() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]

        def choose() -> list[object]:
            try:
                _launch.choose(port=port)
            except PortInUseError as exc:
                return [exc.reason, [s.pid for s in exc.owners]]
            return []

        reason, pids = run_as_nobody(choose, close=[sock.fileno()])
    assert reason == "in use"
    assert pids == [None]  # root's socket: its owner is hidden from nobody


def test_nobody_watches_root_s_listener_with_its_owner_hidden() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]

        def first() -> list[object]:
            events = portcheck.watch(interval=0.5, port=port)
            event = next(events)
            events.close()
            return [event.event.value, event.socket.local.port, event.socket.pid]

        assert run_as_nobody(first, close=[sock.fileno()]) == ["present", port, None]
