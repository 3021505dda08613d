"""The listing filters (`_listing.select`) on records made by hand: every field, and bad input."""

from __future__ import annotations

import pytest

from portcheck import Container, Endpoint, Family, Protocol, Socket, State
from portcheck._listing.select import select

WEB = Socket(
    protocol=Protocol.TCP,
    family=Family.IPV4,
    local=Endpoint(address="0.0.0.0", port=8080),
    state=State.LISTEN,
    pid=42,
    process="gunicorn: maste",
    user="www-data",
    uid=33,
    command=("/srv/app/.venv/bin/gunicorn", "app:app"),
    units=("app.service",),
    container=Container(runtime="docker", id="abc123" + "0" * 58),
    exe="/usr/bin/python3.12",
)
DNS = Socket(
    protocol=Protocol.UDP,
    family=Family.IPV4,
    local=Endpoint(address="127.0.0.53", port=53),
    pid=7,
    process="systemd-resolve",
    user="systemd-resolve",
    uid=101,
)
HIDDEN = Socket(
    protocol=Protocol.TCP,
    family=Family.IPV6,
    local=Endpoint(address="::", port=22),
    state=State.LISTEN,
)


@pytest.mark.parametrize(
    ("filters", "kept"),
    [
        ({}, [WEB, DNS, HIDDEN]),
        ({"port": 8080}, [WEB]),
        ({"port": "1-100"}, [DNS, HIDDEN]),
        ({"port": [53, "8000-9000"]}, [WEB, DNS]),
        ({"name": "GUNICORN*"}, [WEB]),  # argv[0]'s base name, any case
        ({"name": "python3*"}, [WEB]),  # the executable's base name
        ({"name": "systemd-*"}, [DNS]),
        ({"pid": 7}, [DNS]),
        ({"pid": [7, 42]}, [WEB, DNS]),
        ({"user": "www-data"}, [WEB]),
        ({"user": 101}, [DNS]),
        ({"user": "33"}, [WEB]),
        ({"state": "listen"}, [WEB, HIDDEN]),
        ({"state": [State.LISTEN, "established"]}, [WEB, HIDDEN]),
        ({"unit": "APP.*"}, [WEB]),
        ({"container": "abc1"}, [WEB]),
        ({"container": "docker"}, [WEB]),
        ({"port": 8080, "user": "root"}, []),
    ],
)
def test_each_filter(filters: dict[str, object], kept: list[Socket]) -> None:
    chosen = select(**filters)  # type: ignore[arg-type]
    assert [s for s in (WEB, DNS, HIDDEN) if chosen.matches(s)] == kept
    assert chosen.empty == (not filters)


@pytest.mark.parametrize(
    ("filters", "error"),
    [
        ({"port": "80-70"}, ValueError),
        ({"port": "http"}, ValueError),
        ({"pid": -1}, ValueError),
        ({"pid": True}, ValueError),
        ({"state": "OPEN"}, ValueError),
        ({"name": ""}, ValueError),
        ({"name": 3}, TypeError),
        ({"user": 1.5}, TypeError),
    ],
)
def test_bad_filters_are_refused(filters: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        select(**filters)  # type: ignore[arg-type]


def test_the_table_filter_needs_no_owner() -> None:
    chosen = select(port=22, name="sshd")
    assert chosen.wants_table_entry(HIDDEN)
    assert not chosen.matches(HIDDEN)  # a hidden owner matches no owner filter
