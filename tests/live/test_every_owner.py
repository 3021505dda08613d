"""Every owner, every time: the hard cases of socket ownership, through every Linux backend.

Each case is a real process arrangement (tests/support/scenario.py) whose true
holders the test knows; every backend that can see the case must name
exactly them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

import portcheck
from portcheck import Family, Protocol, State
from portcheck._records import NoOwner
from portcheck._render.json import socket_to_dict
from portcheck._render.table import table
from portcheck._render.words import safe
from portcheck._run import SystemRunner
from tests.live.conftest import IS_ROOT, _installed
from tests.support.as_nobody import run_as_nobody
from tests.support.hold import Reporters

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux"),
]

SCENARIO = Path(__file__).resolve().parent.parent / "support" / "scenario.py"


class Started(Reporters):
    """Scenario processes (tests/support/scenario.py) started by one test, killed after it."""

    def scenario(self, *args: str) -> dict[str, Any]:
        report, _proc = self.start(SCENARIO, *args)
        return report


@pytest.fixture
def started() -> Iterator[Started]:
    scenarios = Started()
    yield scenarios
    scenarios.close()


def _pids(
    port: int, tool: str | None, keep: Callable[[portcheck.Socket], bool]
) -> list[int | None]:
    return sorted(
        (s.pid for s in portcheck.who_owns(port, tool=tool) if keep(s)),
        key=lambda p: -1 if p is None else p,
    )


def test_prefork_workers_whose_parent_exited_are_all_named(
    backend: str | None, started: Started
) -> None:
    report = started.scenario("prefork")
    started.procs[-1].wait(timeout=10)  # the parent has exited: only the workers hold it
    listening = _pids(report["port"], backend, lambda s: s.state is State.LISTEN)
    assert listening == report["pids"]  # all 3 workers, not 1


def test_socket_passed_over_scm_rights_names_sender_and_receiver(
    backend: str | None, started: Started
) -> None:
    path = os.path.join(tempfile.mkdtemp(prefix="pc-scm-"), "sock")
    receiver = started.scenario("scm-receiver", path)
    sender = started.scenario("scm-sender", path)
    # The UDP port is the test's; a TCP socket with the same number (another
    # process's client port on loopback) is not.
    found = _pids(
        sender["port"],
        backend,
        lambda s: s.local.address == "127.0.0.1" and s.protocol is Protocol.UDP,
    )
    assert found == sorted(receiver["pids"] + sender["pids"])


def test_dual_stack_listener_with_an_ipv4_client_is_one_mapped_connection(
    backend: str | None,
) -> None:
    with socket.socket(socket.AF_INET6) as listener:
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        listener.bind(("::", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = listener.accept()
            with accepted:
                found = [
                    s
                    for s in portcheck.who_owns(port, tool=backend)
                    if s.remote is not None and s.remote.port == client.getsockname()[1]
                ]
    assert [(s.family, s.local.address, s.pid) for s in found] == [
        (Family.IPV6, "::ffff:127.0.0.1", os.getpid())
    ]


def _tcp(found: list[portcheck.Socket]) -> list[portcheck.Socket]:
    return [s for s in found if s.protocol is portcheck.Protocol.TCP]


HOSTILE = [
    "ev\\nil",  # a newline: splits a row of ss and netstat
    "\\x1b[2Jclear",  # ESC: clears the terminal
    "tab\\there",
    "quo\"te'",
    "bad\\xff\\xfeutf8",
    'x",pid=1,fd=3)',  # looks like one more ss users entry
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_break_nothing(backend: str | None, started: Started, name: str) -> None:
    bystander = socket.socket()
    bystander.bind(("127.0.0.1", 0))
    bystander.listen()
    with bystander:
        report = started.scenario("named", name)
        # TCP only: the test owns these TCP ports, not a UDP socket of the same number.
        [own] = _tcp(portcheck.who_owns(report["port"], tool=backend))
        assert own.pid == report["pids"][0]
        assert own.pid != 1
        # Another process's port is still answered while that name lives.
        [other] = _tcp(portcheck.who_owns(bystander.getsockname()[1], tool=backend))
        assert other.pid == os.getpid()
    # What a person sees holds no control character, on one line per socket.
    lines = table({report["port"]: [own]})
    assert len(lines) == 2
    assert not any(c < " " or c == "\x7f" for line in lines for c in line)
    assert safe(own.process or "") in lines[1]


def test_time_wait_has_no_owner_and_no_user(backend: str | None) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server closes first: its side goes to TIME_WAIT
        client.close()
        deadline = time.monotonic() + 5
        while True:
            waiting = [
                s for s in portcheck.who_owns(port, tool=backend) if s.state is State.TIME_WAIT
            ]
            if waiting or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert waiting, "no TIME_WAIT socket seen"
    for sock in waiting:
        assert (sock.pid, sock.user, sock.uid, sock.no_owner) == (
            None,
            None,
            None,
            NoOwner.TIME_WAIT,
        )


@pytest.mark.skipif(not IS_ROOT, reason="needs root to hold a socket as root and look as nobody")
def test_reuseaddr_udp_of_root_beside_ours_is_kept_hidden(
    backend: str | None, started: Started
) -> None:
    # root's UDP socket, then nobody's on the same address and port (SO_REUSEADDR).
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rooted:
        rooted.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        rooted.bind(("127.0.0.1", 0))
        port = rooted.getsockname()[1]
        found = _nobody_binds_then_looks(port, backend, inherited=rooted.fileno())
    mine = [s for s in found if s["pid"] is not None]
    hidden = [s for s in found if s["pid"] is None]
    assert len(mine) == 1
    assert [(s["protocol"], s["no_owner"]) for s in hidden] == [("udp", "hidden")]


def _nobody_binds_then_looks(
    port: int, backend: str | None, inherited: int
) -> list[dict[str, Any]]:
    """As nobody (root's socket closed in the child): bind UDP 127.0.0.1:port too, look it up."""

    def bind_and_look() -> list[dict[str, Any]]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as own:
            own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            own.bind(("127.0.0.1", port))
            return [
                socket_to_dict(s)
                for s in portcheck.who_owns(port, tool=backend)
                if s.local.address == "127.0.0.1" and s.protocol.value == "udp"
            ]

    result: list[dict[str, Any]] = run_as_nobody(bind_and_look, close=[inherited], dumpable=True)
    return result


NETNS_SCRIPT = """
import json, socket, sys
import portcheck
index = socket.if_nametoindex(sys.argv[1])
listener = socket.socket(socket.AF_INET6)
listener.bind(("fe80::1", 0, 0, index))
listener.listen()
port = listener.getsockname()[1]
found = {}
for tool in sys.argv[2:]:
    found[tool] = [[s.local.address, s.local.zone, s.pid] for s in portcheck.who_owns(
        port, tool=None if tool == "default" else tool)]
print(json.dumps({"pid": __import__("os").getpid(), "found": found}))
"""


@pytest.mark.skipif(not IS_ROOT, reason="needs root to create a network namespace")
def test_link_local_address_keeps_its_zone_in_a_network_namespace() -> None:
    ip = SystemRunner().which("ip")
    if ip is None:
        pytest.skip("ip (iproute2) is not installed")
    suffix = f"{os.getpid() % 100000}"
    ns, outside, inside = f"pc-ns-{suffix}", f"pco{suffix}", f"pci{suffix}"
    setup = [
        [ip, "netns", "add", ns],
        [ip, "link", "add", outside, "type", "veth", "peer", "name", inside],
        [ip, "link", "set", inside, "netns", ns],
        [ip, "-n", ns, "link", "set", inside, "up"],
        [ip, "-n", ns, "addr", "add", "fe80::1/64", "dev", inside, "nodad"],
    ]
    try:
        for argv in setup:
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                pytest.skip(f"cannot build the namespace here: {argv}: {done.stderr.strip()}")
        tools = ["default", "procfs", *(t for t in ("ss", "lsof", "netstat") if _installed(t))]
        done = subprocess.run(
            [ip, "netns", "exec", ns, sys.executable, "-c", NETNS_SCRIPT, inside, *tools],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        result = json.loads(done.stdout)
        for tool in tools:
            assert result["found"][tool] == [["fe80::1", inside, result["pid"]]], tool
    finally:
        subprocess.run([ip, "netns", "del", ns], capture_output=True, check=False)
        subprocess.run([ip, "link", "del", outside], capture_output=True, check=False)
