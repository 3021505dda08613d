"""The `portcheck` command: output, JSON document and exit statuses."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from typing import Any

import attrs
import pytest

import portcheck
from portcheck import Endpoint, Family, Protocol, State
from portcheck._backends.context import is_root
from portcheck._cli import main
from portcheck._ports.describe import service_name
from portcheck._records import Platform
from portcheck._run import SystemRunner
from portcheck._wait.sockets import wait_for
from portcheck._words import hidden_owner
from tests.support.ports import quiet_port

LISTENER = portcheck.Socket(
    protocol=Protocol.TCP,
    family=Family.IPV4,
    local=Endpoint(address="127.0.0.1", port=8080),
    state=State.LISTEN,
    pid=4242,
    process="my server",
    user="alice",
    uid=1000,
)
HIDDEN = portcheck.Socket(
    protocol=Protocol.UDP, family=Family.IPV6, local=Endpoint(address="::", port=8080), uid=0
)


@pytest.fixture
def answer(monkeypatch: pytest.MonkeyPatch) -> list[portcheck.Socket]:
    found: list[portcheck.Socket] = []
    monkeypatch.setattr("portcheck._cli.who_owns", lambda port, **_: list(found))
    return found


def test_in_use_prints_a_table_and_exits_0(
    answer: list[portcheck.Socket], capsys: pytest.CaptureFixture[str]
) -> None:
    answer.append(LISTENER)
    assert main(["8080"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["PORT", "PROTO", "LOCAL", "ADDRESS", "REMOTE", "ADDRESS",
                              "STATE", "PID", "PROCESS", "USER"]  # fmt: skip
    assert row.split() == ["8080", "tcp", "127.0.0.1:8080", "-", "LISTEN", "4242",
                           "my", "server", "alice"]  # fmt: skip


def test_free_exits_1(answer: list[portcheck.Socket], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["8080"]) == 1
    assert capsys.readouterr().out == "port 8080 is free\n"


def test_hidden_owner_exits_0_and_explains_on_stderr(
    answer: list[portcheck.Socket], capsys: pytest.CaptureFixture[str]
) -> None:
    answer.append(HIDDEN)
    assert main(["8080"]) == 0
    out, err = capsys.readouterr()
    assert "(hidden)" in out
    assert "owner is hidden" in err


def test_quiet_prints_nothing(
    answer: list[portcheck.Socket], capsys: pytest.CaptureFixture[str]
) -> None:
    answer.append(LISTENER)
    assert main(["-q", "8080"]) == 0
    assert capsys.readouterr() == ("", "")


def test_json_document(answer: list[portcheck.Socket], capsys: pytest.CaptureFixture[str]) -> None:
    answer.append(LISTENER)
    assert main(["8080", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == {
        "schema": 1,
        "ports": [
            {
                "port": 8080,
                "in_use": True,
                "note": None,
                "sockets": [
                    {
                        "protocol": "tcp",
                        "family": "ipv4",
                        "local": {
                            "address": "127.0.0.1",
                            "port": 8080,
                            "zone": None,
                            "service": None,
                        },
                        "remote": None,
                        "state": "LISTEN",
                        "pid": 4242,
                        "process": "my server",
                        "user": "alice",
                        "uid": 1000,
                        "system_process": False,
                        # Added after schema 1 was first published: the schema stays 1.
                        "no_owner": None,
                        "command": None,
                        "units": [],
                        "container": None,
                        "forwards_to": None,
                        "socket_id": None,
                        "started": None,
                        "parent": None,
                        "cwd": None,
                        "exe": None,
                    }
                ],
            }
        ],
    }


def test_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["8080", "--tool", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("portcheck: no backend 'nope'")


@pytest.mark.parametrize("argv", [["0"], ["65536"], ["http"], ["80", "--timeout", "0"], []])
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "portcheck: error:" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="runs this machine's tools")
def test_python_dash_m_on_a_free_port_exits_1() -> None:
    port = quiet_port()  # nobody else takes it while the test runs
    done = subprocess.run(
        [sys.executable, "-m", "portcheck", str(port)], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (1, f"port {port} is free\n", "")


# --- one-line errors, --debug, --version, --help -------------------------------------


def test_argument_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["http"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("portcheck: error: argument PORTS: not a port or a range of ports")
    assert err.rstrip().endswith("(see portcheck --help)")


def test_unexpected_errors_are_one_line_unless_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(port: int, **_: object) -> list[portcheck.Socket]:
        raise RuntimeError("kaput")

    monkeypatch.setattr("portcheck._cli.who_owns", boom)
    assert main(["8080"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "portcheck: unexpected RuntimeError: kaput "
        "(run with --debug for the traceback, and report it)\n"
    )
    assert main(["8080", "--debug"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert err.rstrip().endswith("(run with --debug for the traceback, and report it)")


def test_interrupt_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(port: int, **_: object) -> list[portcheck.Socket]:
        raise KeyboardInterrupt

    monkeypatch.setattr("portcheck._cli.who_owns", interrupted)
    assert main(["8080"]) == 130
    assert capsys.readouterr().err == "portcheck: interrupted\n"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"portcheck {portcheck.__version__}\n"


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--help"], ["portcheck wait PORT", "--explain", "--raw", "examples:", "--debug"]),
        (["wait", "--help"], ["--free", "--listening", "--interval", "examples:", "exit status"]),
    ],
)
def test_help_has_examples(
    argv: list[str], needles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    for needle in needles:
        assert needle in out


# --- --explain ----------------------------------------------------------------------------


@pytest.fixture
def fixed_range(monkeypatch: pytest.MonkeyPatch) -> None:
    from portcheck import EphemeralRange

    found = EphemeralRange(first=32768, last=60999, source="test")
    monkeypatch.setattr("portcheck._ports.describe.read_range", lambda ctx: found)


@pytest.fixture
def described(monkeypatch: pytest.MonkeyPatch, fixed_range: None) -> list[portcheck.Socket]:
    found: list[portcheck.Socket] = []
    monkeypatch.setattr("portcheck._ports.describe.lookup", lambda port, **_: list(found))
    # Not this machine's reserved list or privileges: tests/ports/test_find.py covers those.
    monkeypatch.setattr("portcheck._ports.describe.reserved_range_of", lambda port, ctx: None)
    monkeypatch.setattr(
        "portcheck._ports.describe.is_privileged", lambda port, platform, ctx: False
    )
    return found


def test_explain_in_use(
    described: list[portcheck.Socket], capsys: pytest.CaptureFixture[str]
) -> None:
    described.append(LISTENER)
    assert main(["8080", "--explain"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("Port 8080 is a registered (user) port, 1024-49151; it is outside")
    assert lines[2:] == [
        "It is in use by 1 socket:",
        "  - listening: my server (pid 4242, user alice) waits for connections on "
        "127.0.0.1:8080 (tcp).",
    ]
    assert err == ""


def test_explain_free_exits_1_and_hidden_warns(
    described: list[portcheck.Socket], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["8080", "--explain"]) == 1
    assert "Nothing uses it: the port is free." in capsys.readouterr().out
    described.append(HIDDEN)
    assert main(["8080", "--explain"]) == 0
    out, err = capsys.readouterr()
    assert hidden_owner(is_root()) in out
    assert "owner is hidden" in err
    assert main(["8080", "--explain", "-q"]) == 0
    assert capsys.readouterr() == ("", "")


def test_explain_json_document(
    described: list[portcheck.Socket], capsys: pytest.CaptureFixture[str]
) -> None:
    described.append(LISTENER)
    assert main(["8080", "--explain", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    [entry] = document.pop("ports")
    assert document == {"schema": 1, "kind": "explain"}
    [sock] = entry.pop("sockets")
    assert entry == {
        "port": 8080,
        "in_use": True,
        "iana_range": "user",
        "ephemeral": False,
        "ephemeral_range": {"first": 32768, "last": 60999, "source": "test", "default": False},
        "services": {
            "tcp": service_name(8080, "tcp"),
            "udp": service_name(8080, "udp"),
        },
        "reserved": None,
        "privileged": False,
        "worth_a_look": False,
        "reasons": [],
        "note": None,
    }
    assert sock["role"] == "listening"
    assert (sock["pid"], sock["state"], sock["local"]["port"]) == (4242, "LISTEN", 8080)


def test_explain_and_raw_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["8080", "--explain", "--raw"])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


# --- wait -------------------------------------------------------------------------------


@pytest.fixture
def looks(monkeypatch: pytest.MonkeyPatch) -> list[list[portcheck.Socket]]:
    """Answers of successive looks during a wait (the last one repeats); no real sleeping."""
    answers: list[list[portcheck.Socket]] = [[]]
    count = [0]

    def lookup(port: int, **_: object) -> list[portcheck.Socket]:
        answer = answers[min(count[0], len(answers) - 1)]
        count[0] += 1
        return list(answer)

    monkeypatch.setattr("portcheck._wait.sockets.lookup", lookup)
    defaults = wait_for.__kwdefaults__
    assert defaults is not None
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setitem(defaults, "clock", lambda: now[0])
    monkeypatch.setitem(defaults, "sleep", sleep)
    return answers


def test_wait_free_succeeds(
    looks: list[list[portcheck.Socket]], capsys: pytest.CaptureFixture[str]
) -> None:
    looks[:] = [[LISTENER], []]
    assert main(["wait", "8080", "--free"]) == 0
    assert capsys.readouterr() == ("port 8080 is free\n", "")


def test_wait_free_times_out_with_the_owners(
    looks: list[list[portcheck.Socket]], capsys: pytest.CaptureFixture[str]
) -> None:
    looks[:] = [[LISTENER]]
    assert main(["wait", "8080", "--free", "--timeout", "1", "--interval", "0.5"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[1].split()[:6] == [
        "8080",
        "tcp",
        "127.0.0.1:8080",
        "-",
        "LISTEN",
        "4242",
    ]
    assert err == (
        "portcheck: port 8080 was not free after 1 s; last seen: my server (pid 4242, alice)\n"
    )


def test_wait_listening_prints_the_listeners(
    looks: list[list[portcheck.Socket]], capsys: pytest.CaptureFixture[str]
) -> None:
    connection = attrs.evolve(
        LISTENER, remote=Endpoint(address="127.0.0.1", port=50000), state=State.ESTABLISHED
    )
    looks[:] = [[], [connection, LISTENER]]
    assert main(["wait", "8080", "--listening"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.startswith("PORT")
    assert "LISTEN" in row.split()


def test_wait_listening_protocol_filter(
    looks: list[list[portcheck.Socket]], capsys: pytest.CaptureFixture[str]
) -> None:
    looks[:] = [[HIDDEN]]  # a bound UDP socket
    assert main(["wait", "8080", "--listening", "--udp", "-q"]) == 0
    assert main(["wait", "8080", "--listening", "--tcp", "-q", "--timeout", "0.5"]) == 1
    assert capsys.readouterr() == ("", "")


def test_wait_free_accepts_time_wait_unless_strict(
    looks: list[list[portcheck.Socket]], capsys: pytest.CaptureFixture[str]
) -> None:
    remnant = attrs.evolve(
        LISTENER, remote=Endpoint(address="127.0.0.1", port=50000), state=State.TIME_WAIT, pid=None
    )
    looks[:] = [[remnant]]
    assert main(["wait", "8080", "--free", "--timeout", "0", "-q", "--strict"]) == 1
    assert main(["wait", "8080", "--free", "--timeout", "0", "-q"]) == 0


def test_wait_json_documents(
    looks: list[list[portcheck.Socket]], capsys: pytest.CaptureFixture[str]
) -> None:
    looks[:] = [[LISTENER], [LISTENER], []]
    assert main(["wait", "8080", "--free", "--json", "--interval", "0.5"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "schema": 1,
        "kind": "wait",
        "port": 8080,
        "condition": "free",
        "ok": True,
        "timeout": 30.0,
        "elapsed": 1.0,
        "polls": 3,
        "sockets": [],
    }
    looks[:] = [[LISTENER]]
    assert main(["wait", "8080", "--free", "--json", "--timeout", "1", "--interval", "1"]) == 1
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert (document["ok"], document["polls"], document["elapsed"]) == (False, 2, 1.0)
    assert [s["pid"] for s in document["sockets"]] == [4242]
    assert "was not free after 1 s" in err


class _Terminal:
    """A stderr that says it is a terminal and records what is written."""

    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_wait_progress_line_on_a_terminal_only(
    looks: list[list[portcheck.Socket]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    looks[:] = [[LISTENER], [LISTENER], []]
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["wait", "8080", "--free", "--interval", "0.5"]) == 0
    assert "\rwaiting for port 8080 to be free: 0.0 s of 30 s; on it: my server" in terminal.text
    assert "0.5 s of 30 s" in terminal.text
    assert terminal.text.endswith("\r")  # the line is wiped before the result
    monkeypatch.undo()
    capsys.readouterr()
    # Not a terminal (captured): no progress at all.
    looks[:] = [[LISTENER], []]
    monkeypatch.setattr("portcheck._wait.sockets.lookup", _answers([[LISTENER], []]))
    assert main(["wait", "8080", "--free", "--interval", "0.01"]) == 0
    assert capsys.readouterr() == ("port 8080 is free\n", "")


def _answers(answers: list[list[portcheck.Socket]]) -> Any:
    count = [0]

    def lookup(port: int, **_: object) -> list[portcheck.Socket]:
        count[0] += 1
        return list(answers[min(count[0] - 1, len(answers) - 1)])

    return lookup


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["wait", "8080"], "one of the arguments --free --listening --open is required"),
        (["wait", "8080", "--free", "--listening"], "not allowed with argument"),
        (["wait", "8080", "--free", "--timeout", "-1"], "not a number of seconds"),
        (["wait", "8080", "--free", "--interval", "0"], "not a number of seconds above 0"),
        (["wait", "http", "--free"], "not a port or a range of ports"),
        (["wait", "8080", "--listening", "--tcp", "--udp"], "not allowed with argument"),
    ],
)
def test_wait_bad_arguments_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("portcheck wait: error:")
    assert message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["wait", "8080", "--free", "--tcp"], "--tcp and --udp go with --listening"),
        (["wait", "8080", "--listening", "--strict"], "goes with --free"),
        (["wait", "8080", "--free", "--tool", "nope"], "no backend 'nope'"),
    ],
)
def test_wait_errors_exit_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("portcheck: ")
    assert message in err


# --- --raw -------------------------------------------------------------------------------

SS_ARGV = ("/usr/bin/ss", "-t", "-u", "-a", "-n", "-p", "-e", "sport", "=", ":8080")
SS_OUT = (
    b"Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
    b"tcp   LISTEN 0      128        127.0.0.1:8080      0.0.0.0:*     "
    # No `ino:`: the pid cannot be checked against /proc, so the tool's word stands.
    b'users:(("web\xffsrv",pid=999999,fd=3)) sk:1 <->\n'
)


@pytest.fixture
def fake_system(monkeypatch: pytest.MonkeyPatch) -> Any:
    from tests.support.fakes import FakeRunner

    runner = FakeRunner(
        tools={"ss": "/usr/bin/ss"},
        replies={
            SS_ARGV: (0, SS_OUT, b""),
            ("/usr/bin/ss", "-V"): (0, b"ss utility, iproute2-6.1.0\n", b""),
        },
    )
    monkeypatch.setattr("portcheck._run.SystemRunner", lambda: runner)
    monkeypatch.setattr(Platform, "current", classmethod(lambda _cls: Platform.LINUX))
    return runner


def test_raw_prints_the_tool_argv_version_and_output(
    fake_system: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["8080", "--raw", "--tool", "ss"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "# portcheck --raw capture for port 8080"
    assert lines[1] == f"portcheck: {portcheck.__version__}"
    assert lines[2].startswith("platform: linux (")
    assert "backend ss: answered" in lines
    assert "tool ss: /usr/bin/ss" in lines
    assert "version of /usr/bin/ss: ss utility, iproute2-6.1.0" in lines
    assert "$ /usr/bin/ss -t -u -a -n -p -e sport = :8080" in lines
    # The output verbatim, undecodable bytes kept visible as escapes.
    assert 'users:(("web\\xffsrv",pid=999999,fd=3))' in out
    assert lines[-1] == "result: 1 socket(s)"
    assert fake_system.calls == [SS_ARGV, ("/usr/bin/ss", "-V")]


def test_raw_json_document(fake_system: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["8080", "--raw", "--tool", "ss", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["schema"], document["kind"]) == (1, "raw")
    [entry] = document["ports"]
    assert (entry["port"], entry["platform"], entry["error"]) == (8080, "linux", None)
    [backend] = entry["backends"]
    assert (backend["backend"], backend["status"], backend["tools"]) == (
        "ss",
        "answered",
        {"ss": "/usr/bin/ss"},
    )
    assert backend["versions"] == {"/usr/bin/ss": "ss utility, iproute2-6.1.0"}
    [call] = backend["calls"]
    assert (call["argv"], call["returncode"], call["stderr"]) == (list(SS_ARGV), 0, "")
    assert call["stdout"] == SS_OUT.decode("utf-8", "backslashreplace")
    assert [s["pid"] for s in entry["sockets"]] == [999999]


def test_raw_with_a_missing_tool_still_prints_and_exits_2(
    fake_system: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["8080", "--raw", "--tool", "lsof"]) == 2
    out, err = capsys.readouterr()
    assert "backend lsof: unusable (lsof not found (install lsof))" in out
    assert "tool lsof: not found" in out
    assert err.count("\n") == 1
    assert err.startswith("portcheck: no usable tool to list sockets on linux")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads this machine's /proc")
def test_raw_on_a_live_port_shows_the_proc_net_lines(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert main([str(port), "--raw", "--tool", "procfs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "backend procfs: answered" in lines
    start = lines.index(f"--- /proc/net/tcp, lines for port {port} ---")
    assert lines[start + 1].split()[:3] == ["sl", "local_address", "rem_address"]
    fields = lines[start + 2].split()
    assert fields[1] == f"0100007F:{port:04X}"
    assert fields[3] == "0A"  # LISTEN
    assert lines[-1] == "result: 1 socket(s)"


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or SystemRunner().which("ss") is None,
    reason="runs this machine's ss",
)
def test_raw_runs_the_real_ss(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert main([str(port), "--raw", "--tool", "ss"]) == 0
    out = capsys.readouterr().out
    ss = SystemRunner().which("ss")
    assert f"$ {ss} -t -u -a -n -p -e sport = :{port}" in out
    assert f"version of {ss}: ss utility" in out
    assert f"127.0.0.1:{port}" in out


# --- the command as scripts run it ---------------------------------------------------------


def test_the_console_script_exits_with_mains_status_its_objects_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    from portcheck import _cli

    monkeypatch.setattr(_cli, "main", lambda: 3)
    try:
        with pytest.raises(SystemExit) as exited:
            _cli.command()
        assert exited.value.code == 3
        assert gc.get_freeze_count() > 0  # out of the interpreter's last collection
    finally:
        gc.unfreeze()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="runs this machine's tools")
def test_python_dash_m_wait_listening_while_a_server_starts() -> None:
    import threading

    port = quiet_port()  # nobody else takes it while the test runs
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def start() -> None:
        server.bind(("127.0.0.1", port))
        server.listen()

    # Late enough that the child has looked at least once, even on a busy machine.
    timer = threading.Timer(3.0, start)
    timer.start()
    try:
        argv = ["wait", str(port), "--listening", "--json", "--timeout", "20", "--interval", "0.05"]
        done = subprocess.run(
            [sys.executable, "-m", "portcheck", *argv],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        timer.join()
        server.close()
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # not a terminal: no progress line
    document = json.loads(done.stdout)
    assert (document["kind"], document["ok"]) == ("wait", True)
    assert document["polls"] >= 2
    assert [s["pid"] for s in document["sockets"]] == [os.getpid()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="runs this machine's tools")
def test_python_dash_m_wait_free_times_out_exit_1() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "portcheck", "wait", str(port), "--free", "--timeout", "0.3"],
            capture_output=True,
            text=True,
            check=False,
        )
    assert done.returncode == 1
    assert f"port {port} was not free after 0.3 s; last seen: " in done.stderr
    assert str(os.getpid()) in done.stdout


def test_a_reader_that_leaves_ends_the_command_quietly() -> None:
    # `portcheck ... | head`: once the reader is gone, writing fails with EPIPE.
    # `true` exits at once, long before the lookups are done and printed.
    done = subprocess.run(
        ["/bin/sh", "-c", f"'{sys.executable}' -m portcheck 1 2 3 | true"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert "BrokenPipeError" not in done.stderr
    assert "Traceback" not in done.stderr


def test_kill_strict_waits_within_timeout_with_the_progress_line(
    looks: list[list[portcheck.Socket]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from portcheck import StopResult

    remnant = attrs.evolve(
        LISTENER, remote=Endpoint(address="127.0.0.1", port=50000), state=State.TIME_WAIT, pid=None
    )
    ended = StopResult(port=8080, free=True, dry_run=False, owners=(), time_wait=(remnant,))
    monkeypatch.setattr("portcheck._kill.engine.run", lambda *_, **__: ended)
    monkeypatch.setattr("portcheck._lookup.who_owns", lambda *_, **__: [remnant])
    looks[:] = [[remnant]]  # it never clears
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["kill", "8080", "--yes", "--strict", "--timeout", "2"]) == 1
    assert "\rwaiting for port 8080 to be free: 0.0 s of 2 s; on it:" in terminal.text
    assert "2.0 s of 2 s" in terminal.text  # and not a look more: the timeout holds
    assert "3.0 s" not in terminal.text
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("port 8080 is still in use")
    looks[:] = [[remnant], []]  # it clears within the timeout
    assert main(["kill", "8080", "--yes", "--strict", "--timeout", "2", "-q"]) == 0
