"""This machine's /proc: the sockets on a port and the processes that hold them (Linux).

Works in slim containers where ss, lsof and netstat are all missing. The
socket table is asked over sock_diag netlink with the port filtered in the
kernel (`sockdiag`, what ss does), or read from `/proc/net/{tcp,tcp6,udp,udp6}`
(parsed by `_parsers.proc_net`) where netlink is refused.

The owners are the processes with a `/proc/PID/fd/N -> socket:[INODE]` link.
The other Linux backends use the helpers here to name processes
(`/proc/PID/comm` is authoritative where tools truncate or mangle names) and
users.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterable, Iterator

import attrs

from .._parsers.proc_net import TABLES, Entry, parse_table
from .._records import Socket
from . import sockdiag as _sockdiag
from .context import ToolUnusableError

PROC = "/proc"


def socket_table(port: int | None, proc: str = PROC, *, netlink: bool = True) -> list[Entry]:
    """Every socket on local `port` in this network namespace (every socket: None).

    Asked of the kernel over sock_diag netlink, which filters by port (the
    way ss does), table by table; /proc/net text, which lists every socket of
    the machine, where netlink cannot answer. Both give the same entries
    (tests/test_procfs.py compares them on live sockets).
    """
    entries: list[Entry] = []
    for name, (protocol, family) in TABLES.items():
        if netlink:
            try:
                found = _sockdiag.query(port, family, protocol)
            except _sockdiag.SockDiagUnavailable:
                pass
            else:
                entries.extend(Entry(socket=s, inode=inode) for s, inode in found)
                continue
        text = read_table(name, proc)
        entries.extend(parse_table(text, name, port) if text is not None else [])
    return entries


def read_table(name: str, proc: str = PROC) -> str | None:
    """The text of /proc/net/`name`; None for a missing IPv6 table (a kernel without IPv6).

    ToolUnusableError when /proc is missing or unreadable.
    """
    try:
        with open(f"{proc}/net/{name}", encoding="ascii", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        if name.endswith("6"):
            return None
        raise ToolUnusableError(f"{proc}/net/{name} is missing (is /proc mounted?)") from None
    except PermissionError as exc:
        raise ToolUnusableError(f"cannot read {proc}/net/{name}: {exc.strerror}") from None


def with_owners(sock: Socket, pids: Iterable[int]) -> list[Socket]:
    """One record per owning pid with name and user from /proc; hidden owner if none."""
    records = []
    for pid in pids:
        info = process_info(pid)
        if info is None:
            continue  # exited since it was seen: never report a process that is gone
        records.append(
            attrs.evolve(sock, pid=pid, process=info[0], uid=info[1], user=user_name(info[1]))
        )
    if records:
        return records
    return [attrs.evolve(sock, pid=None, process=None, user=user_name(sock.uid))]


def process_info(pid: int, proc: str = PROC) -> tuple[str, int] | None:
    """(comm, effective uid) of a live process, or None if it is gone."""
    try:
        with open(f"{proc}/{pid}/comm", "rb") as f:
            comm = f.read().rstrip(b"\n").decode("utf-8", "replace")
        with open(f"{proc}/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Uid:"):
                    return comm, int(line.split()[2])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def user_name(uid: int | None) -> str | None:
    """Login name of `uid`, or None when unknown (no passwd entry, or no uid)."""
    if uid is None:
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def find_owners(inodes: set[int], proc: str = PROC) -> dict[int, list[int]]:
    """inode -> pids holding it, for the given socket inodes.

    Reads processes in /proc order until every socket has an owner; then, as a
    socket is shared by inheriting it across fork, grows the family of the
    owners found: their parents and children are read, and each one that holds
    a socket too is grown in turn. A pre-fork master and all its workers are
    found whichever of them the scan met first.
    """
    owners: dict[int, list[int]] = {}
    if not inodes:
        return owners
    targets = {f"socket:[{inode}]": inode for inode in inodes}
    scanned: set[int] = set()
    family: list[int] = []
    for pid in _all_pids(proc):
        scanned.add(pid)
        if _scan_fds(pid, targets, owners, proc):
            family.append(pid)
        if len(owners) == len(inodes):
            break
    else:
        return owners  # every process was read
    if not _has_children_files(proc):
        # Without the children files the family cannot be grown: read everyone.
        for pid in _all_pids(proc):
            if pid not in scanned:
                _scan_fds(pid, targets, owners, proc)
        return owners
    while family:
        for relative in _parent_and_children(family.pop(), proc):
            if relative not in scanned:
                scanned.add(relative)
                if _scan_fds(relative, targets, owners, proc):
                    family.append(relative)
    return owners


def _all_pids(proc: str) -> Iterator[int]:
    with os.scandir(proc) as it:
        for entry in it:
            if entry.name.isdigit():
                yield int(entry.name)


def _scan_fds(pid: int, targets: dict[str, int], owners: dict[int, list[int]], proc: str) -> bool:
    """Record `pid` as owner of each target socket it holds; True if it holds any."""
    fd_dir = f"{proc}/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except (FileNotFoundError, PermissionError, ProcessLookupError, NotADirectoryError):
        return False  # gone, or another user's process without privileges
    found: set[int] = set()
    for name in names:
        try:
            link = os.readlink(f"{fd_dir}/{name}")
        except OSError:
            continue
        inode = targets.get(link)
        if inode is not None and inode not in found:
            found.add(inode)
            owners.setdefault(inode, []).append(pid)
    return bool(found)


def _has_children_files(proc: str) -> bool:
    pid = os.getpid()
    return os.path.exists(f"{proc}/{pid}/task/{pid}/children")


def _parent_and_children(pid: int, proc: str) -> list[int]:
    parent = _parent(pid, proc)
    children = _children(pid, proc)
    return ([parent] if parent else []) + children


def _parent(pid: int, proc: str) -> int | None:
    try:
        with open(f"{proc}/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name in parentheses may contain spaces and ")": split after the last ")".
    return int(stat[stat.rindex(b")") + 2 :].split()[1])


def _children(pid: int, proc: str) -> list[int]:
    """Child pids, from the `children` files (Linux 3.5+, CONFIG_PROC_CHILDREN), or []."""
    children: list[int] = []
    try:
        tasks = os.listdir(f"{proc}/{pid}/task")
    except OSError:
        return children
    for tid in tasks:
        try:
            with open(f"{proc}/{pid}/task/{tid}/children", "rb") as f:
                children.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return children


def enrich(sock: Socket) -> Socket:
    """A tool's record with the process name and uid from /proc and the user from the uid.

    Tools truncate (lsof without +c, netstat) or mangle (ss drops `)`) names;
    /proc/PID/comm is the kernel's own. A pid gone by now keeps the tool's data.
    """
    info = None if sock.pid is None else process_info(sock.pid)
    if info is None:
        return sock if sock.user is not None else attrs.evolve(sock, user=user_name(sock.uid))
    return attrs.evolve(sock, process=info[0], uid=info[1], user=user_name(info[1]))
