"""`portcheck run`: start a server on a usable port, optionally with the socket already bound.

Choosing a port and then starting the server leaves a window in which another
process can take the port. `bind=True` closes it the way systemd's socket
activation does: portcheck binds and listens first, and the command gets the
listening socket as descriptor 3 with `LISTEN_FDS=1`, `LISTEN_PID` and
`LISTEN_FDNAMES` (sd_listen_fds(3)); gunicorn (`--bind fd://3`), uvicorn
(`--fd 3`) and most servers take it from there. Without it the port is
only chosen (and named in `$PORT` and `{port}`); the server binds it itself.

The command replaces portcheck (`exec`): its signals and exit status are its
own, and LISTEN_PID, this process's pid, is the command's pid after exec.
This is the one module allowed to exec (tests/test_security.py); it never
goes through a shell, and it runs only the argv the user gave.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Mapping, Sequence

import attrs

from .._errors import PortInUseError, UnsupportedError
from .._validate import check_port

# What `run` searches when no port is given: away from the well-known ports,
# below the registered database and broker ports most machines run.
DEFAULT_RANGE = (3000, 9999)
# sd_listen_fds(3): the first passed descriptor is 3 (SD_LISTEN_FDS_START).
LISTEN_FD = 3
FD_NAME = "portcheck"


@attrs.frozen(kw_only=True)
class Plan:
    """What `run` will exec: `argv` and `env` with the port in them, and the bound socket."""

    port: int
    argv: tuple[str, ...]
    env: dict[str, str] = attrs.field(repr=False)
    listener: socket.socket | None = attrs.field(default=None, eq=False, repr=False)


def choose(
    *,
    port: int | None = None,
    first: int = DEFAULT_RANGE[0],
    last: int = DEFAULT_RANGE[1],
    next_free: bool = False,
    bind: str | None = None,
    timeout: float = 10.0,
) -> tuple[int, socket.socket | None]:
    """The port to run on, and with `bind` (an address) the socket listening on it.

    `port` alone: that port, or `PortInUseError` naming its owners when
    something uses it. With `next_free`: the first usable port from `port`
    up. Without `port`: the first usable port of `first`-`last`, by
    `find_free_ports`' rules (nothing uses it, not reserved, not
    privileged, not ephemeral, binds). With `bind`, "binds" is the real
    listening socket, kept and returned: no other process can take the port
    between the choice and the command. `NoFreePortError` when none is.
    """
    from .._context import context_for
    from .find import Wanted, search

    context = context_for(timeout=timeout)
    if port is not None:
        port = check_port(port)
        first, last = (port, 65535) if next_free else (port, port)
    wanted = Wanted.checked(first, last, allow_ephemeral=port is not None and not next_free)
    binder = Binder(bind) if bind is not None else None
    found = search(wanted, context, can_bind=binder)
    if found.enough:
        return found.ports[0], None if binder is None else binder.take()
    if port is not None and not next_free:
        from .._lookup import who_owns

        owners = who_owns(port, timeout=timeout)
        raise PortInUseError(port, owners, reason=_reason(found.skipped))
    raise found.error()


def _reason(skipped: Mapping[str, int]) -> str:
    words = {
        "in_use": "in use",
        "reserved": "reserved",
        "privileged": "privileged (needs root)",
        "ephemeral": "in the ephemeral range",
        "bind_refused": "refused by bind",
    }
    return next((words[k] for k, n in skipped.items() if n), "not usable")


class Binder:
    """A `can_bind` for the search that keeps the first listening socket it manages to open."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.listener: socket.socket | None = None

    def __call__(self, port: int, _protocols: Sequence[object]) -> bool:
        if self.listener is not None:
            return False
        try:
            self.listener = listen_on(self.address, port)
        except OSError:
            return False
        return True

    def take(self) -> socket.socket:
        if self.listener is None:
            raise RuntimeError("the search said a port bound, but no socket was kept")
        return self.listener


def listen_on(address: str, port: int) -> socket.socket:
    """A TCP socket listening on `address`:`port`; dual-stack for `::` where the system allows.

    SO_REUSEADDR as servers set it, so that a port left in TIME_WAIT by the
    previous run binds. OSError when the bind fails.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and address in ("::", "::0"):
            # On an IPv6-only system this fails: the socket then serves IPv6 alone.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((address, port))
        sock.listen(socket.SOMAXCONN)
    except BaseException:
        sock.close()
        raise
    return sock


def plan(
    argv: Sequence[str],
    port: int,
    *,
    env_name: str = "PORT",
    listener: socket.socket | None = None,
    environ: Mapping[str, str] | None = None,
) -> Plan:
    """The argv (`{port}` replaced in each argument) and environment to exec with.

    `env_name` is set to the port. With `listener`, the sd_listen_fds
    variables too: `LISTEN_FDS=1`, `LISTEN_PID` (this pid: exec keeps it) and
    `LISTEN_FDNAMES`. ValueError for an empty argv or a bad variable name.
    """
    if not argv:
        raise ValueError("no command to run (put it after --)")
    if not env_name or not all(c.isalnum() or c == "_" for c in env_name) or env_name[0].isdigit():
        raise ValueError(f"not an environment variable name: {env_name!r}")
    env = dict(os.environ if environ is None else environ)
    env[env_name] = str(port)
    for name in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        env.pop(name, None)  # never pass on our own parent's, which name other fds
    if listener is not None:
        env.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES=FD_NAME)
    args = tuple(arg.replace("{port}", str(port)) for arg in argv)
    return Plan(port=port, argv=args, env=env, listener=listener)


def execute(chosen: Plan) -> None:
    """Replace this process with the command; returns only by raising OSError (not found...).

    With a listener, it becomes descriptor 3, inheritable, and nothing else
    of portcheck's is passed on (Python opens every other file close-on-exec).
    """
    if sys.platform == "win32":
        raise UnsupportedError("portcheck run execs the command: POSIX only for now")
    if chosen.listener is not None:
        fd = chosen.listener.fileno()
        if fd != LISTEN_FD:
            os.dup2(fd, LISTEN_FD, inheritable=True)
            chosen.listener.close()
        else:
            os.set_inheritable(LISTEN_FD, True)
    # The one exec of the package (allowed for this module alone by
    # tests/test_security.py): the command takes portcheck's place, so that
    # its pid is LISTEN_PID and its signals and exit status are its own.
    os.execvpe(chosen.argv[0], list(chosen.argv), chosen.env)  # noqa: S606 - see above
