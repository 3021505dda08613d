"""Backends for FreeBSD, NetBSD and OpenBSD, and the tool runs macOS shares with them.

- FreeBSD: `sockstat` (base system), then `lsof` (package), then `netstat -an`.
- NetBSD: `sockstat`, then `netstat -an`.
- OpenBSD: `fstat -n` for the owners, merged with `netstat -an` for the TCP
  states and, without root, for the sockets of other users (fstat then lists
  only the caller's own files); then `netstat -an` alone (owner hidden).

A tool that is missing, or that runs and fails, makes its backend unusable:
the next tool is tried, and the failure is named if none can look.

Command lines come from `ps -ww -o pid= -o args=`; on FreeBSD the same run
asks for the jail too (`ps -ww -o pid=,jid=,args=`): a process in a jail
(jid other than 0) gets `Container(runtime="jail", id=JID)`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from .._errors import ToolError
from .._parsers import fstat as _fstat
from .._parsers import netstat_bsd as _netstat_bsd
from .._parsers import sockstat as _sockstat
from .._parsers.ps import parse_jails
from .._records import Container, NoOwner, Platform, Protocol, Socket, socket_key
from .._run import Completed
from .context import Context, ToolUnusableError, decode, on_port, tool_path
from .posix import full_names, lsof_sockets, netstat_an, ps_outputs, with_commands

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
    return _identified(full_names(found, ctx, SOCKSTAT_NAME_WIDTH), ctx)


def _identified(sockets: Sequence[Socket], ctx: Context) -> list[Socket]:
    if ctx.platform is Platform.FREEBSD:
        return with_jails(sockets, ctx)
    return with_commands(sockets, ctx)


def with_jails(sockets: Sequence[Socket], ctx: Context) -> list[Socket]:
    """FreeBSD: each owner's argv and jail from `ps -ww -o pid=,jid=,args=`, pids in chunks.

    ps is optional and its failure is not the lookup's: the fields then stay
    None. Jail 0 is the host itself (no container).
    """
    pids = sorted({s.pid for s in sockets if s.pid is not None and s.pid > 0})
    found: dict[int, tuple[int, tuple[str, ...]]] = {}
    for text in ps_outputs(ctx, ("-ww", "-o", "pid=,jid=,args="), pids):
        found.update(parse_jails(text))
    return [_jailed(s, found.get(s.pid)) if s.pid is not None else s for s in sockets]


def _jailed(sock: Socket, found: tuple[int, tuple[str, ...]] | None) -> Socket:
    if found is None:
        return sock
    jid, command = found
    jail = Container(runtime="jail", id=str(jid)) if jid else None
    return attrs.evolve(sock, command=command, container=jail)


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
    return _identified(lsof_sockets(port, ctx, confirm=lookup_netstat), ctx)


def lookup_netstat(port: int | None, ctx: Context) -> list[Socket]:
    """Sockets on `port` from `netstat -an`: proof of use, owner hidden (pid None)."""
    return netstat_an(ctx, _netstat_bsd.parse)


# OpenBSD fstat: `-n` prints device numbers instead of looking up mount points
# and device names; socket rows are the same with or without it.
FSTAT_FLAGS = ("-n",)


def lookup_fstat(port: int | None, ctx: Context) -> list[Socket]:
    """OpenBSD: owners from `fstat -n`, states and unseen sockets from `netstat -an`.

    As root fstat lists every process's files, so it names every owner; it
    prints no TCP state, which netstat adds. Without root fstat lists only the
    caller's own files: netstat's sockets that fstat did not list are
    another user's, reported with the owner hidden, never dropped. A netstat
    that cannot run leaves root with fstat's answer (states unknown) and
    fails the lookup otherwise: own sockets alone could read as "free".
    """
    path = tool_path(ctx, "fstat", "the base system")
    argv = [path, *FSTAT_FLAGS]
    done = ctx.runner.run(argv, timeout=ctx.timeout)
    if done.returncode != 0:
        raise ToolUnusableError(
            f"fstat failed: {ToolError(argv, done.returncode, decode(done.stderr))}"
        )
    owned = on_port(_fstat.parse(decode(done.stdout)), port)
    try:
        listed = on_port(lookup_netstat(port, ctx), port)
    except (ToolUnusableError, ToolError):
        if not ctx.privileged:
            raise
        return owned
    return merge_fstat(owned, listed)


def merge_fstat(owned: Sequence[Socket], listed: Sequence[Socket]) -> list[Socket]:
    """fstat's records (`owned`) with netstat's states, plus netstat's rows fstat lacks.

    A netstat row is fstat's socket when their protocol, family and both
    addresses agree (`socket_key`). netstat cuts IPv6 addresses to 16
    characters, so a socket left unmatched is then matched on protocol,
    family and the two ports alone, if exactly one netstat row is left with
    them. fstat's sockets no row matches are kept (state unknown); netstat's
    rows fstat did not list are kept with the owner hidden. Two sockets with
    the same addresses (SO_REUSEPORT) of which fstat listed one read as one.
    """
    rows: dict[tuple[object, ...], list[Socket]] = {}
    for row in listed:
        rows.setdefault(socket_key(row), []).append(row)
    matched: set[tuple[object, ...]] = set()
    merged: list[Socket] = []
    for sock in owned:
        key = socket_key(sock)
        if key not in rows:
            key = _loose_match(sock, rows, matched) or key
        matched.add(key)
        states = {row.state for row in rows.get(key, ())}
        state = states.pop() if len(states) == 1 else None
        merged.append(attrs.evolve(sock, state=state if sock.protocol is Protocol.TCP else None))
    for key, group in rows.items():
        if key not in matched:
            merged.extend(attrs.evolve(row, no_owner=NoOwner.HIDDEN) for row in group)
    return merged


def _loose_key(sock: Socket) -> tuple[object, ...]:
    remote_port = sock.remote.port if sock.remote is not None else None
    return (sock.protocol, sock.family, sock.local.port, remote_port)


def _loose_match(
    sock: Socket, rows: dict[tuple[object, ...], list[Socket]], matched: set[tuple[object, ...]]
) -> tuple[object, ...] | None:
    """The key of the one unmatched netstat row with `sock`'s protocol, family and ports."""
    loose = _loose_key(sock)
    found = [
        key for key, group in rows.items() if key not in matched and _loose_key(group[0]) == loose
    ]
    return found[0] if len(found) == 1 else None
