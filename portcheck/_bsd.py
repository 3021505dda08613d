"""Backends for FreeBSD, NetBSD and OpenBSD, and the tool runs macOS shares with them.

- FreeBSD: `sockstat` (base system), then `lsof` (package), then `netstat -an`.
- NetBSD: `sockstat`, then `netstat -an`.
- OpenBSD: `netstat -an`: in use or free, owner hidden. OpenBSD's `fstat`
  reports owners, but no real capture of it was at hand to test its socket
  rows against, and without root it lists only the caller's own files.

A tool that is missing, or that runs and fails, makes its backend unusable:
the next tool is tried, and the failure is named if none can look.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Callable

import attrs

from . import _lsof, _netstat_bsd, _sockstat
from ._backend import Context, ToolUnusableError, decode, run_checked, tool_path
from ._errors import ToolError
from ._records import Socket
from ._run import Completed

LSOF_FLAGS = ("-n", "-P", "-w", "-b", "-S", "2", "+c", "0", "-F", "pcuLftPnT", "-i")
_PORT = "PORT"  # placeholder in the flag lists below, replaced by the port number
# Newest first: FreeBSD grew `-P` (protocols) in 10 and `-s` (state) in 12, so
# an older sockstat rejects the first set with a usage message, and the next set
# uses only options every supported release has (`-4`, `-6`, `-p`). NetBSD's
# sockstat resolves names unless given `-n`.
_SOCKSTAT_FLAGS: dict[str, tuple[tuple[str, ...], ...]] = {
    "freebsd": (("-4", "-6", "-s", "-P", "tcp,udp", "-p", _PORT), ("-4", "-6", "-p", _PORT)),
    "netbsd": (("-n", "-p", _PORT), ("-n",)),
}
_USAGE = re.compile(rb"usage|illegal option|invalid option|unknown option", re.IGNORECASE)
# sockstat cuts COMMAND to this many characters (`%.10s` in sockstat.c).
SOCKSTAT_NAME_WIDTH = 10

Lookup = Callable[[int, Context], "list[Socket]"]


def lookup_sockstat(port: int, ctx: Context) -> list[Socket]:
    """Sockets on `port` from sockstat, names completed by `ps` where sockstat cut them."""
    path = tool_path(ctx, "sockstat", "the base system")
    done = _run_sockstat(path, port, ctx)
    found = [s for s in _sockstat.parse(decode(done.stdout)) if s.local.port == port]
    return full_names(found, ctx, SOCKSTAT_NAME_WIDTH)


def _run_sockstat(path: str, port: int, ctx: Context) -> Completed:
    failure: ToolError | None = None
    for flags in _SOCKSTAT_FLAGS.get(ctx.platform, _SOCKSTAT_FLAGS["freebsd"]):
        argv = [path, *(str(port) if flag == _PORT else flag for flag in flags)]
        done = ctx.runner.run(argv, timeout=ctx.timeout)
        if done.returncode == 0:
            return done
        failure = ToolError(argv, done.returncode, decode(done.stderr))
        if not _USAGE.search(done.stderr):
            break  # a real failure, not an option this version lacks
    raise ToolUnusableError(f"sockstat failed: {failure}")


def lookup_lsof(port: int, ctx: Context) -> list[Socket]:
    """Sockets on `port` from lsof (a FreeBSD package); without root, plus what netstat sees."""
    return lsof_sockets(port, ctx, confirm=lookup_netstat)


def lookup_netstat(port: int, ctx: Context) -> list[Socket]:
    """Sockets on `port` from `netstat -an`: proof of use, owner hidden (pid None)."""
    return netstat_an(port, ctx, _netstat_bsd.parse)


def lsof_sockets(port: int, ctx: Context, *, confirm: Lookup) -> list[Socket]:
    """Run lsof for `port`; without root, add the sockets `confirm` sees that lsof did not.

    lsof run without root lists nothing of other users' processes (and exits
    1 when that leaves nothing, exactly as for a free port: platform-notes,
    "Every platform"); on macOS this is the normal case for system daemons.
    netstat sees every socket, owner or not: its sockets that lsof did not
    list are another user's, reported with the owner hidden, whether or not
    lsof found sockets of our own on the same port.
    """
    path = tool_path(ctx, "lsof", "lsof")
    argv = [path, *LSOF_FLAGS, f":{port}"]
    done = ctx.runner.run(argv, timeout=ctx.timeout)
    if done.returncode == 1 and not done.stdout and not done.stderr:
        found: list[Socket] = []  # lsof's "no file matched"
    elif done.returncode != 0:
        raise ToolUnusableError(
            f"lsof failed: {ToolError(argv, done.returncode, decode(done.stderr))}"
        )
    else:
        found = [s for s in _lsof.parse(decode(done.stdout)) if s.local.port == port]
    if is_root():
        return found
    seen = {_socket_key(s) for s in found}
    return found + [s for s in confirm(port, ctx) if _socket_key(s) not in seen]


def _socket_key(sock: Socket) -> tuple[object, ...]:
    return (sock.protocol, sock.family, sock.local.address, sock.local.port, sock.remote)


def is_root() -> bool:
    """True when this process runs as root (never on Windows, which has no euid)."""
    geteuid: Callable[[], int] | None = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


def netstat_an(port: int, ctx: Context, parse: Callable[[str], list[Socket]]) -> list[Socket]:
    """Sockets on `port` from `netstat -an`, read by `parse`."""
    path = tool_path(ctx, "netstat", "the base system")
    done = run_checked(ctx, [path, "-an"])
    return [s for s in parse(decode(done.stdout)) if s.local.port == port]


def full_names(sockets: Sequence[Socket], ctx: Context, width: int) -> list[Socket]:
    """`sockets` with names missing or cut at `width` characters replaced by `ps`'s.

    `ps` is optional: without it the names stay as the tool printed them.
    """
    ps = ctx.runner.which("ps")
    if ps is None:
        return list(sockets)
    names: dict[int, str | None] = {}
    for pid in {s.pid for s in sockets if s.pid is not None and _is_cut(s.process, width)}:
        names[pid] = ps_name(ps, pid, ctx)
    return [_renamed(s, names) for s in sockets]


def _is_cut(name: str | None, width: int) -> bool:
    return name is None or len(name) >= width


def _renamed(sock: Socket, names: dict[int, str | None]) -> Socket:
    full = names.get(sock.pid) if sock.pid is not None else None
    # The prefix check keeps a pid reused since the tool ran from renaming the row.
    if full is None or not full.startswith(sock.process or ""):
        return sock
    return attrs.evolve(sock, process=full)


def ps_name(ps: str, pid: int, ctx: Context) -> str | None:
    """The command name of `pid` from `ps -o comm= -p PID`, or None when it has exited.

    macOS `ps` prints the executable's full path there; the base name is the
    process name the other tools show.
    """
    done = ctx.runner.run([ps, "-o", "comm=", "-p", str(pid)], timeout=ctx.timeout)
    lines = decode(done.stdout).strip().splitlines()
    if done.returncode != 0 or not lines:
        return None
    return lines[0].strip().rsplit("/", 1)[-1] or None
