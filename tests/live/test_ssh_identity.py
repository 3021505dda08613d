"""Live over ssh: the owners' identity (command line, unit, container) equals the local answer.

Through the loopback sshd of tests/live/test_ssh.py: a pre-fork server with
60 workers of 5-digit pids (more owners than one `ps -p a,b,...` word may
name), and a holder moved into a real `.service` cgroup and a container's
cgroup the way tests/live/test_cgroup.py does it, looked up as root and as
an unprivileged login.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import portcheck
from portcheck._records import Container
from tests.live.test_cgroup import _NOT_WRITABLE, moved_into
from tests.support.hold import Holders, Reporters
from tests.support.links import without_links
from tests.support.sshd import SshServer

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux"),
]
PREFORK = Path(__file__).parent.parent / "support" / "prefork.py"
cgroups = pytest.mark.skipif(_NOT_WRITABLE is not None, reason=str(_NOT_WRITABLE))


@pytest.fixture
def reporters() -> Iterator[Reporters]:
    started = Reporters()
    try:
        yield started
    finally:
        started.close()


@pytest.mark.parametrize("tool", [None, "lsof"])
def test_sixty_prefork_workers_over_ssh(
    ssh_config: SshServer, reporters: Reporters, tool: str | None
) -> None:
    report, _proc = reporters.start(PREFORK, "60")
    port, pids = report["port"], report["pids"]
    assert len(pids) == 61
    if int(Path("/proc/sys/kernel/pid_max").read_text()) > 1000:
        assert min(pids[1:]) >= 1000  # 61 pids of 4+ digits: over 300 characters as one ps word
    remote = portcheck.who_owns(port, host=ssh_config.host(), tool=tool)
    assert {s.pid for s in remote} == set(pids)
    assert set(remote) == {without_links(s) for s in portcheck.who_owns(port, tool=tool)}
    assert all(s.command is not None and s.command[-1] == "60" for s in remote)


def test_sixty_prefork_workers_through_the_fleet_and_the_command(
    ssh_config: SshServer, reporters: Reporters
) -> None:
    # The same many owners through who_owns_across and `portcheck PORT --host`:
    # each host's answer, never an "unexpected ValueError" for the whole run.
    import json
    import subprocess

    report, _proc = reporters.start(PREFORK, "60")
    port, pids = report["port"], report["pids"]
    host = ssh_config.host()
    [(name, answer)] = portcheck.who_owns_across(port, [host]).items()
    assert name == host
    assert not isinstance(answer, Exception), answer
    assert {s.pid for s in answer} == set(pids)
    done = subprocess.run(
        [sys.executable, "-m", "portcheck", str(port), "--host", host, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    [entry] = json.loads(done.stdout)["hosts"]
    [found] = entry["ports"]
    assert {s["pid"] for s in found["sockets"]} == set(pids)


@cgroups
@pytest.mark.parametrize("login", ["root", "user"])
def test_a_service_unit_over_ssh(ssh_config: SshServer, holders: Holders, login: str) -> None:
    user = None if login == "root" else ssh_config.user
    held = holders.start([["tcp-listen", "127.0.0.1"]], user=user)
    unit = f"pc-test-{secrets.token_hex(6)}.service"
    host = ssh_config.host(user or "root")
    with moved_into(held.pids[0], f"system.slice/{unit}"):
        local = portcheck.who_owns(held.ports[0])
        remote = portcheck.who_owns(held.ports[0], host=host)
    assert [s.units for s in local] == [(unit,)]
    assert remote == [without_links(s) for s in local]


@cgroups
@pytest.mark.parametrize("login", ["root", "user"])
def test_a_container_over_ssh(ssh_config: SshServer, holders: Holders, login: str) -> None:
    user = None if login == "root" else ssh_config.user
    held = holders.start([["tcp-listen", "127.0.0.1"]], user=user)
    ident = secrets.token_hex(32)
    host = ssh_config.host(user or "root")
    with moved_into(held.pids[0], f"system.slice/docker-{ident}.scope"):
        local = portcheck.who_owns(held.ports[0])
        remote = portcheck.who_owns(held.ports[0], host=host)
    assert [s.container for s in local] == [Container(runtime="docker", id=ident)]
    assert remote == [without_links(s) for s in local]
