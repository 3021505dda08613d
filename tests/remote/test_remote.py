"""Looking over ssh, without a server: host validation, the exact ssh argv, the command sent,
the probe, error classes, and remote backends on replayed (and hostile) output."""

from __future__ import annotations

import pytest

import portcheck
from portcheck import Family, Protocol, State
from portcheck._backends import backends
from portcheck._backends.context import Context
from portcheck._errors import (
    AuthenticationError,
    HostKeyError,
    HostUnreachableError,
    NoToolError,
    ParseError,
    PortcheckError,
    RemoteError,
    RemoteTimeoutError,
    ToolError,
    ToolTimeoutError,
    UnsupportedError,
)
from portcheck._lookup import lookup
from portcheck._parsers.host_probe import parse_posix_probe, parse_windows_probe
from portcheck._records import NoOwner, Platform
from portcheck._remote.commands import posix_command, windows_command
from portcheck._remote.hosts import Target, parse_host
from portcheck._remote.probe import POSIX_PROBE, WINDOWS_PROBE
from portcheck._remote.ssh import SshRunner, ssh_failure
from tests.support.fakes import FakeRunner

SSH = "/usr/bin/ssh"
LINUX_TOOLS = {
    "ss": "/usr/bin/ss",
    "ps": "/usr/bin/ps",
    "getent": "/usr/bin/getent",
    "netstat": "/usr/bin/netstat",
    "lsof": "/usr/bin/lsof",
    "cat": "/usr/bin/cat",
    "env": "/usr/bin/env",
}
LINUX_PROBE_OUT = b"Linux\n0\n" + b"".join(
    f"{name}={LINUX_TOOLS.get(name, '')}\n".encode()
    for name in ("ss", "lsof", "netstat", "sockstat", "ps", "getent", "sysctl", "cat", "env")
)


# --- the host string -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "user", "host", "port"),
    [
        ("web1", None, "web1", None),
        ("alice@web1", "alice", "web1", None),
        ("web1:2222", None, "web1", 2222),
        ("alice@web1.example.com:2222", "alice", "web1.example.com", 2222),
        ("10.0.0.7:22", None, "10.0.0.7", 22),
        ("[::1]:2222", None, "::1", 2222),
        ("[2001:db8::7]", None, "2001:db8::7", None),
        ("bob@[fe80::1%eth0]:22", "bob", "fe80::1%eth0", 22),
        ("::1", None, "::1", None),
        ("svc_deploy.2@db_primary-3", "svc_deploy.2", "db_primary-3", None),
    ],
)
def test_good_hosts_are_split(text: str, user: str | None, host: str, port: int | None) -> None:
    assert parse_host(text) == Target(text=text, host=host, user=user, port=port)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-oProxyCommand=touch /tmp/x",
        "-p",
        "web1 ",
        " web1",
        "web 1",
        "web1\t",
        "web1\n",
        "web1\x00",
        "web1\x1b[2J",
        "web1;id",
        "web1|id",
        "web1&",
        "web1>x",
        "$(id)",
        "`id`",
        "${HOME}",
        "'web1'",
        '"web1"',
        "web1,web2",
        "web*",
        "~root",
        "web1/..",
        "wéb1",
        "web1-",
        ".web1",
        "@web1",
        "user@",
        "-user@web1",
        "user@-web1",
        "us er@web1",
        "a@b@c",
        "web1:",
        "web1:0",
        "web1:65536",
        "web1:22x",
        "web1:-1",
        "web1: 22",
        "web1:22:33",
        "[::1",
        "[::1]22",
        "[::1]:",
        "[::1]:0",
        "[web1]:22",
        "[::1%eth0;id]:22",
        "[::1]:22:1",
        "1:2:3:zz",
        "x" * 254,
    ],
)
def test_bad_hosts_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        parse_host(text)


def test_a_host_must_be_a_string() -> None:
    with pytest.raises(TypeError):
        parse_host(b"web1")  # type: ignore[arg-type]


def test_a_bad_host_fails_before_anything_runs() -> None:
    runner = FakeRunner(tools={"ssh": SSH})
    with pytest.raises(ValueError, match="not a host"):
        portcheck.who_owns(80, host="-oProxyCommand=id")
    with pytest.raises(ValueError, match="not a host"):
        lookup(80, host="web1;id", runner=runner)
    assert runner.calls == []


# --- the ssh command line --------------------------------------------------------------


def _runner(
    monkeypatch: pytest.MonkeyPatch, text: str = "alice@web1:2222", **kwargs: bool
) -> SshRunner:
    monkeypatch.setattr("portcheck._remote.ssh.control_dir", lambda: "/tmp/pc-ssh")
    monkeypatch.delenv("PORTCHECK_SSH_CONFIG", raising=False)
    return SshRunner.connect(parse_host(text), local=FakeRunner(), ssh=SSH, timeout=7.5, **kwargs)


def test_exact_ssh_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = _runner(monkeypatch)
    assert runner.argv("CMD") == [
        "/usr/bin/ssh",
        "-o", "BatchMode=yes",
        "-o", "ConnectTimeout=8",
        "-o", "ControlMaster=auto",
        "-o", "ControlPersist=60",
        "-o", "ControlPath=/tmp/pc-ssh/%C",
        "-o", "ClearAllForwardings=yes",
        "-o", "LogLevel=ERROR",
        "-T", "-x", "-a",
        "-p", "2222",
        "-l", "alice",
        "--", "web1", "CMD",
    ]  # fmt: skip


def test_ssh_argv_without_reuse_or_user_and_with_a_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("portcheck._remote.ssh.control_dir", lambda: "/tmp/pc-ssh")
    monkeypatch.setenv("PORTCHECK_SSH_CONFIG", "/etc/fleet/ssh_config")
    runner = SshRunner.connect(
        parse_host("[::1]"), local=FakeRunner(), ssh=SSH, timeout=1, reuse=False
    )
    argv = runner.argv("CMD")
    assert argv[argv.index("-o", 4) :] == [
        "-o", "ControlMaster=no",
        "-o", "ControlPath=none",
        "-o", "ClearAllForwardings=yes",
        "-o", "LogLevel=ERROR",
        "-T", "-x", "-a",
        "-F", "/etc/fleet/ssh_config",
        "--", "::1", "CMD",
    ]  # fmt: skip
    assert "StrictHostKeyChecking=no" not in " ".join(argv)


def test_a_relative_ssh_config_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTCHECK_SSH_CONFIG", "fleet.conf")
    with pytest.raises(ValueError, match="absolute"):
        SshRunner.connect(parse_host("web1"), local=FakeRunner(), ssh=SSH, timeout=1)


def test_control_directory_is_private(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    import os
    import pathlib

    from portcheck._remote.ssh import control_dir

    assert isinstance(tmp_path, pathlib.Path)
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr("portcheck._remote.ssh.SOCKET_PATH_MAX", 1000)  # tmp_path is long
    monkeypatch.setattr("portcheck._remote.ssh.SHORT_BASE", str(tmp_path / "short"))
    (tmp_path / "short").mkdir()
    made = control_dir()
    assert made is not None
    assert os.stat(made).st_mode & 0o777 == 0o700
    pathlib.Path(made).chmod(0o777)  # someone loosened it: not used any more
    assert control_dir() != made


def test_posix_command_quotes_and_prefixes_env() -> None:
    argv = ["/usr/bin/ss", "-t", "-u", "-a", "-n", "-p", "-e", "sport", "=", ":8080"]
    assert posix_command(argv) == (
        "/usr/bin/env LC_ALL=C /usr/bin/ss -t -u -a -n -p -e sport = :8080"
    )
    assert posix_command(["/usr/bin/ps", "-o", "pid=,uid=,comm=", "-p", "1,22"]) == (
        "/usr/bin/env LC_ALL=C /usr/bin/ps -o pid=,uid=,comm= -p 1,22"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["/usr/bin/ss", "a b"],
        ["/usr/bin/ss", "$(id)"],
        ["/usr/bin/ss", "x;id"],
        ["/usr/bin/ss", "'"],
        ["/usr/bin/ss", ""],
        ["/usr/bin/ss", "x\ny"],
        ["/usr/bin/ss", "*"],
        ["/usr/bin/ss", "~"],
        ["ss", "-t"],
        [],
    ],
)
def test_posix_command_refuses_anything_but_plain_words(argv: list[str]) -> None:
    with pytest.raises(ValueError, match=r"refusing|absolute"):
        posix_command(argv)


def test_windows_commands_are_the_constant_ones_only() -> None:
    assert windows_command(["C:\\Windows\\System32\\netstat.exe", "-ano"]) == (
        "cmd /c %SystemRoot%\\System32\\netstat.exe -ano"
    )
    assert windows_command(
        ["C:\\Windows\\System32\\tasklist.exe", "/SVC", "/FO", "CSV", "/NH"]
    ) == ("cmd /c %SystemRoot%\\System32\\tasklist.exe /SVC /FO CSV /NH")
    for argv in (
        ["C:\\Windows\\System32\\netstat.exe", "-ano", "&", "calc"],
        ["C:\\Windows\\System32\\netstat.exe"],
        ["C:\\Windows\\System32\\cmd.exe", "/c", "dir"],
        ["C:\\Windows\\System32\\tasklist.exe", "/FI", "PID eq 4"],
    ):
        with pytest.raises(ValueError, match="refusing"):
            windows_command(argv)


def test_nothing_runs_before_the_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = _runner(monkeypatch)
    with pytest.raises(ValueError, match="probed"):
        runner.run(["/usr/bin/ss"], timeout=1)


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stderr", "error"),
    [
        ("ssh: connect to host 127.0.0.1 port 1: Connection refused", HostUnreachableError),
        ("ssh: Could not resolve hostname x: Name or service not known", HostUnreachableError),
        ("ssh: connect to host 10.9.9.9 port 22: Connection timed out", HostUnreachableError),
        ("kex_exchange_identification: read: Connection reset by peer", HostUnreachableError),
        ("alice@web1: Permission denied (publickey).", AuthenticationError),
        ("Host key verification failed.", HostKeyError),
        ("Bad configuration option: nonsense", RemoteError),
    ],
)
def test_ssh_failures_are_told_apart(stderr: str, error: type[RemoteError]) -> None:
    found = ssh_failure("web1", stderr)
    assert type(found) is error
    assert str(found).startswith("web1: ")
    assert stderr in str(found)


def test_error_classes() -> None:
    assert issubclass(HostUnreachableError, ConnectionError)
    assert issubclass(AuthenticationError, PermissionError)
    assert issubclass(HostKeyError, AuthenticationError)
    assert issubclass(RemoteTimeoutError, ToolTimeoutError)
    for error in (HostUnreachableError, AuthenticationError, HostKeyError, RemoteTimeoutError):
        assert issubclass(error, RemoteError) or issubclass(error, ToolTimeoutError)
        assert issubclass(error, PortcheckError)
        assert getattr(portcheck, error.__name__) is error


def _remote_lookup(
    monkeypatch: pytest.MonkeyPatch, replies: dict[str, tuple[int, bytes, bytes] | Exception]
) -> tuple[FakeRunner, list[portcheck.Socket]]:
    """A lookup of port 8080 on alice@web1:2222 where ssh answers `replies` per command."""
    monkeypatch.setattr("portcheck._remote.ssh.control_dir", lambda: "/tmp/pc-ssh")
    monkeypatch.delenv("PORTCHECK_SSH_CONFIG", raising=False)
    shape = SshRunner.connect(parse_host("alice@web1:2222"), local=None, ssh=SSH, timeout=5)
    fake = FakeRunner(
        tools={"ssh": SSH},
        replies={tuple(shape.argv(command)): reply for command, reply in replies.items()},
    )
    return fake, lookup(8080, host="alice@web1:2222", runner=fake, timeout=5)


PROBE_COMMAND = "/bin/sh -c '" + POSIX_PROBE.replace("'", "'\"'\"'") + "'"
SS_COMMAND = "/usr/bin/env LC_ALL=C /usr/bin/ss -t -u -a -n -p -e sport = :8080"
SS_OUT = (  # fmt: skip
    b"Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
    b"tcp   LISTEN 0      128          0.0.0.0:8080      0.0.0.0:*    "
    b'users:(("nginx",pid=812,fd=6),("nginx",pid=813,fd=6)) ino:1 sk:1 cgroup:/ <->\n'
    b"tcp   LISTEN 0      128             [::]:8080         [::]:*    "
    b"uid:33 ino:2 sk:2 cgroup:/ v6only:1 <->\n"
)


def test_a_remote_linux_lookup_runs_ss_then_ps_and_getent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake, found = _remote_lookup(
        monkeypatch,
        {
            PROBE_COMMAND: (0, LINUX_PROBE_OUT, b""),
            SS_COMMAND: (0, SS_OUT, b""),
            "/usr/bin/env LC_ALL=C /usr/bin/ps -o pid=,uid=,comm= -p 812,813": (
                0,
                b"  812     0 nginx\n  813    33 nginx: worker\n",
                b"",
            ),
            "/usr/bin/env LC_ALL=C /usr/bin/getent passwd 0 33": (
                0,
                b"root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n",
                b"",
            ),
        },
    )
    assert [(s.family, s.pid, s.process, s.user, s.uid, s.no_owner) for s in found] == [
        (Family.IPV4, 812, "nginx", "root", 0, None),
        (Family.IPV4, 813, "nginx: worker", "www-data", 33, None),
        (Family.IPV6, None, None, "www-data", 33, NoOwner.HIDDEN),
    ]
    assert all(s.protocol is Protocol.TCP and s.state is State.LISTEN for s in found)
    assert [c[-1] for c in fake.calls][:2] == [PROBE_COMMAND, SS_COMMAND]
    assert all(c[0] == SSH for c in fake.calls)


def test_a_free_port_over_ssh_is_an_empty_list(monkeypatch: pytest.MonkeyPatch) -> None:
    _, found = _remote_lookup(
        monkeypatch,
        {PROBE_COMMAND: (0, LINUX_PROBE_OUT, b""), SS_COMMAND: (0, SS_OUT.split(b"\n")[0], b"")},
    )
    assert found == []


@pytest.mark.parametrize(
    "line",
    [
        b"tcp LISTEN 0 128 0.0.0.0:99999 *:*",
        b"tcp LISTEN x",
        b"tcp LISTEN 0 128 \x1b[2J:8080 *:* users:((",
        b'tcp LISTEN 0 128 0.0.0.0:8080 *:* users:(("\xff\xfe",pid=x,fd=1))',
        b"\x00" * 5000,
    ],
)
def test_hostile_remote_output_is_handled_as_locally(
    monkeypatch: pytest.MonkeyPatch, line: bytes
) -> None:
    text = line.decode("utf-8", errors="replace")
    try:
        local: list[portcheck.Socket] | ParseError = [
            s for s in portcheck.parse(text, tool="ss", platform="linux") if s.local.port == 8080
        ]
    except ParseError as exc:
        local = exc
    replies: dict[str, tuple[int, bytes, bytes] | Exception] = {
        PROBE_COMMAND: (0, LINUX_PROBE_OUT, b""),
        SS_COMMAND: (0, line + b"\n", b""),
    }
    if isinstance(local, ParseError):
        with pytest.raises(ParseError) as info:
            _remote_lookup(monkeypatch, replies)
        assert info.value.host == "alice@web1:2222"
        assert str(info.value) == f"alice@web1:2222: {local}"
    else:
        assert _remote_lookup(monkeypatch, replies)[1] == local


def test_hostile_ps_and_getent_output_leaves_the_tools_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, found = _remote_lookup(
        monkeypatch,
        {
            PROBE_COMMAND: (0, LINUX_PROBE_OUT, b""),
            SS_COMMAND: (0, SS_OUT, b""),
            "/usr/bin/env LC_ALL=C /usr/bin/ps -o pid=,uid=,comm= -p 812,813": (
                0,
                b"812 x nginx\nnot a line\n813 0 \x1b]0;pwned\x07\n" + b"A" * 100000,
                b"",
            ),
            "/usr/bin/env LC_ALL=C /usr/bin/getent passwd 0 33": (
                0,
                b"::33\n\x1b[31m:x:33\nwww-data:x:3x3\n",
                b"",
            ),
        },
    )
    assert [(s.pid, s.process, s.user) for s in found] == [
        (812, "nginx", None),
        (813, "nginx", None),
        (None, None, None),
    ]


def test_a_tool_failure_over_ssh_names_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ToolError) as info:
        _remote_lookup(
            monkeypatch,
            {PROBE_COMMAND: (0, LINUX_PROBE_OUT, b""), SS_COMMAND: (1, b"", b"ss: boom")},
        )
    assert str(info.value).startswith("alice@web1:2222: /usr/bin/ss -t")


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ((255, b"", b"ssh: connect to host w port 22: Connection refused"), HostUnreachableError),
        ((255, b"", b"alice@web1: Permission denied (publickey).\r\n"), AuthenticationError),
        ((255, b"", b"Host key verification failed.\r\n"), HostKeyError),
        (ToolTimeoutError(["/usr/bin/ssh"], 5), RemoteTimeoutError),
    ],
)  # fmt: skip
def test_connection_failures_name_the_host(
    monkeypatch: pytest.MonkeyPatch,
    reply: tuple[int, bytes, bytes] | Exception,
    error: type[PortcheckError],
) -> None:
    with pytest.raises(error) as info:
        _remote_lookup(monkeypatch, {PROBE_COMMAND: reply})
    assert info.value.host == "alice@web1:2222"
    assert str(info.value).startswith("alice@web1:2222: ")


def test_a_remote_tool_that_hangs_is_a_remote_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RemoteTimeoutError) as info:
        _remote_lookup(
            monkeypatch,
            {
                PROBE_COMMAND: (0, LINUX_PROBE_OUT, b""),
                SS_COMMAND: ToolTimeoutError(["/usr/bin/ssh"], 5),
            },
        )
    assert info.value.argv[0] == "/usr/bin/ss"
    assert "alice@web1:2222: /usr/bin/ss" in str(info.value)


def test_a_host_without_tools_is_no_tool_naming_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NoToolError) as info:
        _remote_lookup(monkeypatch, {PROBE_COMMAND: (0, b"Linux\n1000\nss=\nps=/bin/ps\n", b"")})
    assert set(info.value.tried) == {"ss", "lsof", "netstat"}
    assert str(info.value).startswith("alice@web1:2222: no usable tool")


def test_missing_ssh_is_no_tool() -> None:
    with pytest.raises(NoToolError, match="openssh-client"):
        lookup(80, host="web1", runner=FakeRunner())


def test_platform_and_host_exclude_each_other() -> None:
    with pytest.raises(ValueError, match="host or platform"):
        lookup(80, host="web1", platform="linux", runner=FakeRunner(tools={"ssh": SSH}))


# --- the probe -------------------------------------------------------------------------


def test_probe_of_a_linux_host() -> None:
    info = parse_posix_probe("web1", LINUX_PROBE_OUT.decode())
    assert info is not None
    assert info.platform is Platform.LINUX
    assert info.privileged is True
    assert info.tools["ss"] == "/usr/bin/ss"
    assert "sockstat" not in info.tools


def test_probe_keeps_only_plain_absolute_paths() -> None:
    text = (
        "FreeBSD\n1001\nsockstat=/usr/bin/sockstat\nps=bin/ps\nlsof=/usr/local/bin/ls of\n"
        "netstat=/usr/bin/$(id)\ncat=/x/../bin/cat\nrm=/bin/rm\n"
    )
    info = parse_posix_probe("bsd1", text)
    assert info is not None
    assert (info.platform, info.privileged) == (Platform.FREEBSD, False)
    assert info.tools == {"sockstat": "/usr/bin/sockstat"}


@pytest.mark.parametrize("system", ["Darwin", "NetBSD", "OpenBSD"])
def test_probe_names_the_platform(system: str) -> None:
    info = parse_posix_probe("h", f"{system}\n501\n")
    assert info is not None
    assert info.platform.value == system.lower()


def test_probe_of_an_unknown_system_is_unsupported() -> None:
    with pytest.raises(UnsupportedError, match="SunOS"):
        parse_posix_probe("h", "SunOS\n0\n")


def test_probe_of_a_non_posix_answer_is_none() -> None:
    assert parse_posix_probe("h", "'/bin/sh' is not recognized as an internal command\n") is None


@pytest.mark.parametrize(
    ("text", "page"),
    [
        ("\r\nMicrosoft Windows [Version 10.0.20348.2340]\r\nActive code page: 437\r\n", 437),
        ("\r\nMicrosoft Windows [Version 10.0.19045.4291]\r\nAktive Codepage: 850.\r\n", 850),
        ("Microsoft Windows [Version 10.0.17763.1]\r\n", None),
    ],
)
def test_windows_probe_reads_the_code_page(text: str, page: int | None) -> None:
    info = parse_windows_probe(text)
    assert info is not None
    assert (info.platform, info.code_page) == (Platform.WINDOWS, page)


POWERSHELL_COMMAND = (
    "cmd /c %SystemRoot%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -NoProfile"
    ' -NonInteractive -Command "Get-CimInstance Win32_Process | Select-Object'
    ' ProcessId,ParentProcessId,CreationDate,CommandLine | ConvertTo-Csv -NoTypeInformation"'
)


def test_windows_host_lookup_sends_constant_commands_and_decodes_its_code_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    netstat = (
        "\r\nConexiones activas\r\n\r\n  Proto  Dirección local  Dirección remota  Estado  PID\r\n"
        "  TCP    0.0.0.0:8080   0.0.0.0:0   LISTENING   4242\r\n"
    ).encode("cp850")
    _, found = _remote_lookup(
        monkeypatch,
        {
            PROBE_COMMAND: (1, b"", b"'/bin/sh' is not recognized\r\n"),
            WINDOWS_PROBE: (0, b"Microsoft Windows [Version 10.0]\r\nActive code page: 850", b""),
            "cmd /c %SystemRoot%\\System32\\netstat.exe -ano": (0, netstat, b""),
            "cmd /c %SystemRoot%\\System32\\tasklist.exe /SVC /FO CSV /NH": (
                0,
                '"Señor.exe","4242","Services","0","1,234 K"\r\n'.encode("cp850"),
                b"",
            ),
            POWERSHELL_COMMAND: (
                0,
                (
                    '"ProcessId","ParentProcessId","CreationDate","CommandLine"\r\n'
                    '"4242","600","12/3/2026 6:33:35 PM","C:\\Señor.exe ""a, b"""\r\n'
                ).encode("utf-16"),
                b"",
            ),
        },
    )
    assert [(s.pid, s.process, s.command) for s in found] == [
        (4242, "Señor.exe", ('C:\\Señor.exe "a, b"',))
    ]


def test_a_host_that_is_neither_posix_nor_windows_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(RemoteError, match="cannot tell what system"):
        _remote_lookup(
            monkeypatch,
            {PROBE_COMMAND: (127, b"", b"sh: not found"), WINDOWS_PROBE: (127, b"", b"")},
        )


# --- remote backends -------------------------------------------------------------------


def test_remote_linux_starts_with_ss_and_has_no_procfs() -> None:
    assert [b.name for b in backends(Platform.LINUX, remote=True)] == ["ss", "lsof", "netstat"]
    assert backends(Platform.LINUX)[0].name == "procfs"
    with pytest.raises(UnsupportedError, match="over ssh"):
        backends(Platform.LINUX, "procfs", remote=True)


def _remote_context(runner: FakeRunner, *, privileged: bool) -> Context:
    return Context(
        runner=runner,
        timeout=5.0,
        platform=Platform.LINUX,
        local_proc=False,
        privileged=privileged,
        remote="web1",
    )


def test_remote_lsof_without_root_adds_what_netstat_sees() -> None:
    from portcheck._backends.linux import lookup_lsof

    runner = FakeRunner(
        tools={"lsof": "/usr/bin/lsof", "netstat": "/usr/bin/netstat"},
        replies={
            ("/usr/bin/lsof", "-n", "-P", "-w", "-b", "-S", "2", "+c", "0", "-F", "pcuLftPnTd",
             "-i", ":8080"): (1, b"", b""),
            ("/usr/bin/netstat", "-t", "-u", "-a", "-n", "-p", "-e", "-W"): (
                0,
                b"Active Internet connections (servers and established)\n"
                b"Proto Recv-Q Send-Q Local Address Foreign Address State User Inode"
                b" PID/Program name\n"
                b"tcp 0 0 0.0.0.0:8080 0.0.0.0:* LISTEN 33 12345 -\n",
                b"",
            ),
        },
    )  # fmt: skip
    [found] = lookup_lsof(8080, _remote_context(runner, privileged=False))
    assert (found.local.port, found.pid, found.no_owner) == (8080, None, NoOwner.HIDDEN)
