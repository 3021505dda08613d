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
mangle (ss drops `)`) names, and /proc/PID/comm is the kernel's own. Over ssh
(`ctx.local_proc` False) the host's `ps` and `getent` name them instead
(`posix.remote_owners`), and procfs cannot look.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from .._errors import ToolError
from .._records import NoOwner, Socket, State, socket_key
from . import procfs as _procfs
from .context import Context, ToolUnusableError, decode, run_checked, tool_path

if TYPE_CHECKING:
    from .._parsers.proc_net import Entry

# Each tool backend imports its parser (and `posix`) when it runs: the default
# lookup, procfs, reads no tool's text, and the command's start-up is counted
# in milliseconds (bench/startup.py).


def lookup_procfs(port: int | None, ctx: Context) -> list[Socket]:
    """Socket tables, then every holder of the matching inodes.

    A socket with no holder found is looked up again before its owner is
    called hidden: one that closed during the lookup is reported as closed,
    and so is an orphan (inode 0: its process closed it and the kernel is
    finishing the TCP close).
    """
    if not ctx.local_proc:
        raise ToolUnusableError("procfs reads this machine's /proc, which describes Linux only")
    seen = _procfs.Seen()  # before the scan: see Seen.about
    entries = [e for e in _procfs.socket_table(port, listening=ctx.listening) if ctx.wants(e)]
    owners = _procfs.find_owners({e.inode for e in entries if e.inode}, timeout=ctx.timeout)
    unowned = {e.inode for e in entries if e.inode and e.inode not in owners}
    still_open = _still_open(entries, unowned, port, listening=ctx.listening) if unowned else set()
    sockets, left = _procfs.held_records(entries, owners, seen)
    for entry in left:  # no live holder: none found (or inode 0, an orphan), or all exited
        inode = entry.inode
        closed = inode == 0 or inode not in still_open
        why = NoOwner.CLOSED if closed else NoOwner.HIDDEN
        sockets += _procfs.with_owners(
            entry, owners.get(inode, ()), unseen=why, seen=seen, inode=inode
        )
    return sockets


def _still_open(
    entries: list[Entry], unowned: set[int], port: int | None, *, listening: bool
) -> set[int]:
    """The inodes of the tables now, to tell `unowned` sockets closed from hidden.

    A listing asks again only for the ports of the unowned sockets while they
    are few: a socket whose holder is in another pid namespace is unowned on
    every look, and reading the whole table twice doubled a listing's time.
    """
    ports = {e.local.port for e in entries if e.inode in unowned}
    if port is not None or len(ports) > _RECHECK_PORTS:
        return {e.inode for e in _procfs.socket_table(port, listening=listening)}
    return {e.inode for p in ports for e in _procfs.socket_table(p, listening=listening)}


# The most ports asked one by one before the whole table is read again instead.
_RECHECK_PORTS = 8


def lookup_ss(port: int | None, ctx: Context) -> list[Socket]:
    """Run ss with the port filtered in the kernel (`sport = :PORT`) and parse it.

    Listing: no filter, and `-l` instead of `-a` when only listeners are wanted.

    ss prints process names raw, so a name made to look like another
    `("name",pid=N,fd=M)` entry could add a pid that holds nothing. Where /proc
    is local each pid ss names is checked against the socket's inode; if any
    fails the check, the holders are read from /proc instead.
    """
    from .._parsers import ss as _ss
    from .posix import remote_owners

    ss = tool_path(ctx, "ss", "iproute2")
    which = "-l" if ctx.listening else "-a"
    where = [] if port is None else ["sport", "=", f":{port}"]
    seen = _procfs.Seen() if ctx.local_proc else None  # before the scan: see Seen.about
    done = run_checked(ctx, [ss, "-t", "-u", which, "-n", "-p", "-e", *where])
    rows = [(sock, inode) for sock, inode in _ss.parse_rows(decode(done.stdout)) if ctx.wants(sock)]
    if seen is None:
        # Over ssh: the host's ps names what its /proc would.
        return remote_owners([_with_id(sock, inode or 0) for sock, inode in rows], ctx)
    named: dict[int, list[Socket]] = {}
    sockets: list[Socket] = []
    for sock, inode in rows:
        if inode:
            named.setdefault(inode, []).append(sock)
        else:
            sockets.append(_procfs.enrich(sock, seen))
    unchecked: dict[int, list[int]] = {}
    for inode, group in named.items():
        pids = [s.pid for s in group if s.pid is not None]
        holders = _procfs.holders_among(pids, inode)
        # As root, a socket ss names no holder for is held where ss does not
        # look (threads of a process whose main thread exited): scan too.
        if len(holders) < len(pids) or (not pids and ctx.privileged):
            unchecked[inode] = holders
        else:
            sockets += _procfs.with_owners(group[0], holders, seen=seen, inode=inode)
    # One scan of every process for all the sockets whose pids failed the check.
    found = _procfs.find_owners(set(unchecked), timeout=ctx.timeout) if unchecked else {}
    for inode, holders in unchecked.items():
        # ss saw holders and none holds it now: closed; it saw none: hidden.
        gone = NoOwner.CLOSED if named[inode][0].pid is not None else NoOwner.HIDDEN
        pids = found.get(inode, holders)
        sockets += _procfs.with_owners(named[inode][0], pids, unseen=gone, seen=seen, inode=inode)
    return sockets + bound_sockets(port, ctx, seen)


def lookup_lsof(port: int | None, ctx: Context) -> list[Socket]:
    """Run lsof for the port, then add the sockets it could not see from the kernel's table.

    Without root lsof lists nothing of other users' processes, and even as
    root nothing of processes outside this pid namespace; the kernel's socket
    table still shows those sockets, which are reported with the owner hidden.
    They are told apart by inode (lsof's device field on Linux), not by
    address: another user's socket may share ours (SO_REUSEADDR).
    """
    from .._parsers import lsof as _lsof
    from .posix import LINUX_LSOF_FLAGS, lsof_argv, remote_owners

    lsof = tool_path(ctx, "lsof", "lsof")
    argv = lsof_argv(lsof, port, LINUX_LSOF_FLAGS)
    cache = _procfs.Seen() if ctx.local_proc else None  # before the scan: see Seen.about
    done = run_checked(ctx, argv, ok=(0, 1))
    text = decode(done.stdout)
    # Status 1 is lsof's "a selection matched nothing": with output, an error,
    # except when listing, where `-i UDP` alone may match nothing.
    listed_some = port is None and not done.stderr.strip()
    if done.returncode == 1 and (text.strip() or done.stderr.strip()) and not listed_some:
        raise ToolError(argv, done.returncode, decode(done.stderr))
    if text.strip() and not _lsof.is_field_output(text):
        raise ToolUnusableError(f"{lsof} ignored -F (a BusyBox lsof?)")
    files = [(sock, dev) for sock, dev in _lsof.parse_files(text) if ctx.wants(sock)]
    if cache is None:
        seen = remote_owners([sock for sock, _device in files], ctx)
        if ctx.privileged:
            return seen
        # No /proc here (over ssh) and no root there: the host's netstat lists
        # every socket, and those lsof could not see are another user's.
        keys = {socket_key(s) for s in seen}
        return seen + [s for s in lookup_netstat(port, ctx) if socket_key(s) not in keys]
    table = [e for e in _procfs.socket_table(port, listening=ctx.listening) if ctx.wants(e)]
    zones = _zones(table)
    inodes = {_inode(device) for _sock, device in files} - {0}
    shown = [
        _procfs.enrich(_zoned(sock, zones.get(_inode(device))), cache) for sock, device in files
    ]
    # A socket lsof showed without an inode can only be matched by its addresses.
    unkeyed = {socket_key(s) for s, device in files if not _inode(device)}
    keys = {socket_key(s) for s in shown}
    missed = [
        e
        for e in table
        if e.inode not in inodes and socket_key(e.socket) not in (unkeyed if e.inode else keys)
    ]
    # lsof cannot list a bound-only socket (it is in no /proc/net table), and
    # misses sockets of processes it may not read: the descriptor scan names
    # what this user can see, the rest stays hidden.
    # Without root the scan can add only this user's bound-only sockets: lsof
    # listed the rest of what this user may read.
    scan = [e for e in missed if e.inode and (ctx.privileged or e.state is State.BOUND)]
    holders = _procfs.find_owners({e.inode for e in scan}, timeout=ctx.timeout) if scan else {}
    hidden = [
        record
        for e in missed
        for record in _procfs.with_owners(e, holders.get(e.inode, []), seen=cache, inode=e.inode)
    ]
    return shown + hidden


def lookup_netstat(port: int | None, ctx: Context) -> list[Socket]:
    """Run netstat, keep the port's rows, and complete the holders of shared sockets."""
    from .._parsers import netstat_linux as _netstat_linux
    from .posix import remote_owners

    netstat = tool_path(ctx, "netstat", "net-tools")
    seen = _procfs.Seen() if ctx.local_proc else None  # before the scan: see Seen.about
    done = run_checked(ctx, [netstat, "-t", "-u", "-a", "-n", "-p", "-e", "-W"])
    rows = [
        r
        for r in _netstat_linux.parse_rows(decode(done.stdout))
        if (port is None or r.socket.local.port == port) and ctx.wants(r.socket)
    ]
    if seen is None:
        return remote_owners([_with_id(r.socket, r.inode or 0) for r in rows], ctx)
    # Holders of every socket with an inode: net-tools names one process per
    # socket, and this also finds owners netstat printed as `-` but /proc shows.
    holders = _procfs.find_owners({r.inode for r in rows if r.inode}, timeout=ctx.timeout)
    zones = _zones(_procfs.socket_table(port, listening=ctx.listening)) if rows else {}
    sockets: list[Socket] = []
    for row in rows:
        shown = [] if row.socket.pid is None else [row.socket.pid]
        sock = _zoned(row.socket, zones.get(row.inode or 0))
        pids = holders.get(row.inode or 0) or shown
        sockets += _procfs.with_owners(sock, pids, seen=seen, inode=row.inode or 0)
    return sockets + bound_sockets(port, ctx, seen)


def bound_sockets(port: int | None, ctx: Context, seen: _procfs.Seen) -> list[Socket]:
    """The TCP sockets on `port` bound but neither listening nor connected, with owners.

    No tool lists them (not ss -a, netstat, lsof or /proc/net/tcp), yet they
    hold the port: another bind fails with EADDRINUSE. Linux 6.5+ shows them
    over sock_diag (TCP_BOUND_INACTIVE); an older kernel, or no netlink, shows
    none, and nothing can. The owners come from the descriptor scan. Not
    asked when only listeners are wanted.
    """
    if ctx.listening or not ctx.local_proc:
        return []
    entries = _procfs.bound_table(port)
    owners = (
        _procfs.find_owners({e.inode for e in entries if e.inode}, timeout=ctx.timeout)
        if entries
        else {}
    )
    return [
        record
        for e in entries
        for record in _procfs.with_owners(e, owners.get(e.inode, []), seen=seen, inode=e.inode)
    ]


def _with_id(sock: Socket, inode: int) -> Socket:
    return attrs.evolve(sock, socket_id=str(inode)) if inode else sock


def _inode(device: str | None) -> int:
    """The socket inode lsof prints as DEVICE on Linux; 0 when it printed none."""
    return int(device) if device and device.isdigit() else 0


def _zones(table: list[Entry]) -> dict[int, str]:
    """inode -> interface of each socket bound to one (lsof and net-tools do not print it)."""
    return {e.inode: e.local.zone for e in table if e.inode and e.local.zone}


def _zoned(sock: Socket, zone: str | None) -> Socket:
    if zone is None or sock.local.zone is not None:
        return sock
    return attrs.evolve(sock, local=attrs.evolve(sock.local, zone=zone))
