"""`portcheck list`: table, JSON, filters, exit statuses; and the words it prints."""

from __future__ import annotations

import json

import attrs
import pytest

import portcheck
from portcheck import Container, Endpoint, Family, Protocol, State
from portcheck._cli import main
from portcheck._render.table import listing
from portcheck._render.words import held_by, safe

NGINX = portcheck.Socket(
    protocol=Protocol.TCP,
    family=Family.IPV4,
    local=Endpoint(address="0.0.0.0", port=80),
    state=State.LISTEN,
    pid=812,
    process="nginx",
    user="root",
    uid=0,
    command=("/usr/sbin/nginx", "-g", "daemon off;"),
    units=("nginx.service",),
)
LOOPBACK_DNS = portcheck.Socket(
    protocol=Protocol.UDP,
    family=Family.IPV4,
    local=Endpoint(address="127.0.0.53", port=53),
    pid=590,
    process="systemd-resolve",
    user="systemd-resolve",
    uid=101,
)
MAPPED = attrs.evolve(
    LOOPBACK_DNS, family=Family.IPV6, local=Endpoint(address="::ffff:127.0.0.1", port=5353)
)
CONNECTION = attrs.evolve(
    NGINX, remote=Endpoint(address="10.0.0.9", port=50000), state=State.ESTABLISHED
)


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> list[portcheck.Socket]:
    found: list[portcheck.Socket] = []
    listening = [NGINX, LOOPBACK_DNS, MAPPED]
    monkeypatch.setattr("portcheck._lookup.listening", lambda **_: list(listening))
    monkeypatch.setattr("portcheck._lookup.sockets", lambda **_: [*listening, CONNECTION])
    return found


def test_list_table_sorted_by_port_with_units(
    machine: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["PROTO", "LOCAL", "ADDRESS", "PID", "PROCESS", "USER", "UNIT"]
    assert [r.split()[1] for r in rows] == [
        "127.0.0.53:53",
        "0.0.0.0:80",
        "[::ffff:127.0.0.1]:5353",
    ]
    assert rows[1].split()[-1] == "nginx.service"
    assert rows[0].split()[-1] == "-"


def test_list_exposed_drops_loopback(machine: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--exposed", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["schema"], document["kind"], document["scope"]) == (1, "list", "exposed")
    assert [s["local"]["port"] for s in document["sockets"]] == [80]
    assert document["sockets"][0]["units"] == ["nginx.service"]
    assert document["sockets"][0]["command"] == ["/usr/sbin/nginx", "-g", "daemon off;"]


def test_list_all_and_protocol(machine: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--all", "--tcp"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert "STATE" in header
    assert [r.split()[3] for r in rows] == ["LISTEN", "ESTABLISHED"]
    assert main(["list", "--udp", "--json"]) == 0
    assert {s["protocol"] for s in json.loads(capsys.readouterr().out)["sockets"]} == {"udp"}


@pytest.mark.parametrize(
    "argv", [["list", "--all", "--exposed"], ["list", "--tcp", "--udp"], ["list", "80"]]
)
def test_list_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "portcheck list: error:" in capsys.readouterr().err


def test_list_errors_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(**_: object) -> list[portcheck.Socket]:
        raise portcheck.NoToolError("linux", {"ss": "not found"})

    monkeypatch.setattr("portcheck._lookup.listening", fail)
    assert main(["list"]) == 2
    assert capsys.readouterr().err.startswith("portcheck: no usable tool")


def test_workers_of_one_socket_share_a_row_and_escape_names() -> None:
    workers = [attrs.evolve(NGINX, pid=pid, process="ng\x1b[2Jinx") for pid in range(900, 905)]
    _header, row = listing(workers)
    assert "900,901,902,... (5)" in row
    assert "ng\\x1b[2Jinx" in row
    assert "\x1b" not in row


def test_no_unit_column_without_units() -> None:
    (header, _row) = listing([LOOPBACK_DNS])
    assert "UNIT" not in header


def test_container_label_and_explain_phrase() -> None:
    docker = attrs.evolve(NGINX, units=(), container=Container(runtime="docker", id="ab" * 32))
    assert listing([docker])[1].split()[-1] == "docker:abababababab"
    assert held_by(NGINX) == "held by nginx.service (pid 812: /usr/sbin/nginx -g daemon off;)"
    assert held_by(docker) == (
        "held by docker container abababababab (pid 812: /usr/sbin/nginx -g daemon off;)"
    )
    assert held_by(LOOPBACK_DNS) is None


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\nb", "a\\x0ab"),
        ("\x7f", "\\x7f"),
        ("\x9b", "\\x9b"),
        ("naïve", "naïve"),
        ("tab\t", "tab\\x09"),
    ],
)
def test_safe(text: str, shown: str) -> None:
    assert safe(text) == shown


def test_list_allow_prints_only_the_unexpected_and_exits_1(
    machine: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "--allow", "53,5000-6000", "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert [s["local"]["port"] for s in document["sockets"]] == [80]


def test_list_allow_with_everything_expected_exits_0(
    machine: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "--allow", "53,80,5353"]) == 0
    assert capsys.readouterr().out == "no listener outside the allowed ports\n"


@pytest.mark.parametrize("bad", ["80-70", "http", "0", "70000", "1,,x"])
def test_list_allow_refuses_what_is_no_port(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["list", "--allow", bad])
    assert exit_.value.code == 2
    assert "--allow" in capsys.readouterr().err


def test_safe_escapes_every_c0_and_c1_control_and_leaves_printable_text_alone() -> None:
    controls = [*range(0x20), *range(0x7F, 0xA0)]
    assert [safe(f"a{chr(c)}b") for c in controls] == [f"a\\x{c:02x}b" for c in controls]
    printable = "web-1 naïve 東京 ß\u00a0x"
    assert safe(printable) == printable


def test_list_pauses_the_cyclic_collector_only_while_it_lists(
    machine: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import gc

    during: list[bool] = []
    listing = [NGINX]

    def listening(**_: object) -> list[portcheck.Socket]:
        during.append(gc.isenabled())
        return list(listing)

    monkeypatch.setattr("portcheck._lookup.listening", listening)
    assert gc.isenabled()
    assert main(["list"]) == 0
    assert during == [False]
    assert gc.isenabled()  # main() may run in-process: the collector is back
    gc.disable()
    try:
        assert main(["list"]) == 0
        assert not gc.isenabled()  # and left off when the caller had it off
    finally:
        gc.enable()
    capsys.readouterr()
