"""`portcheck run`'s library side: choosing the port, the socket handed over, the exec.

The exec is tested in a child process: `python -c` runs `choose`, `plan` and
`execute` as the command will, and the command it execs is a Python child
that reports what it got.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from portcheck._errors import NoFreePortError, PortInUseError
from portcheck._ports.launch import choose, listen_on, plan
from tests.support.ports import quiet_port

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="exec is POSIX")


def held_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_a_free_port_is_used_as_given() -> None:
    port = quiet_port()  # nobody else takes it while the test runs
    assert choose(port=port)[0] == port


def test_a_held_port_is_refused_naming_its_owner() -> None:
    with held_port() as sock:
        port = sock.getsockname()[1]
        with pytest.raises(PortInUseError) as caught:
            choose(port=port)
    assert caught.value.port == port
    assert caught.value.reason == "in use"
    assert any(s.pid == os.getpid() for s in caught.value.owners)


def test_next_takes_the_next_free_port_past_a_held_one() -> None:
    with held_port() as sock:
        port = sock.getsockname()[1]
        if port >= 65535:
            pytest.skip("no port above")
        chosen, listener = choose(port=port, next_free=True)
    assert chosen > port
    assert listener is None


def test_a_range_with_nothing_usable_raises() -> None:
    with held_port() as sock:
        port = sock.getsockname()[1]
        with pytest.raises(NoFreePortError):
            choose(first=port, last=port)


def test_bind_returns_the_listening_socket_on_the_chosen_port() -> None:
    with held_port() as sock:
        port = sock.getsockname()[1]
        chosen, listener = choose(port=port, next_free=True, bind="127.0.0.1")
    assert listener is not None
    with listener:
        assert listener.getsockname()[1] == chosen
        with socket.create_connection(("127.0.0.1", chosen), timeout=10):
            pass  # it listens already: no window in which the port is free


def test_dual_stack_on_the_ipv6_wildcard() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        listener = listen_on("::", 0)
    except OSError:
        pytest.skip("no IPv6 here")
    with listener:
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            pass  # IPv4 reaches the `::` socket


def test_plan_sets_the_port_and_the_listen_variables() -> None:
    with listen_on("127.0.0.1", 0) as listener:
        port = listener.getsockname()[1]
        made = plan(
            ["server", "--port={port}", "{port}"],
            port,
            env_name="HTTP_PORT",
            listener=listener,
            environ={"LISTEN_FDS": "5", "KEEP": "1"},
        )
    assert made.argv == ("server", f"--port={port}", str(port))
    assert made.env == {
        "HTTP_PORT": str(port),
        "KEEP": "1",
        "LISTEN_FDS": "1",
        "LISTEN_PID": str(os.getpid()),
        "LISTEN_FDNAMES": "portcheck",
    }


def test_plan_without_socket_drops_inherited_listen_variables() -> None:
    made = plan(["server"], 8080, environ={"LISTEN_FDS": "2", "LISTEN_PID": "1"})
    assert made.env == {"PORT": "8080"}


@pytest.mark.parametrize("name", ["", "1PORT", "MY-PORT", "A B"])
def test_bad_variable_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="environment variable"):
        plan(["server"], 8080, env_name=name)


def test_an_empty_command_is_refused() -> None:
    with pytest.raises(ValueError, match="no command"):
        plan([], 8080)


LAUNCHER = """
import sys
from portcheck._ports.launch import choose, execute, plan
port, listener = choose(port=int(sys.argv[1]), next_free=True, bind="127.0.0.1")
execute(plan(sys.argv[2:], port, listener=listener))
"""

CHILD = """
import json, os, socket, sys
env = {k: os.environ.get(k) for k in ("PORT", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")}
sock = socket.socket(fileno=3)
print(json.dumps({"pid": os.getpid(), "env": env, "argv": sys.argv[1:],
                  "port": sock.getsockname()[1]}), flush=True)
conn, _ = sock.accept()
conn.sendall(b"hello")
conn.close()
sys.exit(7)
"""


def test_the_socket_reaches_the_command_as_fd_3_and_the_status_passes_through() -> None:
    with held_port() as sock:
        start = sock.getsockname()[1]
        if start >= 65535:
            pytest.skip("no port above")
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(start), sys.executable, "-c", CHILD, "{port}"],
            stdout=subprocess.PIPE,
            text=True,
        )
    assert proc.stdout is not None
    with proc.stdout:
        report = json.loads(proc.stdout.readline())
    port = report["port"]
    assert report["pid"] == proc.pid  # exec: the command is the process portcheck was
    assert report["env"] == {
        "PORT": str(port),
        "LISTEN_FDS": "1",
        "LISTEN_PID": str(proc.pid),
        "LISTEN_FDNAMES": "portcheck",
    }
    assert report["argv"] == [str(port)]
    assert port > start
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        assert client.recv(5) == b"hello"
    assert proc.wait(timeout=30) == 7


def test_a_command_that_is_not_found_raises() -> None:
    script = textwrap.dedent(
        """
        from portcheck._ports.launch import execute, plan
        try:
            execute(plan(["/nonexistent/command"], 8080))
        except FileNotFoundError:
            raise SystemExit(42)
        """
    )
    assert subprocess.run([sys.executable, "-c", script], check=False).returncode == 42
