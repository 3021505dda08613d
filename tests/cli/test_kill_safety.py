"""`portcheck kill` on a pretend OS: all or nothing (exit 1, nobody signalled), and the
confirmation tied to the processes shown, not their pid numbers."""

from __future__ import annotations

import io
from typing import Any

import pytest

from portcheck import Refusal
from portcheck._context import context_for
from portcheck._kill import engine
from portcheck._records import Socket
from tests.kill.test_engine import Clock, FakeStopper, conn, sock
from tests.support.fakes import FakeRunner


def _pretend(monkeypatch: pytest.MonkeyPatch, stopper: FakeStopper, sockets: list[Socket]) -> None:
    real = engine.run

    def look() -> list[Socket]:
        return [s for s in sockets if s.pid is None or s.pid in stopper.running]

    def run(port: int, options: Any, *, tool: str | None = None) -> Any:
        clock = Clock()
        return real(
            port,
            options,
            context=context_for(platform="linux", runner=FakeRunner()),
            look=look,
            stopper=stopper,
            clock=clock,
            sleep=clock.sleep,
        )

    monkeypatch.setattr(engine, "run", run)


def test_a_refused_listener_with_connection_children_exits_1_and_signals_nobody(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from portcheck._cli import main

    unit = {"units": ("ssh.service",)}
    stopper = FakeStopper(running={500, 601, 602})
    sockets = [sock(500, "sshd", **unit), conn(601, "sshd", **unit), conn(602, "sshd", **unit)]
    _pretend(monkeypatch, stopper, sockets)
    for extra in ([], ["--connections"], ["--connections", "--force"]):
        assert main(["kill", "8080", "--yes", *extra]) == 1
        assert stopper.sent == []
        out = capsys.readouterr().out
        assert "refused" in out
        assert "systemctl stop ssh.service" in out


def test_the_prompt_confirms_processes_a_replaced_holder_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from portcheck import _cli

    stopper = FakeStopper(running={100}, starts={100: 5})
    _pretend(monkeypatch, stopper, [sock(100)])

    def confirm(lines: list[str], count: int) -> bool:
        # While the question waits, pid 100 exits and another process takes
        # the pid and the port: the same number, another start time.
        stopper.starts[100] = 6
        return True

    monkeypatch.setattr(_cli, "_stdin_is_terminal", lambda: True)
    monkeypatch.setattr(_cli, "_confirm", confirm)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert _cli.main(["kill", "8080", "--json"]) == 1
    assert stopper.sent == []
    out = capsys.readouterr().out
    assert f'"refusal": "{Refusal.NOT_CONFIRMED.value}"' in out
