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

import re

from .._errors import ToolError
from .._parsers import netstat_bsd as _netstat_bsd
from .._parsers import sockstat as _sockstat
from .._records import Platform, Socket
from .._run import Completed
from .context import Context, ToolUnusableError, decode, on_port, tool_path
from .posix import full_names, lsof_sockets, netstat_an, with_commands

_PORT = "PORT"  # placeholder in the flag lists below, replaced by the port number
# Newest first: FreeBSD grew `-P` (protocols) in 10 and `-s` (state) in 12, so
# an older sockstat rejects the first set with a usage message, and the next set
# uses only options every supported release has (`-4`, `-6`, `-p`). NetBSD's
# sockstat resolves names unless given `-n`.
_SOCKSTAT_FLAGS: dict[Platform, tuple[tuple[str, ...], ...]] = {
    Platform.FREEBSD: (("-4", "-6", "-s", "-P", "tcp,udp", "-p", _PORT), ("-4", "-6", "-p", _PORT)),
    Platform.NETBSD: (("-n", "-p", _PORT), ("-n",)),
}
_USAGE = re.compile(rb"usage|illegal option|invalid option|unknown option", re.IGNORECASE)
# sockstat cuts COMMAND to this many characters (`%.10s` in sockstat.c).
SOCKSTAT_NAME_WIDTH = 10


def lookup_sockstat(port: int | None, ctx: Context) -> list[Socket]:
    """Sockets on `port` from sockstat, names completed by `ps` where sockstat cut them."""
    path = tool_path(ctx, "sockstat", "the base system")
    done = _run_sockstat(path, port, ctx)
    found = on_port(_sockstat.parse(decode(done.stdout)), port)
    return with_commands(full_names(found, ctx, SOCKSTAT_NAME_WIDTH), ctx)


def _run_sockstat(path: str, port: int | None, ctx: Context) -> Completed:
    failure: ToolError | None = None
    for flags in _SOCKSTAT_FLAGS.get(ctx.platform, _SOCKSTAT_FLAGS[Platform.FREEBSD]):
        argv = [path, *_with_port(flags, port)]
        done = ctx.runner.run(argv, timeout=ctx.timeout)
        if done.returncode == 0:
            return done
        failure = ToolError(argv, done.returncode, decode(done.stderr))
        if not _USAGE.search(done.stderr):
            break  # a real failure, not an option this version lacks
    raise ToolUnusableError(f"sockstat failed: {failure}")


def _with_port(flags: tuple[str, ...], port: int | None) -> list[str]:
    """`flags` with the port in place of `PORT`; without `-p PORT` when listing (None)."""
    if port is None:
        return [f for i, f in enumerate(flags) if f != _PORT and flags[i + 1 : i + 2] != (_PORT,)]
    return [str(port) if flag == _PORT else flag for flag in flags]


def lookup_lsof(port: int | None, ctx: Context) -> list[Socket]:
    """Sockets on `port` from lsof (a FreeBSD package); without root, plus what netstat sees."""
    return with_commands(lsof_sockets(port, ctx, confirm=lookup_netstat), ctx)


def lookup_netstat(port: int | None, ctx: Context) -> list[Socket]:
    """Sockets on `port` from `netstat -an`: proof of use, owner hidden (pid None)."""
    return netstat_an(ctx, _netstat_bsd.parse)
