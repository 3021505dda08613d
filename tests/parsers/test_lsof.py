"""lsof (macOS, Linux): hand-written assertions on real captures (not regenerated)."""

from __future__ import annotations

from portcheck import Endpoint, Family, Protocol, State
from tests.parsers._real import parse_fixture, row

MAC_LISTEN = "darwin/idx40811611501--macos-lsof-PiTCP-sTCP-LISTEN.out"
MAC_GREP = "darwin/idx40811611501--macos-lsof-Pn-i4-grep-LISTEN.out"
MAC_I4 = "darwin/idx40811611501--macos-lsof-Pn-i4.out"
MAC_SERVICE = "darwin/idx40820021056--macos-lsof-n-i4TCP-8888-jupyter.out"
MAC_C0 = "darwin/idx59224838782--macos-lsof-nP-iTCP-sTCP-LISTEN-plus-c-0.out"
UBUNTU = "linux/ubuntu-18.04--sudo-lsof.out"


def test_pid_user_and_cut_command() -> None:
    found = parse_fixture(MAC_LISTEN)
    docker = row(found, 6379)
    assert (docker.pid, docker.process, docker.user) == (1125, "com.docke", "ouyang")
    assert (docker.family, docker.local) == (Family.IPV6, Endpoint(address="::", port=6379))
    # Without -n, the host is a name: kept as printed, family from the TYPE column.
    idea = row(found, 50807)
    assert (idea.local.address, idea.family, idea.state) == ("localhost", Family.IPV6, State.LISTEN)


def test_grep_filtered_rows_without_header() -> None:
    found = parse_fixture(MAC_GREP)
    assert [(s.pid, s.local.port) for s in found] == [
        (469, 4780),
        (469, 4781),
        (469, 4788),
        (24811, 8000),
    ]


def test_connections_and_unbound_udp() -> None:
    found = parse_fixture(MAC_I4)
    udp = [s for s in found if s.protocol is Protocol.UDP]
    assert [s.pid for s in udp] == [137, 366, 366, 366]  # one record per descriptor
    assert all(s.local == Endpoint(address="0.0.0.0", port=0) and s.state is None for s in udp)
    google = [s for s in found if s.pid == 715]
    assert google[0].local == Endpoint(address="127.0.0.1", port=62722)
    assert google[0].remote == Endpoint(address="127.0.0.1", port=4780)
    assert {s.state for s in google} == {State.CLOSE_WAIT}


def test_service_name_unknown_here_keeps_the_name() -> None:
    # `lsof -n` without -P: `ddi-tcp-1` (8888) is in no services table here.
    [sock] = parse_fixture(MAC_SERVICE)
    assert sock.local == Endpoint(address="127.0.0.1", port=0, service="ddi-tcp-1")
    assert (sock.pid, sock.process) == (38870, "python3.7")


def test_full_command_with_plus_c_0() -> None:
    found = parse_fixture(MAC_C0)
    assert [(s.process, s.pid, s.user) for s in found] == [
        ("rapportd", 1012, "javierpacheco"),
        ("figma_agent", 76553, "javierpacheco"),
    ]


def test_thread_rows_are_not_repeated() -> None:
    found = parse_fixture(UBUNTU)
    containerd = [s for s in found if s.local.port == 42351]
    assert [s.pid for s in containerd] == [1112]  # the TID rows repeat its descriptor
