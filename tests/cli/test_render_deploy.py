"""The words of watch and wait --open: event lines, the progress line, truncation."""

from __future__ import annotations

import datetime
import io

import pytest

from portcheck import Container, Endpoint, EventKind, Family, ListenerEvent, Protocol, Socket, State
from portcheck._render import progress, reach
from portcheck._render.watch import event_line

WHEN = datetime.datetime(2026, 12, 3, 12, 0, 7)


def event(kind: EventKind, sock: Socket, flag: bool = False) -> ListenerEvent:
    return ListenerEvent(event=kind, socket=sock, exposed_dynamic=flag)


def test_an_event_line_names_owner_unit_container_and_flag() -> None:
    sock = Socket(
        protocol=Protocol.TCP,
        family=Family.IPV6,
        local=Endpoint(address="::", port=60688),
        state=State.LISTEN,
        pid=4242,
        process="evil\x1b[31m",
        user="alice",
        units=("x.service",),
        container=Container(runtime="docker", id="0123456789abcdef" * 4),
    )
    line = event_line(event(EventKind.OPENED, sock, flag=True), WHEN)
    assert line == (
        "12:00:07  opened   tcp6  [::]:60688  pid 4242 evil\\x1b[31m (alice)  unit x.service"
        "  container docker:0123456789ab  [exposed dynamic port]"
    )


def test_an_event_line_for_a_hidden_owner() -> None:
    sock = Socket(
        protocol=Protocol.TCP,
        family=Family.IPV4,
        local=Endpoint(address="127.0.0.1", port=22),
        state=State.LISTEN,
    )
    assert event_line(event(EventKind.CLOSED, sock), WHEN) == (
        "12:00:07  closed   tcp  127.0.0.1:22  (hidden)"
    )


@pytest.mark.parametrize(
    ("line", "width", "cut"),
    [("abcdef", 10, "abcdef"), ("abcdef", 6, "abcdef"), ("abcdef", 4, "abc…"), ("ab", 0, "")],
)
def test_truncate(line: str, width: int, cut: str) -> None:
    assert progress.truncate(line, width) == cut


def test_the_progress_line_shows_each_target_s_last_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    monkeypatch.setattr(progress, "columns", lambda: 200)
    line = reach.ReachProgress(30)
    line.update(
        1.5, {"db:5432": 0.2}, {"cache:6379": "refused", "x.invalid:1": "name not resolved"}
    )
    line.clear()
    assert err.getvalue().startswith(
        "\rwaiting 1.5 s of 30 s: 1 of 3 open; down: cache:6379 (refused), "
        "x.invalid:1 (name not resolved)"
    )
    assert err.getvalue().endswith("\r")
