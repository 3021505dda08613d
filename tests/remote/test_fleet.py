"""One host's failure is that host's answer (who_owns_across, --host/--hosts); the ssh
ControlPath always fits (a long TMPDIR, no fitting directory at all)."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from portcheck import Endpoint, Family, Protocol, Socket, State
from portcheck._cli import main
from portcheck._errors import (
    HostUnreachableError,
    NoToolError,
    PortcheckError,
    ToolTimeoutError,
)
from portcheck._remote import ssh
from portcheck._remote.fleet import UnexpectedHostError, look_across, who_owns_across
from portcheck._remote.hosts import parse_host

NGINX = Socket(
    protocol=Protocol.TCP,
    family=Family.IPV4,
    local=Endpoint(address="0.0.0.0", port=8080),
    state=State.LISTEN,
    pid=812,
    process="nginx",
)

# How each host fails: every kind of error, portcheck's and not.
FAILURES: dict[str, Exception] = {
    "down": HostUnreachableError("down", "ssh could not reach the host", "Connection refused"),
    "slow": ToolTimeoutError(["ss", "-t"], 10.0),
    "bare": NoToolError("linux", {"ss": "missing", "lsof": "missing"}),
    "buggy": ValueError("word too long for the remote shell"),
    "worse": KeyError("surprise"),
}


@pytest.fixture
def fleet(monkeypatch: pytest.MonkeyPatch) -> None:
    """`connect` works for "good" and fails for the others as FAILURES says."""

    def connect(host: str, *, timeout: float, runner: object = None) -> str:
        if host in FAILURES:
            raise FAILURES[host]
        return host

    def lookup(port: int, *, tool: str | None, context: str) -> list[Socket]:
        return [NGINX] if context == "good" else []

    monkeypatch.setattr("portcheck._remote.probe.connect", connect)
    monkeypatch.setattr("portcheck._lookup.lookup", lookup)


@pytest.mark.usefixtures("fleet")
def test_every_kind_of_failure_is_only_that_hosts_answer() -> None:
    found = who_owns_across(8080, ["good", *FAILURES, "empty"])
    assert found["good"] == [NGINX]
    assert found["empty"] == []
    for host in FAILURES:
        error = found[host]
        assert isinstance(error, PortcheckError), host
        assert error.host == host
        assert str(error).startswith(f"{host}: ")
    unexpected = found["buggy"]
    assert isinstance(unexpected, UnexpectedHostError)
    assert isinstance(unexpected.error, ValueError)
    assert isinstance(found["slow"], ToolTimeoutError)
    assert isinstance(found["bare"], NoToolError)


@pytest.mark.usefixtures("fleet")
def test_hosts_command_prints_every_answer_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["8080", "--host", "good"]
    for host in FAILURES:
        argv += ["--host", host]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert "== good ==" in out
    assert "nginx" in out
    # Every failed host is named on stderr, one line each, in words (no class names).
    lines = err.splitlines()
    for host in FAILURES:
        assert sum(line.startswith(f"portcheck: {host}: ") for line in lines) == 1, err
    assert "HostError" not in err
    assert "TimeoutError" not in err


@pytest.mark.usefixtures("fleet")
def test_look_across_keeps_the_order_and_each_host_once() -> None:
    found = look_across([8080, 8081], ["worse", "good", "worse"])
    assert list(found) == ["worse", "good"]


# --- ControlPath ---------------------------------------------------------------------------


@pytest.fixture
def short_base(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A short private stand-in for /tmp, so the tests never touch the real /tmp/pc-UID."""
    base = tempfile.mkdtemp(prefix="pc", dir="/tmp")
    monkeypatch.setattr(ssh, "SHORT_BASE", base)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def long_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, short_base: str) -> Path:
    """TMPDIR 80 characters long (macOS's is about 48; deeper ones exist)."""
    base = str(tmp_path)
    deep = Path(base + "/" + "t" * max(1, 80 - len(base) - 1))
    assert len(str(deep)) == 80
    deep.mkdir()
    monkeypatch.setenv("TMPDIR", str(deep))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    return deep


def test_a_long_tmpdir_falls_back_to_a_short_private_directory(
    long_tmpdir: Path, short_base: str
) -> None:
    directory = ssh.control_dir()
    assert directory == f"{short_base}/pc-{os.getuid()}"
    info = os.lstat(directory)
    assert stat.S_ISDIR(info.st_mode)
    assert info.st_mode & 0o777 == 0o700
    assert info.st_uid == os.getuid()
    # ssh's socket: DIR/%C (40 hex) plus its temporary ".XXXXXXXXXXXXXXXX", and the NUL.
    assert len(directory) + 1 + 40 + 17 + 1 <= 104
    options = ssh.ssh_options(parse_host("web1"), timeout=5)
    assert f"ControlPath={directory}/%C" in options


def test_when_nothing_fits_sharing_is_off_and_debug_says_so(
    long_tmpdir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ssh, "SOCKET_PATH_MAX", 40)  # nothing fits now
    with caplog.at_level(logging.DEBUG, logger="portcheck.ssh"):
        assert ssh.control_dir() is None
        options = ssh.ssh_options(parse_host("web1"), timeout=5)
    assert "ControlPath=none" in options
    assert "too long for a socket path" in caplog.text
    assert "ControlPath=none" in caplog.text


def test_a_symlink_is_not_a_control_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, short_base: str
) -> None:
    monkeypatch.setattr(ssh, "SOCKET_PATH_MAX", 1000)  # tmp_path is long
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    link = tmp_path / f"portcheck-ssh-{os.getuid()}"
    link.symlink_to(target)
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    assert ssh.control_dir() != str(link)


def test_debug_prints_why_sharing_is_off(
    long_tmpdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ssh, "SOCKET_PATH_MAX", 40)

    def connect(host: str, *, timeout: float, runner: object = None) -> str:
        ssh.ssh_options(parse_host(host), timeout=timeout)
        raise HostUnreachableError(host, "ssh could not reach the host", "")

    monkeypatch.setattr("portcheck._remote.probe.connect", connect)
    try:
        assert main(["8080", "--host", "web1", "--debug"]) == 2
    finally:
        logger = logging.getLogger("portcheck")
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    err = capsys.readouterr().err
    assert "portcheck: debug: ssh connection sharing is off (ControlPath=none)" in err


def test_the_ansible_plugins_fail_only_the_task_with_any_error() -> None:
    # The plugins catch every exception (`except Exception`) and fail the
    # host's task with this message; Ansible goes on with the other hosts.
    from portcheck._remote.ansible import failure

    plugins = Path(__file__).resolve().parents[2] / "ansible"
    for path in plugins.rglob("plugins/action/*.py"):
        assert "except Exception as exc:" in path.read_text(), path
    assert failure(KeyError("surprise")).startswith("portcheck failed unexpectedly: KeyError")
    assert failure(FAILURES["slow"]).startswith("portcheck could not look: ToolTimeoutError")
    assert failure(FAILURES["down"]).startswith("HostUnreachableError: down: ")
