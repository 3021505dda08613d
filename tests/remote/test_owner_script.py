"""Owners over ssh on Linux: the one constant owner script, its chunks, and words too long.

Without a server: the ssh runner is a FakeRunner answering the exact command
lines; the live twins are in tests/live/test_ssh_identity.py.
"""

from __future__ import annotations

import shlex

import pytest

from portcheck import Socket
from portcheck._errors import RemoteError
from portcheck._lookup import lookup
from portcheck._parsers.proc_frames import NAME, SCRIPT
from portcheck._records import Container, Endpoint, Platform
from portcheck._remote.commands import posix_command, remote_command
from portcheck._remote.hosts import parse_host
from portcheck._remote.probe import POSIX_PROBE
from portcheck._remote.ssh import SshRunner
from tests.support.fakes import FakeRunner

SSH = "/usr/bin/ssh"
HOST = "alice@web1:2222"
TOOLS = {
    "ss": "/usr/bin/ss",
    "ps": "/usr/bin/ps",
    "getent": "/usr/bin/getent",
    "env": "/usr/bin/env",
    "od": "/usr/bin/od",
}
NAMES = ("ss", "lsof", "netstat", "sockstat", "ps", "getent", "sysctl", "cat", "env", "od")
PROBE_COMMAND = "/bin/sh -c " + shlex.quote(POSIX_PROBE)
SS_COMMAND = "/usr/bin/env LC_ALL=C /usr/bin/ss -t -u -a -n -p -e sport = :8080"
HEADER = b"Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"


def _probe(tools: dict[str, str]) -> bytes:
    return b"Linux\n0\n" + b"".join(f"{n}={tools.get(n, '')}\n".encode() for n in NAMES)


def _ss(pids: list[int]) -> bytes:
    users = ",".join(f'("nginx",pid={p},fd=6)' for p in pids)
    return (
        HEADER
        + (f"tcp LISTEN 0 128 0.0.0.0:8080 0.0.0.0:* users:({users}) ino:1 sk:1 <->\n").encode()
    )


def _script(pids: list[int], getent: str = "/usr/bin/getent") -> str:
    words = [str(p) for p in pids]
    return posix_command(["/bin/sh", "-c", SCRIPT, NAME, "/usr/bin/od", getent, *words])


def _lookup(
    monkeypatch: pytest.MonkeyPatch, tools: dict[str, str], replies: dict[str, bytes]
) -> tuple[FakeRunner, list[Socket]]:
    monkeypatch.setattr("portcheck._remote.ssh.control_dir", lambda: "/tmp/pc-ssh")
    monkeypatch.delenv("PORTCHECK_SSH_CONFIG", raising=False)
    shape = SshRunner.connect(parse_host(HOST), local=None, ssh=SSH, timeout=5)
    everything = {PROBE_COMMAND: _probe(tools), **replies}
    fake = FakeRunner(
        tools={"ssh": SSH},
        replies={tuple(shape.argv(c)): (0, out, b"") for c, out in everything.items()},
    )
    return fake, list(lookup(8080, host=HOST, runner=fake, timeout=5))


def _hex(data: bytes) -> bytes:
    return b" " + b" ".join(f"{b:02x}".encode() for b in data) + b"\n"


def _frame(pid: int, uid: int, comm: bytes, argv: list[bytes], cgroup: bytes) -> bytes:
    stat = f"{pid} (".encode() + comm + b") S 1 " + b"0 " * 17 + b"4242 0 0\n"
    return (
        f":pid {pid}\n:uid {uid}\n:comm\n|".encode()
        + comm
        + b"\n:cmdline\n"
        + _hex(b"".join(a + b"\0" for a in argv))
        + b":cgroup\n|"
        + cgroup
        + b"\n:stat\n|"
        + stat
    )


DOCKER = "a" * 64


def test_a_remote_linux_lookup_is_ss_then_one_script(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = [
        b"/usr/bin/docker-proxy",
        b"-proto",
        b"tcp",
        b"-host-port",
        b"8080",
        b"-container-ip",
        b"172.17.0.2",
        b"-container-port",
        b"80",
    ]
    frames = (
        b":here\n|0::/user.slice/user-0.slice/session-4.scope\n"
        + _frame(812, 0, b"nginx", [b"nginx: master", b"-g", b"a b"], b"0::/system.slice/x.service")
        + _frame(813, 33, b"docker-proxy", proxy, f"0::/docker-{DOCKER}.scope".encode())
        + b":passwd\nroot:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/:/bin/false\n"
    )  # fmt: skip
    fake, found = _lookup(
        monkeypatch, TOOLS, {SS_COMMAND: _ss([812, 813]), _script([812, 813]): frames}
    )
    assert [
        (s.pid, s.process, s.user, s.uid, s.command, s.units, s.container, s.forwards_to)
        for s in found
    ] == [
        (812, "nginx", "root", 0, ("nginx: master", "-g", "a b"), ("x.service",), None, None),
        (
            813, "docker-proxy", "www-data", 33, tuple(a.decode() for a in proxy), (),
            Container(runtime="docker", id=DOCKER), Endpoint(address="172.17.0.2", port=80),
        ),
    ]  # fmt: skip
    # The probe, ss, and one script for every owner: no ps, no getent of their own.
    assert len(fake.calls) == 3


def test_a_pid_gone_before_the_script_keeps_the_tools_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, found = _lookup(
        monkeypatch, TOOLS, {SS_COMMAND: _ss([812]), _script([812]): b":here\n|0::/\n"}
    )
    assert [(s.pid, s.process, s.command) for s in found] == [(812, "nginx", None)]


def test_sixty_five_digit_pids_are_one_script_run(monkeypatch: pytest.MonkeyPatch) -> None:
    pids = list(range(40001, 40061))
    frames = b":here\n" + b"".join(_frame(p, 0, b"httpd", [b"httpd"], b"0::/") for p in pids)
    fake, found = _lookup(monkeypatch, TOOLS, {SS_COMMAND: _ss(pids), _script(pids): frames})
    assert [s.pid for s in found] == pids
    assert len(fake.calls) == 3


def test_sixty_five_digit_pids_without_od_are_ps_runs_in_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pids = list(range(40001, 40061))
    tools = {k: v for k, v in TOOLS.items() if k != "od"}
    chunks = [",".join(map(str, pids[:33])), ",".join(map(str, pids[33:]))]
    assert all(len(c) <= 200 for c in chunks)
    ps = {
        f"/usr/bin/env LC_ALL=C /usr/bin/ps -o pid=,uid=,comm= -p {c}": b"".join(
            f"{p} 0 httpd\n".encode() for p in map(int, c.split(","))
        )
        for c in chunks
    }
    getent = {"/usr/bin/env LC_ALL=C /usr/bin/getent passwd 0": b"root:x:0:0::/:/bin/sh\n"}
    _, found = _lookup(monkeypatch, tools, {SS_COMMAND: _ss(pids), **ps, **getent})
    assert {(s.pid, s.process, s.user) for s in found} == {(p, "httpd", "root") for p in pids}


def test_a_word_too_long_is_a_remote_error_naming_the_host() -> None:
    with pytest.raises(RemoteError) as info:
        remote_command(Platform.LINUX, {}, ["/usr/bin/ps", "-p", "1," * 150], host=HOST)
    assert info.value.host == HOST
    assert "300 characters" in str(info.value)
    assert not isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "argv",
    [
        ["/bin/sh", "-c", SCRIPT + ";", NAME, "/usr/bin/od", "-", "1"],
        ["/bin/sh", "-c", SCRIPT, "other", "/usr/bin/od", "-", "1"],
        ["/bin/sh", "-c", SCRIPT, NAME, "/usr/bin/od", "-", "1;reboot"],
        ["/bin/sh", "-c", "id", NAME],
    ],
)
def test_only_the_constant_script_goes_through_sh(argv: list[str]) -> None:
    with pytest.raises(RemoteError):
        remote_command(Platform.LINUX, {}, argv, host=HOST)


def test_hidden_owners_uids_are_named_in_the_same_run(monkeypatch: pytest.MonkeyPatch) -> None:
    ss = _ss([812]) + b"tcp LISTEN 0 128 [::]:8080 [::]:* uid:33 ino:2 sk:2 v6only:1 <->\n"
    frames = (
        b":here\n|0::/\n"
        + _frame(812, 0, b"nginx", [b"nginx"], b"0::/")
        + b":passwd\nroot:x:0:0::/:/bin/sh\nwww-data:x:33:33::/:/bin/false\n"
    )
    script = posix_command(
        ["/bin/sh", "-c", SCRIPT, NAME, "/usr/bin/od", "/usr/bin/getent", "812", "u33"]
    )
    fake, found = _lookup(monkeypatch, TOOLS, {SS_COMMAND: ss, script: frames})
    assert [(s.pid, s.user, s.uid) for s in found] == [(812, "root", 0), (None, "www-data", 33)]
    assert len(fake.calls) == 3
