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

Command lines come from one `ps -ww -o pid= -o args= -p PIDS` run. `units`
stays empty: the launchd label of a process is read by `launchctl procinfo
PID`, which needs root, and no unprivileged tool prints it.
"""

from __future__ import annotations

from .._parsers import netstat_darwin as _netstat_darwin
from .._records import Socket
from .context import Context, decode, on_port, run_checked, tool_path
from .posix import full_names, lsof_sockets, netstat_an, with_commands

# macOS 26 cuts the name in netstat's `process:pid` column to 16 characters.
_NETSTAT_NAME_WIDTH = 16


def lookup_lsof(port: int | None, ctx: Context) -> list[Socket]:
    """Sockets on `port` from lsof; without root, plus those only `netstat -an` sees."""
    return with_commands(lsof_sockets(port, ctx, confirm=_lookup_netstat_an), ctx)


def lookup_netstat(port: int | None, ctx: Context) -> list[Socket]:
    """Sockets on `port` with their pid, from `netstat -anv` for TCP then UDP."""
    path = tool_path(ctx, "netstat", "the base system")
    found: list[Socket] = []
    for protocol in ("tcp", "udp"):
        done = run_checked(ctx, [path, "-anv", "-p", protocol])
        found += on_port(_netstat_darwin.parse(decode(done.stdout)), port)
    return with_commands(full_names(found, ctx, _NETSTAT_NAME_WIDTH), ctx)


def _lookup_netstat_an(port: int | None, ctx: Context) -> list[Socket]:
    return netstat_an(ctx, _netstat_darwin.parse)
