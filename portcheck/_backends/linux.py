"""Backends for Linux: `procfs` (no tool), then `ss`, `lsof` and `netstat`.

- procfs: the kernel's socket table over sock_diag netlink (or /proc/net),
  then the holders of each socket's inode from /proc/PID/fd.
- ss: `ss -t -u -a -n -p -e 'sport = :PORT'`, the port filtered in the kernel.
- lsof: the command in `posix`, plus the sockets the kernel table shows and
  lsof could not (other users', without root), with the owner hidden.
- netstat: `netstat -t -u -a -n -p -e -W`, every socket; net-tools names one
  process per socket, so the holders are completed from /proc.

Every answer's names and users come from /proc (`procfs.enrich`) where it
describes the system looked at: tools truncate (lsof without +c, netstat) or
mangle (ss drops `)`) names, and /proc/PID/comm is the kernel's own. Over ssh
(`ctx.local_proc` False) the host's `ps` and `getent` name them instead
(`posix.remote_owners`), and procfs cannot look.
"""

from __future__ import annotations

from .._errors import ToolError
from .._parsers import lsof as _lsof
from .._parsers import netstat_linux as _netstat_linux
from .._parsers import ss as _ss
from .._records import Socket
from . import procfs as _procfs
from .context import Context, ToolUnusableError, decode, run_checked, tool_path
from .posix import lsof_argv, remote_owners, socket_key


def lookup_procfs(port: int, ctx: Context) -> list[Socket]:
    """Socket tables, then the owners of the matching inodes."""
    if not ctx.local_proc:
        raise ToolUnusableError("procfs reads this machine's /proc, which describes Linux only")
    entries = _procfs.socket_table(port)
    owners = _procfs.find_owners({e.inode for e in entries if e.inode})
    sockets: list[Socket] = []
    for entry in entries:
        sockets.extend(_procfs.with_owners(entry.socket, owners.get(entry.inode, [])))
    return sockets


def lookup_ss(port: int, ctx: Context) -> list[Socket]:
    """Run ss with the port filtered in the kernel (`sport = :PORT`) and parse it."""
    ss = tool_path(ctx, "ss", "iproute2")
    done = run_checked(ctx, [ss, "-t", "-u", "-a", "-n", "-p", "-e", "sport", "=", f":{port}"])
    return _enriched(ctx, _ss.parse(decode(done.stdout)))


def lookup_lsof(port: int, ctx: Context) -> list[Socket]:
    """Run lsof for the port, then add the sockets it could not see from the kernel's table.

    Without root lsof lists nothing of other users' processes, and even as
    root nothing of processes outside this pid namespace; the kernel's socket
    table still shows those sockets, which are reported with the owner hidden.
    """
    lsof = tool_path(ctx, "lsof", "lsof")
    argv = lsof_argv(lsof, port)
    done = run_checked(ctx, argv, ok=(0, 1))
    text = decode(done.stdout)
    if done.returncode == 1 and (text.strip() or done.stderr.strip()):
        raise ToolError(argv, done.returncode, decode(done.stderr))
    if text.strip() and not _lsof.is_field_output(text):
        raise ToolUnusableError(f"{lsof} ignored -F (a BusyBox lsof?)")
    seen = _enriched(ctx, _lsof.parse(text))
    keys = {socket_key(s) for s in seen}
    if not ctx.local_proc:
        if ctx.privileged:
            return seen
        # No /proc here (over ssh) and no root there: the host's netstat lists
        # every socket, and those lsof could not see are another user's.
        return seen + [s for s in lookup_netstat(port, ctx) if socket_key(s) not in keys]
    hidden = [
        _procfs.with_owners(e.socket, [])[0]
        for e in _procfs.socket_table(port)
        if socket_key(e.socket) not in keys
    ]
    return seen + hidden


def lookup_netstat(port: int, ctx: Context) -> list[Socket]:
    """Run netstat, keep the port's rows, and complete the holders of shared sockets."""
    netstat = tool_path(ctx, "netstat", "net-tools")
    done = run_checked(ctx, [netstat, "-t", "-u", "-a", "-n", "-p", "-e", "-W"])
    rows = [
        r for r in _netstat_linux.parse_rows(decode(done.stdout)) if r.socket.local.port == port
    ]
    if not ctx.local_proc:
        return remote_owners([r.socket for r in rows], ctx)
    # Holders of every socket with an inode: net-tools names one process per
    # socket, and this also finds owners netstat printed as `-` but /proc shows.
    holders = _procfs.find_owners({r.inode for r in rows if r.inode})
    sockets: list[Socket] = []
    for row in rows:
        shown = [] if row.socket.pid is None else [row.socket.pid]
        sockets.extend(_procfs.with_owners(row.socket, holders.get(row.inode or 0) or shown))
    return sockets


def _enriched(ctx: Context, sockets: list[Socket]) -> list[Socket]:
    if not ctx.local_proc:
        # Over ssh: the host's ps names what its /proc would.
        return remote_owners(sockets, ctx)
    return [_procfs.enrich(s) for s in sockets]
