"""Identity from a process's own /proc files, and where a docker-proxy forwards."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from portcheck._backends.identity import Identity, Reader, identity
from portcheck._backends.procfs import Seen, enrich, with_owners
from portcheck._parsers.cmdline import forwards_to, split_cmdline
from portcheck._records import Container, Endpoint, Family, Protocol, Socket, State

HEX = "0123456789abcdef" * 4
OTHER = "fedcba9876543210" * 4


def _proc(tmp_path: Path, pid: object, *, cmdline: bytes | None, cgroup: str | None) -> None:
    where = tmp_path / str(pid)
    where.mkdir(parents=True, exist_ok=True)
    if cmdline is not None:
        (where / "cmdline").write_bytes(cmdline)
    if cgroup is not None:
        (where / "cgroup").write_text(cgroup)


def test_argv_and_unit_from_the_pids_own_files(tmp_path: Path) -> None:
    _proc(
        tmp_path,
        812,
        cmdline=b"/usr/sbin/nginx\0-g\0daemon off;\0",
        cgroup="0::/system.slice/nginx.service\n",
    )
    assert identity(812, str(tmp_path)) == Identity(
        command=("/usr/sbin/nginx", "-g", "daemon off;"), units=("nginx.service",)
    )


def test_unreadable_or_empty_files_give_empty_fields(tmp_path: Path) -> None:
    _proc(tmp_path, 2, cmdline=b"", cgroup="0::/\n")  # a kernel thread
    assert identity(2, str(tmp_path)) == Identity()
    assert identity(99999, str(tmp_path)) == Identity()  # gone


def test_a_container_is_named_unless_it_is_portchecks_own(tmp_path: Path) -> None:
    _proc(tmp_path, "self", cmdline=None, cgroup=f"0::/system.slice/docker-{HEX}.scope\n")
    _proc(tmp_path, 10, cmdline=b"a\0", cgroup=f"0::/system.slice/docker-{HEX}.scope\n")
    _proc(tmp_path, 11, cmdline=b"b\0", cgroup=f"0::/system.slice/docker-{OTHER}.scope\n")
    reader = Reader(str(tmp_path))
    assert reader.identity(10).container is None
    assert reader.identity(11).container == Container(runtime="docker", id=OTHER)


def test_each_pid_is_read_once_per_reader(tmp_path: Path) -> None:
    _proc(tmp_path, 5, cmdline=b"one\0", cgroup="0::/system.slice/a.service\n")
    reader = Reader(str(tmp_path))
    first = reader.identity(5)
    (tmp_path / "5" / "cmdline").write_bytes(b"two\0")
    assert reader.identity(5) == first
    assert Reader(str(tmp_path)).identity(5).command == ("two",)


@pytest.mark.parametrize(
    ("data", "argv"),
    [
        (b"", None),
        (b"/bin/sh\0-c\0echo hi\0", ("/bin/sh", "-c", "echo hi")),
        (b"nginx: worker process", ("nginx: worker process",)),  # a rewritten title, no NUL
        (b"a\0\0b\0", ("a", "", "b")),  # an empty argument is kept
        (b"caf\xe9\0", ("caf\ufffd",)),
    ],
)
def test_split_cmdline(data: bytes, argv: tuple[str, ...] | None) -> None:
    assert split_cmdline(data) == argv


def _listener(port: int, protocol: Protocol = Protocol.TCP) -> Socket:
    return Socket(
        protocol=protocol,
        family=Family.IPV4,
        local=Endpoint(address="0.0.0.0", port=port),
        state=State.LISTEN if protocol is Protocol.TCP else None,
    )


PROXY = (
    "/usr/bin/docker-proxy",
    "-proto",
    "tcp",
    "-host-ip",
    "0.0.0.0",
    "-host-port",
    "8080",
    "-container-ip",
    "172.17.0.2",
    "-container-port",
    "80",
)


def test_docker_proxy_forwards_its_published_port() -> None:
    assert forwards_to(PROXY, _listener(8080)) == Endpoint(address="172.17.0.2", port=80)


@pytest.mark.parametrize(
    ("argv", "sock"),
    [
        pytest.param(PROXY, _listener(9090), id="another-port-of-the-proxy"),
        pytest.param(PROXY, _listener(8080, Protocol.UDP), id="another-protocol"),
        pytest.param(("/usr/bin/rootlessport",), _listener(8080), id="rootlessport-does-not-say"),
        pytest.param(
            ("/usr/bin/vpnkit", "-container-ip", "1.2.3.4"), _listener(8080), id="not-docker-proxy"
        ),
        pytest.param(PROXY[:-2], _listener(8080), id="no-container-port"),
        pytest.param((*PROXY[:-1], "eighty"), _listener(8080), id="bad-port"),
        pytest.param(None, _listener(8080), id="no-command"),
    ],
)
def test_no_forward_where_the_command_does_not_say(
    argv: tuple[str, ...] | None, sock: Socket
) -> None:
    assert forwards_to(argv, sock) is None


def test_docker_proxy_flag_spellings_and_ipv6() -> None:
    argv = (
        "docker-proxy",
        "--proto=udp",
        "-host-port=53",
        "-container-ip",
        "fd00::0002",
        "--container-port",
        "5353",
    )
    assert forwards_to(argv, _listener(53, Protocol.UDP)) == Endpoint(address="fd00::2", port=5353)


def test_with_owners_fills_identity_and_forward(tmp_path: Path) -> None:
    pid = 4321
    _proc(
        tmp_path,
        pid,
        cmdline=b"\0".join(p.encode() for p in PROXY) + b"\0",
        cgroup="0::/system.slice/docker.service\n",
    )
    (tmp_path / str(pid) / "comm").write_text("docker-proxy\n")
    (tmp_path / str(pid) / "status").write_text("Name:\tdocker-proxy\nUid:\t0\t0\t0\t0\n")
    stat = f"{pid} (docker-proxy) S 1 {pid} {pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n"
    (tmp_path / str(pid) / "stat").write_text(stat)
    seen = Seen(str(tmp_path))
    (record,) = with_owners(_listener(8080), [pid], seen=seen)
    assert (record.pid, record.process, record.command, record.units) == (
        pid,
        "docker-proxy",
        PROXY,
        ("docker.service",),
    )
    assert record.forwards_to == Endpoint(address="172.17.0.2", port=80)
    tool_row = attrs.evolve(_listener(8080), pid=pid, process="docker-pr")
    assert enrich(tool_row, seen) == record
