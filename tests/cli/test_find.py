"""`portcheck find FIRST-LAST`: arguments, output, JSON document and exit statuses."""

from __future__ import annotations

import json
import socket
import sys
from typing import Any

import pytest

from portcheck._backends.context import Context
from portcheck._cli import main
from portcheck._ports import find as _free


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace the search: it finds the first `count` ports of the range except 8001."""
    calls: list[dict[str, Any]] = []

    def search(wanted: _free.Wanted, context: Context, **kwargs: Any) -> _free.Search:
        protocol = "both" if len(wanted.protocols) > 1 else wanted.protocols[0].value
        first, last, count = wanted.first, wanted.last, wanted.count
        assert (kwargs.pop("tool"), kwargs.pop("strict")) == (None, False)
        calls.append(
            {
                "first": first,
                "last": last,
                "count": count,
                "protocol": protocol,
                "random": wanted.random,
                "allow_ephemeral": wanted.allow_ephemeral,
                "timeout": context.timeout,  # the look's context: its timeout is the flag's
                **kwargs,
            }
        )
        free = [p for p in range(first, last + 1) if p != 8001][:count]
        return _free.Search(
            first=first,
            last=last,
            wanted=count,
            protocol=protocol,
            ports=tuple(free),
            skipped={"in_use": 1 if first <= 8001 <= last else 0, "reserved": 0},
        )

    monkeypatch.setattr(_free, "search", search)
    return calls


def test_prints_the_ports_one_a_line(
    searches: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["find", "8000-8999", "-n", "3"]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("8000\n8002\n8003\n", "")
    assert searches == [
        {
            "first": 8000,
            "last": 8999,
            "count": 3,
            "protocol": "tcp",
            "random": False,
            "allow_ephemeral": False,
            "timeout": 10.0,
        }
    ]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--udp"], {"protocol": "udp"}),
        (["--both"], {"protocol": "both"}),
        (["--random", "--allow-ephemeral"], {"random": True, "allow_ephemeral": True}),
        (["--count", "2", "--timeout", "3"], {"count": 2, "timeout": 3.0}),
    ],
)
def test_flags_reach_the_search(
    searches: list[dict[str, Any]], flags: list[str], expected: dict[str, Any]
) -> None:
    assert main(["find", "8000-8010", *flags]) == 0
    assert {k: searches[0][k] for k in expected} == expected


def test_one_port_is_a_range_of_one(searches: list[dict[str, Any]]) -> None:
    assert main(["find", "8005"]) == 0
    assert (searches[0]["first"], searches[0]["last"]) == (8005, 8005)


def test_too_few_prints_what_it_found_and_why_and_exits_1(
    searches: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["find", "8000-8002", "-n", "3"]) == 1
    out, err = capsys.readouterr()
    assert out == "8000\n8002\n"
    assert err == "portcheck: found 2 free ports of 3 wanted in 8000-8002 (1 in use)\n"


def test_json_document(searches: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["find", "8000-8002", "-n", "3", "--both", "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document == {
        "schema": 1,
        "kind": "find",
        "range": {"first": 8000, "last": 8002},
        "protocol": "both",
        "wanted": 3,
        "ok": False,
        "ports": [8000, 8002],
        "skipped": {"in_use": 1, "reserved": 0},
    }


def test_quiet_prints_nothing(
    searches: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["find", "8000-8002", "-n", "3", "-q"]) == 1
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["find"], "the following arguments are required"),
        (["find", "9000-8000"], "first port is above its last"),
        (["find", "0-10"], "not a port range"),
        (["find", "8000-70000"], "not a port range"),
        (["find", "80-"], "not a port range"),
        (["find", "-5"], "not a port range"),
        (["find", "http"], "not a port range"),
        (["find", "8000-8010", "-n", "0"], "not a count of ports"),
        (["find", "8000-8010", "--udp", "--both"], "not allowed with argument"),
        (["find", "8000-8001", "-n", "3"], "the range 8000-8001 has only 2 port(s)"),
    ],
)
def test_bad_arguments_exit_2(
    searches: list[dict[str, Any]],
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _exit_status(argv) == 2
    assert message in capsys.readouterr().err
    assert searches == []


def _exit_status(argv: list[str]) -> int | str | None:
    """main's return value, or the status argparse exits with."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux")
def test_live_a_held_port_is_not_found(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert main(["find", f"{port}-{port}", "--allow-ephemeral"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"found 0 free ports of 1 wanted in {port}-{port} (1 in use)" in err
