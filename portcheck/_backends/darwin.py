"""Backends for macOS: `lsof` first, then `netstat -anv`.

lsof ships with macOS and its field output (`-F`) is the stable format (the
command is in `posix`). Without root it sees only the caller's own processes
and exits 1 for the rest, as for a free port; an empty answer is then checked
with `netstat -an`, which lists every socket without owners ("in use, owner
hidden", pid None).

When lsof is missing or fails (sandboxes), the owner comes from the pid
column of `netstat -anv -p tcp` and `netstat -anv -p udp`, in whichever of
its three layouts the system prints (see `_parsers.netstat_darwin`); names
absent (macOS 14, 15) or cut to 16 characters (macOS 26) are completed by `ps`.

Command lines come from one `ps -ww -o pid=,ppid=,lstart=,args= -p PIDS`
run (pid lists in chunks): ps joins the arguments with spaces, so `command`
is the whole line as one string, never split into words that were not
there. As root, `units` holds the launchd label of each owner, from
`launchctl procinfo PID`; without root it stays empty (no unprivileged tool
prints it).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .._parsers import netstat_darwin as _netstat_darwin
from .._parsers.launchctl import parse_label
from .._parsers.ps import PsProcess, parse_identity
from .._records import Socket
from .context import Context, decode, on_port, run_checked, started_here, tool_path
from .posix import full_names, lsof_sockets, netstat_an, ps_outputs

# macOS 26 cuts the name in netstat's `process:pid` column to 16 characters.
_NETSTAT_NAME_WIDTH = 16


def lookup_lsof(port: int | None, ctx: Context) -> list[Socket]:
    """Sockets on `port` from lsof; without root, plus those only `netstat -an` sees."""
    return with_identity(lsof_sockets(port, ctx, confirm=_lookup_netstat_an), ctx)


def lookup_netstat(port: int | None, ctx: Context) -> list[Socket]:
    """Sockets on `port` with their pid, from `netstat -anv` for TCP then UDP."""
    path = tool_path(ctx, "netstat", "the base system")
    found: list[Socket] = []
    for protocol in ("tcp", "udp"):
        done = run_checked(ctx, [path, "-anv", "-p", protocol])
        found += on_port(_netstat_darwin.parse(decode(done.stdout)), port)
    return with_identity(full_names(found, ctx, _NETSTAT_NAME_WIDTH), ctx)


def _lookup_netstat_an(port: int | None, ctx: Context) -> list[Socket]:
    return netstat_an(ctx, _netstat_darwin.parse)


def with_identity(sockets: Sequence[Socket], ctx: Context) -> list[Socket]:
    """`sockets` with each owner's command line (one string), parent, start time (on this
    machine: ps prints no zone) and, as root, launchd label.

    ps and launchctl are optional, and their failure is not the lookup's:
    the fields then stay None and empty ("cannot tell").
    """
    pids = sorted({s.pid for s in sockets if s.pid is not None and s.pid > 0})
    found = processes(pids, ctx)
    labels = launchd_labels(pids, ctx) if ctx.privileged else {}
    return [_identified(s, found, labels, ctx) for s in sockets]


def processes(pids: Sequence[int], ctx: Context) -> dict[int, PsProcess]:
    """pid -> what `ps -ww -o pid=,ppid=,lstart=,args=` says of it; {} without ps."""
    found: dict[int, PsProcess] = {}
    for text in ps_outputs(ctx, ("-ww", "-o", "pid=,ppid=,lstart=,args="), pids):
        found.update(parse_identity(text))
    return found


def launchd_labels(pids: Sequence[int], ctx: Context) -> dict[int, str]:
    """pid -> launchd label from `launchctl procinfo PID` (one run each; root only)."""
    launchctl = ctx.runner.which("launchctl")
    labels: dict[int, str] = {}
    for pid in pids if launchctl is not None else ():
        try:
            done = ctx.runner.run([str(launchctl), "procinfo", str(pid)], timeout=ctx.timeout)
        except OSError:
            break
        label = parse_label(decode(done.stdout)) if done.returncode == 0 else None
        if label is not None:
            labels[pid] = label
    return labels


def _identified(
    sock: Socket, found: dict[int, PsProcess], labels: dict[int, str], ctx: Context
) -> Socket:
    if sock.pid is None:
        return sock
    process = found.get(sock.pid)
    label = labels.get(sock.pid)
    units = (label,) if label else sock.units
    if process is None:
        return attrs.evolve(sock, units=units) if label else sock
    started = started_here(process.started, ctx)
    return attrs.evolve(
        sock, command=(process.command,), units=units, parent=process.ppid, started=started
    )
