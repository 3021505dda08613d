"""The only module that starts processes.

Every tool runs by absolute path, from a list argv built of constant flags and
validated integers, without a shell, with stdin closed, a minimal environment
(`LC_ALL=C` so that state words and headers are not translated) and a timeout
that kills the tool and every child it started. Output is returned as bytes;
each backend decodes it explicitly.

One exception, `run_command`: `portcheck run` starts the user's own command
where it cannot exec it (Windows) or must stay beside it (`--wait-open`).
That argv is the user's by design (what `run` is for), still never a shell.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Callable, NamedTuple, Protocol

from ._errors import ToolError, ToolTimeoutError

if TYPE_CHECKING:
    import subprocess

# subprocess, selectors and signal are imported where a tool is started, not
# here: the default lookup on Linux starts none (sock_diag and /proc), and they
# cost a fifth of the command's start-up (bench/startup.py).

# Ordinary users often lack the sbin directories on PATH, where ss, netstat and
# lsof may live, so these are searched after PATH.
_EXTRA_DIRS = ("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin")
_CHILD_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
_CHUNK = 65536
# A tool that floods its output (a broken build, `yes` in its place) is killed
# here: unbounded, it filled memory at about 500 MB/s until the timeout. The
# largest real output, netstat listing every socket, is about 150 bytes per
# socket, so this leaves room for over 400,000 sockets.
MAX_OUTPUT = 64 * 1024 * 1024


class _OutputTooLargeError(Exception):
    """Internal: the tool printed more than MAX_OUTPUT bytes on one stream."""


class Completed(NamedTuple):
    """What a finished tool left: its argv, exit status and raw output.

    A NamedTuple, as `SystemRunner` is a plain class: this module is imported
    at every start of the command, where an attrs class costs ten times more.
    """

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes


class Runner(Protocol):
    """Finds and runs tools. Backends receive one, so tests can replay captures."""

    def which(self, name: str) -> str | None:
        """Absolute path of the tool `name`, or None when it is not installed."""

    def run(self, argv: Sequence[str], *, timeout: float) -> Completed:
        """Run argv (argv[0] absolute) to completion, or raise ToolTimeoutError."""


def _search_dirs() -> list[str]:
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if os.path.isabs(d)]
    # A relative PATH entry (".", "") would let the current directory supply the
    # tool; it is skipped on purpose.
    return dirs + [d for d in _EXTRA_DIRS if d not in dirs]


def _child_env(pass_env: tuple[str, ...] = ()) -> dict[str, str]:
    if sys.platform == "win32":
        keep = ("SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT", "TEMP", "TMP", *pass_env)
        return {k: v for k, v in os.environ.items() if k.upper() in keep}
    env = {"LC_ALL": "C", "LANG": "C", "PATH": _CHILD_PATH}
    env.update((k, os.environ[k]) for k in pass_env if k in os.environ)
    return env


# What the ssh client needs beyond the minimal environment: the user's agent
# and home (its config and keys). Passed to the ssh child only, never to the
# local tools (see `SystemRunner.pass_env`).
SSH_ENV = ("SSH_AUTH_SOCK", "HOME")


class SystemRunner:
    """Runs tools on this machine.

    `pass_env` names the variables of this process passed on to the child
    besides the minimal environment; empty for the tools, `SSH_ENV` for ssh.
    A plain class, not an attrs one: every start of the command makes one,
    and an attrs class costs about ten times more to define (bench/startup.py).
    """

    __slots__ = ("pass_env",)

    def __init__(self, pass_env: tuple[str, ...] = ()) -> None:
        self.pass_env = pass_env

    def __repr__(self) -> str:
        return f"SystemRunner(pass_env={self.pass_env!r})"

    def which(self, name: str) -> str | None:
        for directory in _search_dirs():
            path = os.path.join(directory, name)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
        return None

    def run(self, argv: Sequence[str], *, timeout: float) -> Completed:
        import subprocess

        argv = tuple(argv)
        if not os.path.isabs(argv[0]):
            raise ValueError(f"tools run by absolute path only, not {argv[0]!r}")
        deadline = time.monotonic() + timeout
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_env(self.pass_env),
            close_fds=True,
            # Own process group, so a timeout can kill the tool's children too.
            start_new_session=sys.platform != "win32",
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
        try:
            if sys.platform == "win32":
                stdout, stderr = proc.communicate(timeout=timeout)
            else:
                stdout, stderr = _read_all(proc, deadline)
                _wait_exit(proc, deadline)
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise ToolTimeoutError(argv, timeout) from None
        except _OutputTooLargeError as exc:
            _kill(proc)
            raise ToolError(argv, proc.returncode, str(exc)) from None
        except BaseException:
            _kill(proc)
            raise
        return Completed(argv=argv, returncode=proc.returncode, stdout=stdout, stderr=stderr)


def _read_all(proc: subprocess.Popen[bytes], deadline: float) -> tuple[bytes, bytes]:
    """Read stdout and stderr to EOF before the deadline (raises TimeoutExpired)."""
    import selectors
    import subprocess

    if proc.stdout is None or proc.stderr is None:  # pragma: no cover - both are PIPE
        raise ValueError("the tool's output is not piped")
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    chunks: dict[int, list[bytes]] = {out_fd: [], err_fd: []}
    sizes = {out_fd: 0, err_fd: 0}
    with selectors.DefaultSelector() as selector:
        selector.register(out_fd, selectors.EVENT_READ)
        selector.register(err_fd, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise subprocess.TimeoutExpired(proc.args, 0)
            for key, _ in selector.select(remaining):
                data = os.read(key.fd, _CHUNK)
                if data:
                    chunks[key.fd].append(data)
                    sizes[key.fd] += len(data)
                    if sizes[key.fd] > MAX_OUTPUT:
                        stream = "stdout" if key.fd == out_fd else "stderr"
                        raise _OutputTooLargeError(
                            f"printed more than {MAX_OUTPUT} bytes on {stream} and was killed"
                        )
                else:
                    selector.unregister(key.fd)
    proc.stdout.close()
    proc.stderr.close()
    return b"".join(chunks[out_fd]), b"".join(chunks[err_fd])


def _wait_exit(proc: subprocess.Popen[bytes], deadline: float) -> None:
    """Reap the tool once its output is closed, without the polling of `wait(timeout)`.

    `Popen.wait(timeout)` sleeps in growing steps; for a tool that runs a few
    milliseconds that added a large share of the wall time. A pidfd (Linux 5.3+)
    becomes readable exactly when the process exits.
    """
    import selectors
    import subprocess

    remaining = deadline - time.monotonic()
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is not None:
        try:
            pidfd = pidfd_open(proc.pid)
        except OSError:
            pidfd = -1
        if pidfd >= 0:
            try:
                with selectors.DefaultSelector() as selector:
                    selector.register(pidfd, selectors.EVENT_READ)
                    if not selector.select(max(remaining, 0)):
                        raise subprocess.TimeoutExpired(proc.args, remaining)
            finally:
                os.close(pidfd)
    proc.wait(timeout=max(deadline - time.monotonic(), 0.001))


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the tool and its process group, then reap it so no zombie is left."""
    import contextlib
    import signal

    if sys.platform != "win32":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.kill()
    proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def run_command(
    argv: Sequence[str], env: Mapping[str, str], *, started: Callable[[int], None] | None = None
) -> int:
    """`portcheck run`'s command as a child with portcheck's stdin, stdout and stderr; its status.

    SIGINT, SIGTERM and SIGHUP received meanwhile are passed on to it, so
    that stopping portcheck stops the command. `started(pid)` is called once
    it runs. A command killed by signal N gives 128 + N, as a shell says.
    OSError (FileNotFoundError, PermissionError) when it cannot start.
    """
    import contextlib
    import signal
    import subprocess

    proc = subprocess.Popen(list(argv), env=dict(env))  # the user's command: no shell

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)

    names = ("SIGINT", "SIGTERM", "SIGHUP")
    caught = [getattr(signal, n) for n in names if hasattr(signal, n)]
    previous = {s: signal.signal(s, forward) for s in caught}
    try:
        if started is not None:
            started(proc.pid)
        code = proc.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - code if code < 0 else code
