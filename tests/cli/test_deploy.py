"""The deploy and operator commands as whole processes: wait --open, watch, run, list filters.

Every socket here is the test's own (bound to port 0 and kept), so that the
tests pass on a busy machine; nothing asserts a duration.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from tests.support.hold import Holders

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and exec")

COMMAND = [sys.executable, "-m", "portcheck"]


def portcheck(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *argv], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def bound() -> Iterator[socket.socket]:
    """A loopback port held without listening: connects are refused until listen()."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock


def address(sock: socket.socket) -> str:
    return f"127.0.0.1:{sock.getsockname()[1]}"


# --- wait --open ------------------------------------------------------------------


def test_wait_open_succeeds_once_a_late_listener_answers(bound: socket.socket) -> None:
    timer = threading.Timer(1.0, bound.listen)
    timer.start()
    try:
        done = portcheck("wait", address(bound), "--open", "--timeout", "30", "--interval", "0.1")
    finally:
        timer.join()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{address(bound)} is open (after ")
    assert done.stderr == ""  # not a terminal: no progress line


def test_wait_open_times_out_naming_the_targets_still_down(bound: socket.socket) -> None:
    with socket.socket() as up:
        up.bind(("127.0.0.1", 0))
        up.listen()
        answers = address(up)
        done = portcheck(
            "wait", answers, address(bound), "name.invalid:80", "--open", "--timeout", "1"
        )
    assert done.returncode == 1
    assert f"{address(bound)} is not open after 1 s (last try: refused)" in done.stderr
    assert "name.invalid:80 is not open after 1 s (last try: name not resolved)" in done.stderr
    assert answers in done.stdout


def test_wait_open_json(bound: socket.socket) -> None:
    done = portcheck("wait", address(bound), "--open", "--timeout", "0.5", "--json")
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert (document["kind"], document["condition"], document["ok"]) == ("wait", "open", False)
    assert document["targets"] == [
        {"target": address(bound), "open": False, "elapsed": None, "last_error": "refused"}
    ]


@pytest.mark.parametrize("target", ["host:", "user@host:22", "70000", "a b:1"])
def test_wait_open_bad_target_exits_2(target: str) -> None:
    done = portcheck("wait", target, "--open", "--timeout", "1")
    assert done.returncode == 2
    assert done.stderr.startswith("portcheck: ")
    assert "Traceback" not in done.stderr


# --- watch ------------------------------------------------------------------------


def start_watch(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COMMAND, "watch", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_json_line(proc: subprocess.Popen[str]) -> dict[str, object]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else "watch ended"
    event: dict[str, object] = json.loads(line)
    return event


def test_watch_json_reports_present_opened_and_closed(bound: socket.socket) -> None:
    port = bound.getsockname()[1]
    with socket.socket() as present:
        present.bind(("127.0.0.1", 0))
        present.listen()
        other = present.getsockname()[1]
        ports = f"{port},{other}"
        proc = start_watch("--json", "--interval", "0.2", "--port", ports)
        try:
            first = read_json_line(proc)
            assert (first["kind"], first["event"], first["schema"]) == ("event", "present", 1)
            assert first["socket"]["local"]["port"] == other  # type: ignore[index]
            bound.listen()
            opened = read_json_line(proc)
            assert (opened["event"], opened["socket"]["local"]["port"]) == ("opened", port)  # type: ignore[index]
            bound.close()
            closed = read_json_line(proc)
            assert (closed["event"], closed["socket"]["local"]["port"]) == ("closed", port)  # type: ignore[index]
            assert closed["exposed_dynamic"] is False
        finally:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "Traceback" not in err
    for line in out.splitlines():
        json.loads(line)  # every line is a whole JSON document


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_watch_ends_cleanly_on_a_signal(bound: socket.socket, sig: int) -> None:
    bound.listen()
    proc = start_watch("--json", "--interval", "0.2", "--port", str(bound.getsockname()[1]))
    read_json_line(proc)  # it runs: the present listener was printed
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert err == ""


def test_watch_alert_exits_1_at_the_first_change(bound: socket.socket) -> None:
    # A listener present from the start proves the first poll happened (present
    # events never alert); then the held port starts listening.
    with socket.socket() as present:
        present.bind(("127.0.0.1", 0))
        present.listen()
        ports = f"{bound.getsockname()[1]},{present.getsockname()[1]}"
        proc = start_watch("--alert", "--json", "--interval", "0.2", "--port", ports)
        try:
            assert read_json_line(proc)["event"] == "present"
            bound.listen()
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 1, err
    event = json.loads(out)
    assert (event["event"], event["socket"]["local"]["port"]) == ("opened", bound.getsockname()[1])


def test_watch_refuses_a_bad_filter() -> None:
    done = portcheck("watch", "--state", "OPEN")
    assert done.returncode == 2
    assert "not a TCP state" in done.stderr


# --- run ----------------------------------------------------------------------------

CHILD = """
import json, os, sys
print(json.dumps({"pid": os.getpid(), "port": os.environ.get("PORT"),
                  "web": os.environ.get("WEB"), "argv": sys.argv[1:],
                  "listen_fds": os.environ.get("LISTEN_FDS")}), flush=True)
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 0)
"""


def test_run_sets_port_and_replaces_it_in_the_arguments() -> None:
    done = portcheck("run", "--env", "WEB", "--", sys.executable, "-c", CHILD, "x{port}y")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    port = int(report["web"])
    assert 3000 <= port <= 9999
    assert report["argv"] == [f"x{port}y"]
    assert report["listen_fds"] is None
    assert f"port {port}" in done.stderr  # portcheck's own words go to stderr


def test_run_passes_the_exit_status_through() -> None:
    done = portcheck("run", "--", sys.executable, "-c", CHILD, "7")
    assert done.returncode == 7


def test_run_on_a_held_port_names_its_owner_and_exits_1() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = portcheck("run", "--port", str(port), "--", sys.executable, "-c", CHILD)
    assert done.returncode == 1
    assert f"port {port} is in use: held by" in done.stderr
    assert f"pid {os.getpid()}" in done.stderr
    assert done.stdout == ""  # the command never ran


def test_run_next_takes_the_next_port_past_a_held_one() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        if port >= 65535:
            pytest.skip("no port above")
        done = portcheck("run", "--port", str(port), "--next", "--", sys.executable, "-c", CHILD)
    assert done.returncode == 0, done.stderr
    assert int(json.loads(done.stdout)["port"]) > port


SERVER = """
import os, socket, sys
assert os.environ["LISTEN_PID"] == str(os.getpid())
sock = socket.socket(fileno=3)
print(sock.getsockname()[1], os.environ["PORT"], os.environ["LISTEN_FDNAMES"], flush=True)
conn, _ = sock.accept()
conn.sendall(b"from fd 3")
conn.close()
"""


def test_run_socket_hands_the_listener_to_the_command_as_fd_3() -> None:
    proc = subprocess.Popen(
        [*COMMAND, "run", "--socket", "--", sys.executable, "-c", SERVER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        bound_port, env_port, names = proc.stdout.readline().split()
        assert bound_port == env_port
        assert names == "portcheck"
        with socket.create_connection(("127.0.0.1", int(bound_port)), timeout=30) as client:
            assert client.recv(9) == b"from fd 3"
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err


SLEEPER = """
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(42))
print("ready", flush=True)
time.sleep(600)
"""


def test_run_signals_reach_the_command_itself() -> None:
    proc = subprocess.Popen(
        [*COMMAND, "run", "--", sys.executable, "-c", SLEEPER],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)  # to the pid portcheck had: exec made it the command
        assert proc.wait(timeout=60) == 42
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["run"], "no command"),
        (["run", "--next", "--", "true"], "--next goes with --port"),
        (["run", "--bind", "::", "--", "true"], "--bind goes with --socket"),
        (["run", "--env", "1X", "--", "true"], "environment variable"),
    ],
)
def test_run_bad_input_exits_2(argv: list[str], words: str) -> None:
    done = portcheck(*argv)
    assert done.returncode == 2
    assert words in done.stderr


def test_run_a_missing_command_exits_127() -> None:
    done = portcheck("run", "--", "/nonexistent/server")
    assert done.returncode == 127
    assert "command not found" in done.stderr


# --- list filters and --wide -------------------------------------------------------


def test_list_filters_and_wide_json() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        done = portcheck(
            "list", "--port", str(port), "--pid", str(os.getpid()), "--state", "listen",
            "--wide", "--json",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [entry] = json.loads(done.stdout)["sockets"]
    assert (entry["local"]["port"], entry["pid"]) == (port, os.getpid())
    assert entry["cwd"] == os.getcwd()
    assert entry["exe"] == os.readlink(f"/proc/{os.getpid()}/exe")
    assert entry["parent"] == os.getppid()
    assert entry["parents"][0] == {"pid": os.getppid(), "process": entry["parents"][0]["process"]}
    assert entry["started"] is not None


def test_list_wide_is_one_line_per_socket() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        done = portcheck("list", "--port", str(port), "--wide")
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    assert line.startswith(f"{port}  tcp  127.0.0.1:{port}  {os.getpid()}  ")
    assert f"cwd={os.getcwd()}" in line
    assert "exe=" in line
    assert "started=" in line
    assert "cmd=" in line


def test_run_kill_without_a_terminal_needs_yes(holders: Holders) -> None:
    held = holders.start([["tcp-listen", "127.0.0.1"]])
    port = held.ports[0]
    done = portcheck("run", "--port", str(port), "--kill", "--", sys.executable, "-c", CHILD)
    assert done.returncode == 2
    assert "pass --yes" in done.stderr
    assert done.stdout == ""
    assert held.proc.poll() is None  # nothing was stopped


def test_run_kill_yes_stops_the_owner_then_runs_on_the_port(holders: Holders) -> None:
    held = holders.start([["tcp-listen", "127.0.0.1"]])
    port = held.ports[0]
    done = portcheck(
        "run", "--port", str(port), "--kill", "--yes", "--", sys.executable, "-c", CHILD
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["port"] == str(port)
    assert held.proc.wait(timeout=60) != 0  # stopped by a signal


LATE_SERVER = """
import os, socket, sys, time
time.sleep(1)
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", int(os.environ["PORT"])))
sock.listen()
conn, _ = sock.accept()  # portcheck's probe
conn.close()
sys.exit(5)
"""


def test_run_wait_open_says_when_the_command_accepts() -> None:
    done = portcheck("run", "--wait-open", "--timeout", "30", "--", sys.executable, "-c",
                     LATE_SERVER)  # fmt: skip
    assert done.returncode == 5, done.stderr  # the child's status, passed through
    assert " accepts connections on port " in done.stderr


def test_run_wait_open_says_when_the_command_never_accepts() -> None:
    done = portcheck("run", "--wait-open", "--timeout", "1", "--", sys.executable, "-c",
                     "import time; time.sleep(3)")  # fmt: skip
    assert done.returncode == 0
    assert "did not accept connections" in done.stderr
    assert "(last try: refused)" in done.stderr


def test_run_wait_open_passes_sigterm_to_the_command() -> None:
    proc = subprocess.Popen(
        [*COMMAND, "run", "--wait-open", "--", sys.executable, "-c", SLEEPER],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)  # to portcheck, which passes it on
        assert proc.wait(timeout=60) == 42
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_run_wait_open_with_socket_is_refused() -> None:
    done = portcheck("run", "--wait-open", "--socket", "--", "true")
    assert done.returncode == 2
    assert "nothing to wait for" in done.stderr


def test_without_exec_the_command_runs_as_a_child_with_its_status(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Windows has no exec: run_main runs the command and returns its status.
    import types

    from portcheck import _cli_deploy

    windows = types.SimpleNamespace(platform="win32", stderr=sys.stderr, stdout=sys.stdout)
    monkeypatch.setattr(_cli_deploy, "sys", windows)
    status = _cli_deploy.run_main(
        [sys.executable, "-c", "import os, sys; sys.exit(int(os.environ['PORT']) % 100 + 1)"],
        port=None,
        port_range=None,
        next_free=False,
        env_name="PORT",
        use_socket=False,
        bind=None,
        timeout=10,
        quiet=True,
    )
    assert 1 <= status <= 100
