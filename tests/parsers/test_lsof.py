"""lsof (macOS, Linux): hand-written assertions on real captures (not regenerated)."""

from __future__ import annotations

import portcheck
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


# --- one record per (socket, process): the DEVICE names the socket ------------------------

INSPEC = "darwin/inspec-inspec-3069--macos-10.13-sudo-lsof-PiTCP.out"


def test_launchd_one_socket_on_two_descriptors_is_one_record() -> None:
    # Real capture: launchd holds each of its two sockets on two descriptors.
    found = parse_fixture(INSPEC)
    assert [(s.pid, s.family, s.socket_id) for s in found] == [
        (1, Family.IPV6, "0xf73fea16f4aa7065"),
        (1, Family.IPV4, "0xf73fea16f4aaaf05"),
    ]


# Synthetic (hand-made, in the field format the backends ask for): one socket
# dup()ed onto fds 3 and 7 of one process, and a second socket with the same
# addresses (SO_REUSEPORT) on fd 9.
SYNTHETIC_MAC_DUP = (
    "p448\ncnginx\nu501\nLalice\n"
    "f3\ntIPv4\nd0x1234abcd00000001\nPTCP\nn127.0.0.1:5000\nTST=LISTEN\n"
    "f7\ntIPv4\nd0x1234abcd00000001\nPTCP\nn127.0.0.1:5000\nTST=LISTEN\n"
    "f9\ntIPv4\nd0x1234abcd00000002\nPTCP\nn127.0.0.1:5000\nTST=LISTEN\n"
)
SYNTHETIC_LINUX_DUP = (
    "p812\ncnginx\nu33\nLwww-data\n"
    "f3\ntIPv6\nd40021\nPTCP\nn[::]:8080\nTST=LISTEN\n"
    "f4\ntIPv6\nd40021\nPTCP\nn[::]:8080\nTST=LISTEN\n"
    "p813\ncnginx\nu33\nLwww-data\n"
    "f3\ntIPv6\nd40021\nPTCP\nn[::]:8080\nTST=LISTEN\n"
)


def test_synthetic_macos_dup_is_one_record_and_a_twin_socket_another() -> None:
    found = portcheck.parse(SYNTHETIC_MAC_DUP, tool="lsof", platform="darwin")
    assert [(s.pid, s.socket_id) for s in found] == [
        (448, "0x1234abcd00000001"),
        (448, "0x1234abcd00000002"),
    ]


def test_synthetic_linux_dup_is_one_record_per_process() -> None:
    found = portcheck.parse(SYNTHETIC_LINUX_DUP, tool="lsof", platform="linux")
    assert [(s.pid, s.socket_id) for s in found] == [(812, "40021"), (813, "40021")]


def test_without_a_device_each_descriptor_is_its_own_record() -> None:
    # Nothing tells a dup from a twin socket with the same addresses: both kept.
    text = "".join(line for line in SYNTHETIC_MAC_DUP.splitlines(True) if line[0] != "d")
    found = portcheck.parse(text, tool="lsof", platform="darwin")
    assert [(s.pid, s.socket_id) for s in found] == [(448, None)] * 3
