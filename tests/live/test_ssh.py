"""Live over ssh: the answers through a real OpenSSH server on a loopback port equal the local ones.

The server (tests/support/sshd.py, fixture `sshd`) runs on this machine, so every
socket a holder binds is looked at twice: locally and over ssh, as root and
as an unprivileged user, and both answers must be the same records (pids,
names, users, hidden owners). Then the errors: a refused connection, a key
the server does not accept, a host key ssh does not know, a remote tool that
hangs.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable

import attrs
import pytest

import portcheck
from portcheck import Socket
from portcheck._lookup import lookup
from portcheck._records import NoOwner
from portcheck._remote.probe import connect
from portcheck._remote.ssh import SshRunner
from tests.support.hold import Held, Holders
from tests.support.links import without_links
from tests.support.ports import quiet_port
from tests.support.sshd import SshServer

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux"),
]


@pytest.fixture
def hold(holders: Holders) -> Callable[..., Held]:
    return holders.start


def _same(found: list[Socket]) -> set[Socket]:
    # Over ssh the owner script reads the host's /proc as a local lookup does
    # (command line, units, container): the records are the same, field by
    # field, but for the links it does not read (tests/support/links.py).
    return {without_links(s) for s in found}


@pytest.mark.parametrize("tool", [None, "ss", "lsof"])
def test_over_ssh_as_root_equals_local(
    ssh_config: SshServer, hold: Callable[..., Held], tool: str | None
) -> None:
    held = hold(
        [["tcp-listen", "127.0.0.1"], ["udp", "::1"], ["tcp-listen", "::"]],
        fork=True,
        user=ssh_config.user,
    )
    for port in held.ports:
        local = portcheck.who_owns(port)
        remote = portcheck.who_owns(port, host=ssh_config.host(), tool=tool)
        assert _same(remote) == _same(local)
        assert {s.pid for s in remote} == set(held.pids)
        assert {s.user for s in remote} == {ssh_config.user}


def test_both_ends_of_a_connection_over_ssh(
    ssh_config: SshServer, hold: Callable[..., Held]
) -> None:
    server = hold([["tcp-listen", "127.0.0.1"]], accept=True)
    client = hold([["tcp-connect", f"127.0.0.1:{server.ports[0]}"]])
    for port in (server.ports[0], client.ports[0]):
        assert _same(portcheck.who_owns(port, host=ssh_config.host())) == _same(
            portcheck.who_owns(port)
        )
    [outbound] = portcheck.who_owns(client.ports[0], host=ssh_config.host())
    assert outbound.pid == client.pids[0]


def test_unprivileged_login_sees_its_own_and_hides_the_rest(
    ssh_config: SshServer, hold: Callable[..., Held]
) -> None:
    mine = hold([["tcp-listen", "127.0.0.1"]], user=ssh_config.user)
    roots = hold([["tcp-listen", "127.0.0.1"]])
    host = ssh_config.host(ssh_config.user)
    assert _same(portcheck.who_owns(mine.ports[0], host=host)) == _same(
        portcheck.who_owns(mine.ports[0])
    )
    [local] = portcheck.who_owns(roots.ports[0])
    [remote] = portcheck.who_owns(roots.ports[0], host=host)
    # What a local lookup as that user shows: the socket, its owner hidden.
    hidden = attrs.evolve(
        without_links(local),
        pid=None,
        process=None,
        no_owner=NoOwner.HIDDEN,
        command=None,
        units=(),
        started=None,
        parent=None,
    )
    assert remote == hidden
    assert (remote.user, remote.uid) == ("root", 0)


def test_a_free_port_over_ssh_is_free(ssh_config: SshServer) -> None:
    port = quiet_port()  # nobody else takes it while the test runs
    assert portcheck.who_owns(port, host=ssh_config.host()) == []


def test_describe_over_ssh(ssh_config: SshServer, hold: Callable[..., Held]) -> None:
    held = hold([["tcp-listen", "127.0.0.1"]])
    remote = portcheck.describe(held.ports[0], host=ssh_config.host())
    local = portcheck.describe(held.ports[0])
    bare = tuple(attrs.evolve(r, socket=without_links(r.socket)) for r in local.sockets)
    assert remote == attrs.evolve(local, sockets=bare)
    assert remote.ephemeral_range.source == "/proc/sys/net/ipv4/ip_local_port_range"


def test_who_owns_across_keeps_every_host(ssh_config: SshServer, hold: Callable[..., Held]) -> None:
    held = hold([["tcp-listen", "127.0.0.1"]])
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        refused = f"root@127.0.0.1:{closed.getsockname()[1]}"
    hosts = [ssh_config.host(), refused, ssh_config.host(ssh_config.user)]
    found = portcheck.who_owns_across(held.ports[0], hosts, max_workers=3, timeout=10)
    assert list(found) == hosts
    assert isinstance(found[refused], portcheck.HostUnreachableError)
    assert [s.pid for s in found[hosts[0]]] == held.pids  # type: ignore[union-attr]
    assert [s.no_owner for s in found[hosts[2]]] == [NoOwner.HIDDEN]  # type: ignore[union-attr]


def test_a_refused_connection_is_unreachable(ssh_config: SshServer) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        host = f"root@127.0.0.1:{closed.getsockname()[1]}"
    with pytest.raises(portcheck.HostUnreachableError) as info:
        portcheck.who_owns(80, host=host)
    assert str(info.value).startswith(f"{host}: ssh could not reach the host")
    assert "Connection refused" in str(info.value)


def test_a_key_the_server_refuses_is_an_authentication_error(
    sshd: SshServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sshd.close_connections()  # a shared connection would let the bad key through
    monkeypatch.setenv("PORTCHECK_SSH_CONFIG", str(sshd.bad_key_config))
    with pytest.raises(portcheck.AuthenticationError) as info:
        portcheck.who_owns(80, host=sshd.host())
    assert not isinstance(info.value, portcheck.HostKeyError)
    assert "Permission denied" in str(info.value)


def test_an_unknown_host_key_is_refused(sshd: SshServer, monkeypatch: pytest.MonkeyPatch) -> None:
    sshd.close_connections()
    monkeypatch.setenv("PORTCHECK_SSH_CONFIG", str(sshd.unknown_host_config))
    with pytest.raises(portcheck.HostKeyError, match="Host key verification failed"):
        portcheck.who_owns(80, host=sshd.host())


def test_a_remote_tool_that_hangs_is_a_remote_timeout(ssh_config: SshServer) -> None:
    ctx = connect(ssh_config.host(), timeout=3)
    assert isinstance(ctx.runner, SshRunner)
    ctx.runner.tools["ss"] = ssh_config.hanging_tool  # "ss" that never answers
    start = time.monotonic()
    with pytest.raises(portcheck.RemoteTimeoutError) as info:
        lookup(80, tool="ss", context=ctx)
    assert time.monotonic() - start < 10
    assert info.value.host == ssh_config.host()
    assert info.value.argv[0] == ssh_config.hanging_tool


def test_command_with_hosts_over_ssh(
    ssh_config: SshServer, hold: Callable[..., Held], capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from portcheck._cli import main

    held = hold([["tcp-listen", "127.0.0.1"]])
    port = str(held.ports[0])
    assert main([port, "--host", ssh_config.host(), "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)["hosts"]
    assert [s["pid"] for s in entry["ports"][0]["sockets"]] == held.pids
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        refused = f"127.0.0.1:{closed.getsockname()[1]}"
    assert main([port, "--host", refused, "--host", ssh_config.host()]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"portcheck: {refused}: ssh could not reach the host: ")
    assert refused not in out
    assert f"== {ssh_config.host()} ==\nPORT" in out


def test_listening_and_sockets_over_ssh(ssh_config: SshServer, hold: Callable[..., Held]) -> None:
    held = hold([["tcp-listen", "127.0.0.1"], ["udp", "::1"]])
    listening = portcheck.listening(host=ssh_config.host())
    mine = {(s.protocol.value, s.local.port, s.pid) for s in listening if s.pid in held.pids}
    assert mine == {("tcp", held.ports[0], held.pids[0]), ("udp", held.ports[1], held.pids[0])}
    every = portcheck.sockets(host=ssh_config.host())
    assert {s.local.port for s in every if s.pid in held.pids} == set(held.ports)
