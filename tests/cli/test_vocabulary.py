"""Issue 21, "one command, one vocabulary": the real entry point (`python -m portcheck`),
run as root and as nobody, takes the same options everywhere and says things one way."""

from __future__ import annotations

import contextlib
import csv
import importlib
import io
import json
import os
import runpy
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from portcheck._cli import _commands, build_parser
from tests.support.as_nobody import run_as_nobody
from tests.support.ports import quiet_port

# nobody cannot read root's Python installation: what the command may import is
# imported here, before the fork.
for _module in (
    "concurrent.futures",
    "csv",
    "encodings.ascii",
    "encodings.latin_1",
    "encodings.idna",
    "shlex",
    "traceback",
    "random",
    "portcheck._remote.fleet",
    "portcheck._remote.ssh",
    "portcheck._remote.probe",
    "portcheck._remote.commands",
    "portcheck._remote.hosts",
    "portcheck._kill.engine",
    "portcheck._kill.stoppers",
    "portcheck._ports.find",
    "portcheck._ports.describe",
    "portcheck._render.csv",
    "portcheck._render.kill",
    "portcheck._render.errors",
    "portcheck._render.completion",
    "portcheck._render.progress",
    "portcheck._render.hosts",
    "portcheck._wait.sockets",
):
    importlib.import_module(_module)

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="this machine's tools")
# As root, each test runs as root and again as nobody (a forked child drops to it);
# in CI's unprivileged run the "root" case already runs as that user.
USERS = [
    "root",
    pytest.param(
        "nobody",
        marks=pytest.mark.skipif(os.geteuid() != 0, reason="only root can become nobody"),
    ),
]


def _in_process(argv: list[str]) -> tuple[int, str, str]:
    """`python -m portcheck ARGV` in this interpreter (nobody cannot exec root's venv)."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["portcheck", *argv]
    code: object = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            runpy.run_module("portcheck", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.argv = saved
    return (code if isinstance(code, int) else 1), out.getvalue(), err.getvalue()


def run(user: str, *argv: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of `python -m portcheck ARGV` as `user`."""
    if user == "nobody":
        code, out, err = run_as_nobody(lambda: _in_process(list(argv)))
        return code, out, err
    done = subprocess.run(
        [sys.executable, "-m", "portcheck", *argv], capture_output=True, check=False
    )
    # Decoded by hand: text=True would turn the CSV's CRLF into LF.
    return done.returncode, done.stdout.decode(), done.stderr.decode()


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP port this test holds (listening on loopback)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


# --- 1. options anywhere -----------------------------------------------------------


@linux
@pytest.mark.parametrize("user", USERS)
def test_global_options_before_the_subcommand(user: str) -> None:
    code, out, err = run(user, "--json", "list")
    assert code == 0, err
    assert json.loads(out)["kind"] == "list"
    code, out, err = run(user, "-q", "kill", str(quiet_port()))
    assert (code, out, err) == (0, "", "")
    code, out, err = run(user, "--timeout", "5", "--tool", "procfs", "find", "20000-20100")
    assert code == 0, err


def test_every_subcommand_takes_the_common_options() -> None:
    looks_at_sockets = {"", "wait", "find", "kill", "list"}
    parsers = {"": build_parser, **{n: b for n, (b, _) in _commands().items()}}
    for name, build in parsers.items():
        options = {o for a in build()._actions for o in a.option_strings}
        assert {"--json", "-q", "--timeout", "--debug"} <= options, name
        if name in looks_at_sockets:
            assert "--tool" in options, name
    for name in ("", "wait", "list"):
        assert {"--host", "--hosts"} <= {
            o for a in parsers[name]()._actions for o in a.option_strings
        }


@pytest.mark.parametrize("user", USERS)
def test_kill_refuses_host(user: str) -> None:
    code, out, err = run(user, "kill", "8080", "--host", "web1")
    assert (code, out) == (2, "")
    assert err == (
        "portcheck: kill stops processes on this machine only: --host and --hosts are refused"
        " (log in to the host and run portcheck kill there)\n"
    )


# --- 2. port arguments ----------------------------------------------------------


@linux
@pytest.mark.parametrize("user", USERS)
def test_lists_and_ranges_of_ports(user: str, listener: int) -> None:
    free = quiet_port()
    for argv in (
        [f"{listener},{free}"],
        [f"{listener}-{listener + 1}"],
        [f"{free},{listener}-{listener}"],
    ):
        code, out, _ = run(user, *argv, "--json")
        assert code == 0, argv
        ports = {p["port"]: p["in_use"] for p in json.loads(out)["ports"]}
        assert ports[listener] is True
    code, out, _ = run(user, "list", "--port", f"{listener},{free}", "--json")
    assert code == 0
    assert {s["local"]["port"] for s in json.loads(out)["sockets"]} == {listener}
    code, out, _ = run(user, "wait", f"{listener},{free}", "--listening", "--timeout", "0", "-q")
    assert code == 1  # the free one never listens


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["kill", "٣٣"], "not a port or a range of ports: '٣٣'"),
        (["8080²"], "not a port or a range of ports"),
        (["1-5000"], "holds 5000 ports; at most 4096"),
        (["wait", "1000-9000", "--free"], "at most 4096"),
        (["80", "--timeout", "1e10"], "not a number of seconds above 0, up to a day: '1e10'"),
        (["80", "--timeout", "inf"], "'inf'"),
        (["80", "--timeout", "nan"], "'nan'"),
        (["80", "--timeout", "0"], "'0'"),
        (["wait", "80", "--free", "--timeout", "-1"], "'-1'"),
        (["kill", "80", "--timeout", "1e400"], "'1e400'"),
    ],
)
def test_bad_ports_and_timeouts_are_one_clear_line(user: str, argv: list[str], says: str) -> None:
    code, out, err = run(user, *argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert says in err
    assert "Traceback" not in err


# --- 3. -q prints nothing ---------------------------------------------------------


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize(
    "argv",
    [["-q", "0"], ["0", "-q"], ["-q", "8080", "--tool", "nope"], ["-q", "list", "--tool", "nope"]],
)
def test_quiet_prints_nothing_even_errors(user: str, argv: list[str]) -> None:
    assert run(user, *argv) == (2, "", "")


# --- 4. human error lines ---------------------------------------------------------


@linux
@pytest.mark.parametrize("user", USERS)
def test_remote_errors_are_human_lines_on_stderr(user: str) -> None:
    port = quiet_port()  # nothing listens there: ssh is refused
    code, out, err = run(user, "8080", "--host", f"127.0.0.1:{port}", "--timeout", "5")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1, err
    assert err.startswith(f"portcheck: 127.0.0.1:{port}: ssh could not reach the host: ")
    assert "Error" not in err
    assert "\\x0d" not in err
    code, out, err = run(user, "8080", "--host", f"127.0.0.1:{port}", "--timeout", "5", "--json")
    assert code == 2
    (host,) = json.loads(out)["hosts"]
    assert host["host"] == f"127.0.0.1:{port}"
    assert host["error"]["kind"] == "unreachable"
    assert "Connection refused" in host["error"]["message"]
    code, out, err = run(user, "list", "--host", f"127.0.0.1:{port}", "--timeout", "5")
    assert (code, out) == (2, "")
    assert err.startswith(f"portcheck: 127.0.0.1:{port}: ssh could not reach the host: ")
    code, out, err = run(user, "wait", "8080", "--free", "--host", f"127.0.0.1:{port}")
    assert (code, out) == (2, "")
    assert err.startswith(f"portcheck: 127.0.0.1:{port}: ssh could not reach the host: ")


def test_error_messages_hide_class_names_and_command_lines() -> None:
    from portcheck import HostUnreachableError, RemoteTimeoutError, ToolError
    from portcheck._render.errors import kind, line

    timeout = RemoteTimeoutError("web1", ["/usr/bin/ssh", "web1", "/bin/sh -c 'uname -s'"], 2.99999)
    assert line(timeout) == "portcheck: web1: no answer over ssh within 3 s"
    assert kind(timeout) == "timeout"
    noisy = "Warning: Permanently added 'x' to known hosts.\r\nssh: connect to host x: No route\r\n"
    down = HostUnreachableError("web1", "ssh could not reach the host", noisy)
    assert (
        line(down)
        == "portcheck: web1: ssh could not reach the host: ssh: connect to host x: No route"
    )
    failed = ToolError(["/usr/bin/ss", "-tanp"], 1, "usage: ...\nss: bad option\n")
    assert line(failed) == "portcheck: ss exited with status 1: ss: bad option"


# --- 5. one TIME_WAIT rule ------------------------------------------------------


@pytest.fixture
def remnant() -> int:
    """A port with only a TIME_WAIT remnant on it: this side of a connection closed first."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        client = socket.socket()
        client.bind(("127.0.0.1", 0))
        port: int = client.getsockname()[1]
        client.connect(server.getsockname())
        accepted, _ = server.accept()
        client.close()  # the active closer keeps TIME_WAIT
        time.sleep(0.1)
        accepted.close()
    return port


@linux
@pytest.mark.parametrize("user", USERS)
def test_time_wait_remnants_are_free_everywhere_unless_strict(user: str, remnant: int) -> None:
    port = str(remnant)
    code, out, _ = run(user, port)
    assert code == 1
    assert "TIME_WAIT remnant(s)" in out
    assert "SO_REUSEADDR" in out
    assert run(user, port, "--strict", "-q")[0] == 0
    assert json.loads(run(user, port, "--json")[1])["ports"][0]["in_use"] is False
    assert run(user, "wait", port, "--free", "--timeout", "0", "-q")[0] == 0
    assert run(user, "wait", port, "--free", "--strict", "--timeout", "0.5", "-q")[0] == 1
    assert run(user, "kill", port, "--yes", "-q")[0] == 0
    code, out, _ = run(user, port, "--explain")
    assert code == 1
    assert "The port is free: 1 TIME_WAIT remnant(s)" in out
    assert run(user, "find", f"{port}-{port}", "--allow-ephemeral", "--strict", "-q")[0] == 1


@linux
def test_kill_strict_keeps_to_the_timeout(remnant: int) -> None:
    start = time.monotonic()
    code, out, _ = run("root", "kill", str(remnant), "--yes", "--strict", "--timeout", "1")
    assert code == 1  # the remnant outlives 1 s (Linux keeps it 60 s)
    assert time.monotonic() - start < 30  # not the 60 s of TIME_WAIT
    assert f"port {remnant} is still in use" in out


# --- 6. the library ---------------------------------------------------------------


def test_every_enum_prints_its_value() -> None:
    import enum

    import portcheck

    enums = [getattr(portcheck, n) for n in portcheck.__all__]
    enums = [e for e in enums if isinstance(e, type) and issubclass(e, enum.Enum)]
    assert len(enums) >= 8
    for cls in enums:
        for member in cls:
            assert str(member) == member.value
            assert f"{member}" == member.value
    assert str(portcheck.State.LISTEN) == "LISTEN"


def test_port_role_replaces_socket_role() -> None:
    import portcheck

    assert "PortRole" in portcheck.__all__
    assert not hasattr(portcheck, "Socket" + "Role")  # the old name is gone
    assert portcheck.PortRole.__name__ == "PortRole"


# --- 7. the README's first command ----------------------------------------------------


@linux
@pytest.mark.parametrize("user", USERS)
def test_readme_first_command_exits_0_and_prints(user: str, listener: int) -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    first = next(line for line in readme.splitlines() if "pip install" in line)
    command = first.split("&&")[-1].split()
    assert [command[0].rsplit("/", 1)[-1], *command[1:]] == ["portcheck", "list"]
    code, out, _ = run(user, *command[1:])
    assert code == 0
    assert f"127.0.0.1:{listener}" in out


# --- 8. --csv -------------------------------------------------------------------------


@linux
@pytest.mark.parametrize("user", USERS)
def test_csv_beside_json(user: str, listener: int) -> None:
    code, out, _ = run(user, "list", "--csv")
    assert code == 0
    assert out.endswith("\r\n")
    header, *rows = list(csv.reader(io.StringIO(out, newline="")))
    assert header[:4] == ["port", "protocol", "family", "local_address"]
    assert [str(listener), "tcp", "ipv4", "127.0.0.1"] in [r[:4] for r in rows]
    code, out, _ = run(user, str(listener), "--csv")
    assert code == 0
    assert next(csv.reader(io.StringIO(out)))[0] == "port"
    code, out, _ = run(user, "find", "20000-20100", "--csv")
    assert (code, out.splitlines()[0]) == (0, "port")


def test_csv_quotes_as_rfc_4180() -> None:
    from portcheck import Endpoint, Family, Protocol, Socket, State
    from portcheck._render.csv import lookup_rows

    odd = Socket(
        protocol=Protocol.TCP,
        family=Family.IPV4,
        local=Endpoint(address="0.0.0.0", port=80),
        state=State.LISTEN,
        pid=1,
        process='web, "v2"',
    )
    buffer = io.StringIO()
    csv.writer(buffer).writerows(lookup_rows({80: [odd]}))
    assert '"web, ""v2"""' in buffer.getvalue()
    assert list(csv.reader(io.StringIO(buffer.getvalue())))[1][7] == 'web, "v2"'


# --- 9. completion --------------------------------------------------------------------


BASH = shutil.which("bash") or "/bin/bash"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "powershell"])
def test_completion_scripts_name_every_command_and_option(shell: str) -> None:
    code, out, err = run("root", "completion", shell)
    assert (code, err) == (0, "")
    for name, (build, _) in _commands().items():
        assert name in out
        for action in build()._actions:
            for option in action.option_strings:
                assert option.lstrip("-") in out, (shell, name, option)


def test_bash_completion_is_valid_bash() -> None:
    script = run("root", "completion", "bash")[1]
    done = subprocess.run([BASH, "-n"], input=script, text=True, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    probe = (
        script
        + '\nCOMP_WORDS=(portcheck kill --f); COMP_CWORD=2; _portcheck; echo "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run([BASH, "-c", probe], text=True, capture_output=True, check=False)
    assert done.stdout.split() == ["--force"]


# --- kill's words -----------------------------------------------------------------------


def test_kill_words_one_lower_case_verb_and_real_flags() -> None:
    from portcheck import Outcome, OwnerOutcome, Refusal, StopResult
    from portcheck._render.kill import report

    def owner(pid: int, outcome: Outcome, detail: str, hint: str | None = None) -> OwnerOutcome:
        refusal = Refusal.MANAGED if hint is not None else None
        return OwnerOutcome(
            pid=pid,
            process="node",
            user="alice",
            outcome=outcome,
            refusal=refusal,
            detail=detail,
            hint=hint,
        )

    result = StopResult(
        port=8080,
        free=False,
        dry_run=False,
        owners=(
            owner(1, Outcome.SIGNALLED, "exited after SIGTERM"),
            owner(
                2, Outcome.STILL_ALIVE, "still running 10 s after SIGTERM; --force would kill it"
            ),
            owner(3, Outcome.REFUSED, "the systemd unit x.service runs it", "systemctl stop x"),
            owner(4, Outcome.PERMISSION_DENIED, "not allowed to signal it"),
        ),
    )
    lines = report(result)
    assert lines[:4] == [
        "stopped        node (pid 1, user alice): exited after SIGTERM",
        "still running  node (pid 2, user alice): 10 s after SIGTERM; --force would kill it",
        "refused        node (pid 3, user alice): the systemd unit x.service runs it;"
        " instead: systemctl stop x (or pass --managed)",
        "denied         node (pid 4, user alice): not allowed to signal it",
    ]
    dry = StopResult(
        port=8080,
        free=False,
        dry_run=True,
        owners=(owner(1, Outcome.DRY_RUN, "with SIGTERM"),),
    )
    assert report(dry)[0] == "would stop  node (pid 1, user alice): with SIGTERM"


def test_debug_shows_the_command_lines_the_error_line_does_not(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from portcheck import ToolTimeoutError
    from portcheck._cli import main

    def slow(port: int, **_: object) -> list[object]:
        raise ToolTimeoutError(["/usr/bin/ss", "-tanp", "sport", "=", f":{port}"], 2.99999)

    monkeypatch.setattr("portcheck._cli.who_owns", slow)
    assert main(["8080"]) == 2
    assert capsys.readouterr().err == "portcheck: ss did not finish within 3 s and was killed\n"
    assert main(["8080", "--debug"]) == 2
    err = capsys.readouterr().err
    assert "/usr/bin/ss -tanp sport = :8080" in err
    assert err.endswith("portcheck: ss did not finish within 3 s and was killed\n")
