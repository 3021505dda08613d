"""The `portcheck` command: output, JSON document and exit statuses."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

import portcheck
from portcheck import Endpoint, Family, Protocol, State
from portcheck._cli import main

LISTENER = portcheck.Socket(
    protocol=Protocol.TCP,
    family=Family.IPV4,
    local=Endpoint(address="127.0.0.1", port=8080),
    state=State.LISTEN,
    pid=4242,
    process="my server",
    user="alice",
    uid=1000,
)
HIDDEN = portcheck.Socket(
    protocol=Protocol.UDP, family=Family.IPV6, local=Endpoint(address="::", port=8080), uid=0
)


@pytest.fixture
def answer(monkeypatch: pytest.MonkeyPatch) -> list[portcheck.Socket]:
    found: list[portcheck.Socket] = []
    monkeypatch.setattr("portcheck._cli.who_owns", lambda port, **_: list(found))
    return found


def test_in_use_prints_a_table_and_exits_0(
    answer: list[portcheck.Socket], capsys: pytest.CaptureFixture[str]
) -> None:
    answer.append(LISTENER)
    assert main(["8080"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["PORT", "PROTO", "LOCAL", "ADDRESS", "REMOTE", "ADDRESS",
                              "STATE", "PID", "PROCESS", "USER"]  # fmt: skip
    assert row.split() == ["8080", "tcp", "127.0.0.1:8080", "-", "LISTEN", "4242",
                           "my", "server", "alice"]  # fmt: skip


def test_free_exits_1(answer: list[portcheck.Socket], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["8080"]) == 1
    assert capsys.readouterr().out == "port 8080 is free\n"


def test_hidden_owner_exits_0_and_explains_on_stderr(
    answer: list[portcheck.Socket], capsys: pytest.CaptureFixture[str]
) -> None:
    answer.append(HIDDEN)
    assert main(["8080"]) == 0
    out, err = capsys.readouterr()
    assert "(hidden)" in out
    assert "owner is hidden" in err


def test_quiet_prints_nothing(
    answer: list[portcheck.Socket], capsys: pytest.CaptureFixture[str]
) -> None:
    answer.append(LISTENER)
    assert main(["-q", "8080"]) == 0
    assert capsys.readouterr() == ("", "")


def test_json_document(answer: list[portcheck.Socket], capsys: pytest.CaptureFixture[str]) -> None:
    answer.append(LISTENER)
    assert main(["8080", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == {
        "schema": 1,
        "ports": [
            {
                "port": 8080,
                "in_use": True,
                "sockets": [
                    {
                        "protocol": "tcp",
                        "family": "ipv4",
                        "local": {
                            "address": "127.0.0.1",
                            "port": 8080,
                            "zone": None,
                            "service": None,
                        },
                        "remote": None,
                        "state": "LISTEN",
                        "pid": 4242,
                        "process": "my server",
                        "user": "alice",
                        "uid": 1000,
                        "system_process": False,
                    }
                ],
            }
        ],
    }


def test_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["8080", "--tool", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("portcheck: error: no backend 'nope'")


@pytest.mark.parametrize("argv", [["0"], ["65536"], ["http"], ["80", "--timeout", "0"], []])
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "portcheck: error:" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="runs this machine's tools")
def test_python_dash_m_on_a_free_port_exits_1() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-m", "portcheck", str(port)], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (1, f"port {port} is free\n", "")
