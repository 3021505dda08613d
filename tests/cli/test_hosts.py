"""`portcheck PORT --host H ... / --hosts FILE`: sections, the JSON document, exit statuses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from portcheck import Endpoint, Family, HostUnreachableError, Protocol, Socket, State
from portcheck._cli import main
from portcheck._errors import PortcheckError
from portcheck._remote.fleet import HostResult

NGINX = Socket(
    protocol=Protocol.TCP,
    family=Family.IPV4,
    local=Endpoint(address="0.0.0.0", port=8080),
    state=State.LISTEN,
    pid=812,
    process="nginx",
    user="www-data",
    uid=33,
)
REFUSED = "Connection refused\x1b[2J"
DOWN = HostUnreachableError("web3", "ssh could not reach the host", REFUSED)


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> dict[str, HostResult]:
    """What each fake host answers; `_look` is replaced so no ssh runs."""
    table: dict[str, HostResult] = {}
    asked: list[str] = []

    def look(
        host: str, ports: Sequence[int], timeout: float, tool: str | None, runner: object
    ) -> HostResult:
        asked.append(host)
        result = table[host]
        if isinstance(result, PortcheckError):
            return result
        return {p: result.get(p, []) for p in ports}

    monkeypatch.setattr("portcheck._remote.fleet._look", look)
    return table


def test_sections_and_exit_0_when_in_use_somewhere(
    answers: dict[str, HostResult], capsys: pytest.CaptureFixture[str]
) -> None:
    answers.update({"web1": {8080: [NGINX]}, "deploy@web2:2222": {}})
    assert main(["8080", "--host", "web1", "--host", "deploy@web2:2222"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "== web1 =="
    assert "812" in out
    assert "nginx" in out
    assert out.endswith("== deploy@web2:2222 ==\nport 8080 is free\n")


def test_free_everywhere_exits_1(
    answers: dict[str, HostResult], capsys: pytest.CaptureFixture[str]
) -> None:
    answers.update({"web1": {}, "web2": {}})
    assert main(["8080", "--host", "web1", "--host", "web2"]) == 1


def test_one_failing_host_exits_2_and_hides_no_other(
    answers: dict[str, HostResult], capsys: pytest.CaptureFixture[str]
) -> None:
    answers.update({"web1": {8080: [NGINX]}, "web3": DOWN})
    assert main(["8080", "--host", "web3", "--host", "web1"]) == 2
    out, err = capsys.readouterr()
    # The error goes to stderr, in words: no class name (issue 21).
    assert err == "portcheck: web3: ssh could not reach the host: Connection refused\\x1b[2J\n"
    assert "web3" not in out
    assert "== web1 ==" in out
    assert "nginx" in out


def test_json_has_one_entry_per_host(
    answers: dict[str, HostResult], capsys: pytest.CaptureFixture[str]
) -> None:
    answers.update({"web1": {8080: [NGINX]}, "web3": DOWN})
    assert main(["8080", "443", "--host", "web1", "--host", "web3", "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["kind"] == "hosts"
    assert document["schema"] == 1
    web1, web3 = document["hosts"]
    assert web1["host"] == "web1"
    assert web1["ok"] is True
    assert [(p["port"], p["in_use"]) for p in web1["ports"]] == [(8080, True), (443, False)]
    assert web1["ports"][0]["sockets"][0]["pid"] == 812
    assert web3 == {
        "host": "web3",
        "ok": False,
        "error": {"kind": "unreachable", "message": "ssh could not reach the host: " + REFUSED},
    }


def test_a_single_host_gives_the_same_document(
    answers: dict[str, HostResult], capsys: pytest.CaptureFixture[str]
) -> None:
    answers.update({"web1": {}})
    assert main(["8080", "--host", "web1", "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert [h["host"] for h in document["hosts"]] == ["web1"]


def test_hosts_file_with_comments(
    answers: dict[str, HostResult], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers.update({"web1": {}, "web2": {8080: [NGINX]}, "[::1]:22": {}})
    fleet = tmp_path / "fleet.txt"
    fleet.write_text("# the web tier\nweb1\n\n  web2   # the new one\n[::1]:22\nweb1\n")
    assert main(["8080", "--hosts", str(fleet), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [h["host"] for h in document["hosts"]] == ["web1", "web2", "[::1]:22"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["8080", "--host=-oProxyCommand=id"], "not a host"),
        (["8080", "--host", "web1;id"], "not a host"),
        (["8080", "--host", "web1", "--explain"], "this machine only"),
        (["8080", "--host", "web1", "--raw"], "this machine only"),
        (["8080", "--hosts", "/nonexistent/fleet.txt"], "cannot read the hosts file"),
    ],
)
def test_bad_host_arguments_exit_2_before_any_lookup(
    answers: dict[str, HostResult],
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.splitlines()) == 1


def test_a_bad_line_in_the_hosts_file_is_named(
    answers: dict[str, HostResult], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = tmp_path / "fleet.txt"
    fleet.write_text("web1\nweb 2\n")
    assert main(["8080", "--hosts", str(fleet)]) == 2
    assert f"{fleet}, line 2: not a host name" in capsys.readouterr().err


def test_an_empty_hosts_file_is_an_error(
    answers: dict[str, HostResult], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = tmp_path / "fleet.txt"
    fleet.write_text("# nobody yet\n")
    assert main(["8080", "--hosts", str(fleet)]) == 2
    assert "no host in" in capsys.readouterr().err


def test_quiet_prints_nothing_but_keeps_the_status(
    answers: dict[str, HostResult], capsys: pytest.CaptureFixture[str]
) -> None:
    answers.update({"web1": {8080: [NGINX]}})
    assert main(["8080", "--host", "web1", "-q"]) == 0
    assert capsys.readouterr() == ("", "")
