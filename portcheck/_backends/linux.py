"""Backends for Linux: `procfs` (no tool), then `ss`, `lsof` and `netstat`.

- procfs: the kernel's socket table over sock_diag netlink (or /proc/net),
  then the holders of each socket's inode from /proc/PID/fd.
- ss: `ss -t -u -a -n -p -e 'sport = :PORT'`, the port filtered in the kernel.
- lsof: the command in `posix`, plus the sockets the kernel table shows and
  lsof could not (other users', without root), with the owner hidden.
- netstat: `netstat -t -u -a -n -p -e -W`, every socket; net-tools names one
  process per socket, so the holders are completed from /proc.

Every answer's names, users and identities (command line, systemd unit,
container) come from /proc (`procfs.enrich`, `procfs.with_owners`) where it
describes the system looked at: tools truncate (lsof without +c, netstat) or
mangle (ss drops `)`) names, and /proc/PID/comm is the kernel's own.
"""

from __future__ import annotations

from .._errors import ToolError
from .._parsers import lsof as _lsof
from .._parsers import netstat_linux as _netstat_linux
from .._parsers import ss as _ss
from .._records import NoOwner, Socket
from . import procfs as _procfs
from .context import Context, ToolUnusableError, decode, run_checked, tool_path
from .posix import lsof_argv, socket_key


def lookup_procfs(port: int | None, ctx: Context) -> list[Socket]:
    """Socket tables, then every holder of the matching inodes.

    A socket with no holder found is looked up again before its owner is
    called hidden: one that closed during the lookup is reported as closed,
    and so is an orphan (inode 0: its process closed it and the kernel is
    finishing the TCP close).
    """
    if not ctx.local_proc:
        raise ToolUnusableError("procfs reads this machine's /proc, which describes Linux only")
    entries = _procfs.socket_table(port, listening=ctx.listening)
    owners = _procfs.find_owners({e.inode for e in entries if e.inode})
    unowned = {e.inode for e in entries if e.inode and e.inode not in owners}
    still_open = (
        {e.inode for e in _procfs.socket_table(port, listening=ctx.listening)} if unowned else set()
    )
    seen = _procfs.Seen()
    sockets: list[Socket] = []
    for entry in entries:
        closed = entry.inode == 0 or (entry.inode in unowned and entry.inode not in still_open)
        why = NoOwner.CLOSED if closed else NoOwner.HIDDEN
        pids = owners.get(entry.inode, [])
        sockets.extend(_procfs.with_owners(entry.socket, pids, unseen=why, seen=seen))
    return sockets


def lookup_ss(port: int | None, ctx: Context) -> list[Socket]:
    """Run ss with the port filtered in the kernel (`sport = :PORT`) and parse it.

    Listing: no filter, and `-l` instead of `-a` when only listeners are wanted.
    """
    ss = tool_path(ctx, "ss", "iproute2")
    which = "-l" if ctx.listening else "-a"
    where = [] if port is None else ["sport", "=", f":{port}"]
    done = run_checked(ctx, [ss, "-t", "-u", which, "-n", "-p", "-e", *where])
    return _enriched(ctx, _ss.parse(decode(done.stdout)))


def lookup_lsof(port: int | None, ctx: Context) -> list[Socket]:
    """Run lsof for the port, then add the sockets it could not see from the kernel's table.

    Without root lsof lists nothing of other users' processes, and even as
    root nothing of processes outside this pid namespace; the kernel's socket
    table still shows those sockets, which are reported with the owner hidden.
    """
    lsof = tool_path(ctx, "lsof", "lsof")
    argv = lsof_argv(lsof, port)
    done = run_checked(ctx, argv, ok=(0, 1))
    text = decode(done.stdout)
    # Status 1 is lsof's "a selection matched nothing": with output, an error,
    # except when listing, where `-i UDP` alone may match nothing.
    listed_some = port is None and not done.stderr.strip()
    if done.returncode == 1 and (text.strip() or done.stderr.strip()) and not listed_some:
        raise ToolError(argv, done.returncode, decode(done.stderr))
    if text.strip() and not _lsof.is_field_output(text):
        raise ToolUnusableError(f"{lsof} ignored -F (a BusyBox lsof?)")
    seen = _enriched(ctx, _lsof.parse(text))
    if not ctx.local_proc:
        return seen
    keys = {socket_key(s) for s in seen}
    hidden = [
        _procfs.with_owners(e.socket, [])[0]
        for e in _procfs.socket_table(port, listening=ctx.listening)
        if socket_key(e.socket) not in keys
    ]
    return seen + hidden


def lookup_netstat(port: int | None, ctx: Context) -> list[Socket]:
    """Run netstat, keep the port's rows, and complete the holders of shared sockets."""
    netstat = tool_path(ctx, "netstat", "net-tools")
    done = run_checked(ctx, [netstat, "-t", "-u", "-a", "-n", "-p", "-e", "-W"])
    rows = [
        r
        for r in _netstat_linux.parse_rows(decode(done.stdout))
        if port is None or r.socket.local.port == port
    ]
    if not ctx.local_proc:
        return [r.socket for r in rows]
    # Holders of every socket with an inode: net-tools names one process per
    # socket, and this also finds owners netstat printed as `-` but /proc shows.
    holders = _procfs.find_owners({r.inode for r in rows if r.inode})
    seen = _procfs.Seen()
    sockets: list[Socket] = []
    for row in rows:
        shown = [] if row.socket.pid is None else [row.socket.pid]
        pids = holders.get(row.inode or 0) or shown
        sockets.extend(_procfs.with_owners(row.socket, pids, seen=seen))
    return sockets


def _enriched(ctx: Context, sockets: list[Socket]) -> list[Socket]:
    if not ctx.local_proc:
        return sockets
    seen = _procfs.Seen()
    return [_procfs.enrich(s, seen) for s in sockets]
