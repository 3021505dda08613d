"""This machine's /proc: the sockets on a port and the processes that hold them (Linux).

Works in slim containers where ss, lsof and netstat are all missing. The
socket table is asked over sock_diag netlink with the port filtered in the
kernel (`sockdiag`, what ss does), or read from `/proc/net/{tcp,tcp6,udp,udp6}`
(parsed by `_parsers.proc_net`) where netlink is refused.

The owners are the processes with a `/proc/PID/fd/N -> socket:[INODE]` link.
The other Linux backends use the helpers here to name processes
(`/proc/PID/comm` is authoritative where tools truncate or mangle names),
users, and their identity (command line, unit, container: `identity`), once
per pid per lookup (`Seen`).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

import attrs

from .._parsers.cmdline import forwards_to, is_docker_proxy
from .._parsers.proc_net import TABLES, Entry
from .._records import Family, NoOwner, Protocol, Socket, State, record
from . import sockdiag as _sockdiag
from .context import ToolUnusableError

if TYPE_CHECKING:
    import datetime

    from .._parsers.proc_stat import ProcStat
    from . import identity as _identity

# What only some lookups need is imported where it is used (the /proc/net
# parser, identities, pwd, /proc/PID/stat): a lookup of a free port needs none
# of it, and the command's start-up is counted in milliseconds (bench/startup.py).

PROC = "/proc"


def socket_table(
    port: int | None, proc: str = PROC, *, netlink: bool = True, listening: bool = False
) -> list[Entry]:
    """Every socket on local `port` (every socket: None) in this network namespace.

    `listening` lets netlink return the listening states only (a hint: the
    /proc/net text lists everything, and callers filter).

    Asked of the kernel over sock_diag netlink, which filters by port (the
    way ss does), table by table; /proc/net text, which lists every socket of
    the machine, where netlink cannot answer. Both give the same entries
    (tests/backends/test_procfs.py compares them on live sockets).
    """
    entries: list[Entry] = []
    for name, (protocol, family) in TABLES.items():
        if netlink:
            try:
                found = _sockdiag.query(port, family, protocol, listening=listening)
            except _sockdiag.SockDiagUnavailable:
                pass
            else:
                entries.extend(_bound(e) if e.state is _CLOSE else e for e in found)
                continue
        from .._parsers.proc_net import parse_table

        text = read_table(name, proc)
        entries.extend(parse_table(text, name, port) if text is not None else [])
    return entries


def bound_table(port: int | None) -> list[Entry]:
    """The TCP sockets on `port` in TCP_BOUND_INACTIVE (bound only), over sock_diag.

    Empty where sock_diag cannot answer or the kernel is older than 6.5: such
    a socket is then invisible (no /proc/net table lists it).
    """
    entries: list[Entry] = []
    for family in (Family.IPV4, Family.IPV6):
        try:
            found = _sockdiag.query(port, family, Protocol.TCP, states=_sockdiag.BOUND_STATES)
        except _sockdiag.SockDiagUnavailable:
            return []
        entries += [_bound(e) if e.state is _CLOSE else e for e in found]
    return entries


def _bound(entry: Entry) -> Entry:
    """A TCP socket sock_diag reports in TCP_CLOSE is a bound-only one: the kernel
    dumps those (TCP_BOUND_INACTIVE, asked for) with their real state, CLOSE."""
    if entry.state is State.CLOSE and entry.protocol is Protocol.TCP:
        return entry._replace(state=State.BOUND)
    return entry


_CLOSE = State.CLOSE


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


def with_owners(
    sock: Socket | Entry,
    pids: Iterable[int],
    *,
    unseen: NoOwner = NoOwner.HIDDEN,
    seen: Seen | None = None,
    inode: int = 0,
) -> list[Socket]:
    """One record per owning pid (each once), with name, user and identity from /proc.

    With no live owner, one record with `pid=None`: `no_owner` is CLOSED when
    every pid given has exited since it was seen (never report a process that
    is gone), else `unseen`. `seen` keeps what /proc said of each pid for the
    rest of the lookup. `inode`, when known, becomes the records' `socket_id`.
    `sock` is a record or a table entry: each record is built once, here.
    """
    seen = Seen() if seen is None else seen
    socket_id = str(inode) if inode else sock.socket_id
    records = []
    given = False
    for pid in dict.fromkeys(pids):
        given = True
        about = seen.about(pid)
        if about is not None:
            records.append(_owned(sock, about, socket_id))
    if records:
        return records
    return [
        record(
            sock,
            uid=sock.uid,
            user=user_name(sock.uid),
            system_process=sock.system_process,
            no_owner=NoOwner.CLOSED if given else unseen,
            socket_id=socket_id,
        )
    ]


def held_records(
    entries: Iterable[Entry], owners: Mapping[int, list[int]], seen: Seen
) -> tuple[list[Socket], list[Entry]]:
    """The records of the table entries whose holders `owners` names (inode -> pids,
    each once, as `find_owners` gives them), and apart, the entries with no live
    holder left (none found, or all exited since), for `with_owners` to name why.

    `with_owners` for a whole table at once: a listing builds thousands of
    records, and the per-socket call cost as much as building them.
    """
    records: list[Socket] = []
    left: list[Entry] = []
    about = seen.about
    for entry in entries:
        pids = owners.get(entry.inode)
        found = len(records)
        if pids is not None:
            socket_id = str(entry.inode)
            for pid in pids:
                known = about(pid)
                if known is not None:
                    records.append(_owned(entry, known, socket_id))
        if len(records) == found:
            left.append(entry)
    return records, left


# What builds the records of one live process: `Socket` with the owner's fields
# bound, and the command line of a docker-proxy (None for any other process).
About = tuple["Callable[..., Socket]", "tuple[str, ...] | None"]
_UNREAD = object()


def _owned(sock: Socket | Entry, about: About, socket_id: str | None) -> Socket:
    """`sock` held by the process `about` describes: the record, built once.

    A listing of 4,000 sockets builds 4,000 records; `attrs.evolve` of a
    tool's record, or a dict of owner fields spread into each call, cost a
    third of its time (bench/listing.py).
    """
    make, command = about
    return record(
        sock,
        make,
        system_process=sock.system_process,
        socket_id=socket_id or sock.socket_id,
        forwards_to=None if command is None else forwards_to(command, sock),
    )


class Seen:
    """What /proc said about each pid during one lookup: name, uid, user, start, identity.

    Make one per lookup, BEFORE the descriptor scan or the tool run: each
    pid's files are read once however many sockets it holds, never carried
    over to a later lookup (pids are reused), and a pid whose process started
    after this object was made is not the one the scan saw (see `about`).
    """

    def __init__(self, proc: str = PROC) -> None:
        self.proc = proc
        self._identities: _identity.Reader | None = None
        self._users: dict[int | None, str | None] = {}
        self._about: dict[int, About | None] = {}
        self._since = _ticks_now()
        self._boot: float | None = None

    def about(self, pid: int) -> About | None:
        """What builds the records live `pid` holds, read once; None when it is gone or
        was reused.

        Every file is read through one descriptor of the process's /proc
        directory, opened first: it stays bound to that process, so a pid
        reused while its files are read fails the reads rather than mixing
        two processes' files (a new process has another /proc directory of
        the same name). A process that started after this lookup began cannot
        be the one its scan saw (the scan came later): the pid was reused
        since, and naming the newcomer would pair a process with a port it
        never held.
        """
        about = self._about.get(pid, _UNREAD)
        if about is _UNREAD:
            try:
                at = os.open(f"{self.proc}/{pid}", os.O_RDONLY | os.O_DIRECTORY)
            except OSError:  # gone (or no such pid)
                about = None
            else:
                try:
                    about = self._read(pid, at)
                finally:
                    os.close(at)
            self._about[pid] = about
        return about  # type: ignore[return-value]

    def _read(self, pid: int, at: int) -> About | None:
        """`about(pid)`, read through `at`, the process's /proc directory."""
        from .._parsers.proc_stat import parse_stat
        from .identity import read_file

        stat = parse_stat(read_file("stat", at) or b"")
        if stat is None or (self._since is not None and stat.start_ticks > self._since):
            return None
        uid = _effective_uid(read_file("status", at))
        comm = read_file("comm", at)
        if uid is None or comm is None:
            return None
        who = self.identities.identity(pid, at)
        make = functools.partial(
            Socket,
            pid=pid,
            process=comm.rstrip(b"\n").decode("utf-8", "replace"),
            uid=uid,
            user=self.user(uid),
            started=self._started(stat.start_ticks),
            command=who.command,
            units=who.units,
            container=who.container,
            parent=None if stat.ppid == 0 else stat.ppid,  # 0: init, a kernel thread
            cwd=_readlink_at("cwd", at),
            exe=_readlink_at("exe", at),
        )
        return make, who.command if is_docker_proxy(who.command) else None

    def _started(self, ticks: int) -> datetime.datetime | None:
        if self._boot is None:
            self._boot = boot_time(self.proc)
        if self._boot is None:
            return None
        from .._parsers.proc_stat import started_at

        return started_at(ticks, self._boot, _CLOCK_TICKS)

    def user(self, uid: int | None) -> str | None:
        """`user_name(uid)`, looked up once."""
        if uid not in self._users:
            self._users[uid] = user_name(uid)
        return self._users[uid]

    @property
    def identities(self) -> _identity.Reader:
        """The identity reader of this lookup, made on first use."""
        if self._identities is None:
            from . import identity

            self._identities = identity.Reader(self.proc)
        return self._identities


def _effective_uid(status: bytes | None) -> int | None:
    """The effective uid in the text of /proc/PID/status (`Uid:` real, effective, ...)."""
    for line in (status or b"").splitlines():
        if line.startswith(b"Uid:"):
            fields = line.split()
            return int(fields[2]) if len(fields) > 2 and fields[2].isdigit() else None
    return None


def _readlink_at(name: str, at: int) -> str | None:
    """The target of link `name` (a process's cwd, exe) in directory descriptor `at`, or
    None where it may not be read: another user's are readable only by root
    (ptrace rules), and a kernel thread has neither. Never an error."""
    try:
        return os.readlink(name, dir_fd=at)
    except OSError:
        return None


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _ticks_now() -> int | None:
    """Clock ticks since boot now, on the clock of /proc/PID/stat's start time; None
    where there is no such clock (not Linux)."""
    clock = getattr(time, "CLOCK_BOOTTIME", None)
    if clock is None:
        return None
    return int(time.clock_gettime(clock) * _CLOCK_TICKS)


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


def process_stat(pid: int, proc: str = PROC) -> ProcStat | None:
    """State, parent and start time of `pid` (its identity with the pid), or None if gone."""
    from .._parsers.proc_stat import parse_stat

    try:
        with open(f"{proc}/{pid}/stat", "rb") as f:
            return parse_stat(f.read())
    except OSError:
        return None


def boot_time(proc: str = PROC) -> float | None:
    """When this machine booted (seconds since the epoch, `btime` of /proc/stat), or None."""
    try:
        with open(f"{proc}/stat", "rb") as f:
            for line in f:
                if line.startswith(b"btime "):
                    return float(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def user_name(uid: int | None) -> str | None:
    """Login name of `uid`, or None when unknown (no passwd entry, or no uid)."""
    if uid is None:
        return None
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def find_owners(
    inodes: set[int], proc: str = PROC, *, timeout: float | None = None
) -> dict[int, list[int]]:
    """inode -> pids holding it, for the given socket inodes: every holder, in pid order.

    `timeout` (seconds from now) bounds the scan: past it, a process's table
    is left unread and `ToolTimeoutError` names the scan, rather than a late
    answer (any local user can make the tables huge: 150 processes of 20,000
    descriptors took 15 s to read).

    Reads the descriptor table of every process, as ss and lsof do. The kernel
    keeps no count of the processes holding a socket, so no scan that stops
    early can know it is done: a pre-fork worker whose parent exited, or a
    socket passed to an unrelated process over SCM_RIGHTS while the sender
    keeps its copy, are found only by reading everyone. Each descriptor is
    read relative to its process's open `fd` directory, which spares the
    kernel a full path walk per descriptor; the processes are shared among a
    few threads, since reading a link releases the GIL and the time is spent
    in the kernel (bench/: a third faster on 2 cores at 8,000 sockets).
    """
    owners: dict[int, list[int]] = {}
    if not inodes:
        return owners
    targets = {f"socket:[{inode}]": inode for inode in inodes}
    deadline = None if timeout is None else time.monotonic() + timeout
    pids = sorted(all_pids(proc))
    workers = min(_SCAN_THREADS, os.cpu_count() or 1, max(1, len(pids) // _PIDS_PER_THREAD))
    try:
        if workers > 1:
            # Interleaved shares: neighbouring pids are often alike (one server's workers).
            shares = [pids[i::workers] for i in range(workers)]
            found, empty = _scan_shared(shares, targets, proc, deadline)
        else:
            found, empty = _scan(pids, targets, proc, deadline)
    except _PastDeadlineError:
        from .._errors import ToolTimeoutError

        raise ToolTimeoutError([f"{proc}/*/fd"], timeout or 0.0, what="reading") from None
    for pid, inode in found:
        owners.setdefault(inode, []).append(pid)
    missing = {link: inode for link, inode in targets.items() if inode not in owners}
    if missing:
        # Only now, for sockets no table showed, and only among the processes
        # whose table was empty or unreadable (kernel threads' are too): one
        # whose main thread exited (a zombie leader) holds its sockets in its
        # other threads' tables.
        for pid in empty:
            for inode in _task_held(pid, missing, proc):
                owners.setdefault(inode, []).append(pid)
    return owners


class _PastDeadlineError(Exception):
    """Internal: the scan's deadline passed (see `find_owners`)."""


def _scan(
    pids: list[int], targets: dict[str, int], proc: str, deadline: float | None = None
) -> tuple[list[tuple[int, int]], list[int]]:
    """(pid, inode) for each target socket each of `pids` holds in its own table, and
    the pids whose table was empty or unreadable."""
    found: list[tuple[int, int]] = []
    empty: list[int] = []
    for pid in pids:
        if deadline is not None and time.monotonic() > deadline:
            raise _PastDeadlineError
        try:
            table = _fd_table(f"{proc}/{pid}/fd", targets, deadline)
        except OSError:
            table = None  # a process this user may not read holds nothing it can see
        if table is None:
            empty.append(pid)
        else:
            found += [(pid, inode) for inode in table]
    return found, empty


def _task_held(pid: int, targets: Mapping[str, int], proc: str) -> set[int]:
    """The targets `pid`'s other threads hold, when its leader is a zombie; else none."""
    if not _is_zombie(pid, proc):
        return set()
    return _task_tables(pid, targets, proc)


def _scan_shared(
    shares: list[list[int]], targets: dict[str, int], proc: str, deadline: float | None
) -> tuple[list[tuple[int, int]], list[int]]:
    """`_scan` of each share in its own thread (this one takes the first share).

    Plain threads, not concurrent.futures, which imports logging: the command
    pays every import at start-up. An error in a thread is raised here.
    """
    import threading

    done: list[tuple[list[tuple[int, int]], list[int]]] = [([], []) for _ in shares]
    errors: list[BaseException] = []

    def scan(index: int) -> None:
        try:
            done[index] = _scan(shares[index], targets, proc, deadline)
        except BaseException as exc:  # noqa: BLE001 - raised again below, in the caller
            errors.append(exc)

    threads = [threading.Thread(target=scan, args=(i,)) for i in range(1, len(shares))]
    for thread in threads:
        thread.start()
    scan(0)
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    found = sorted(pair for share, _empty in done for pair in share)
    return found, sorted(pid for _share, empty in done for pid in empty)


# Threads for the descriptor scan, and the fewest processes worth a second one.
_SCAN_THREADS = 4
_PIDS_PER_THREAD = 64


def holders_among(pids: Iterable[int], inode: int, proc: str = PROC) -> list[int]:
    """The pids of `pids` that hold socket `inode` now (a tool's word, checked)."""
    target = {f"socket:[{inode}]": inode}
    return [pid for pid in pids if _held(pid, target, proc)]


def all_pids(proc: str = PROC) -> Iterator[int]:
    with os.scandir(proc) as it:
        for entry in it:
            if entry.name.isdigit():
                yield int(entry.name)


def held(pid: int, targets: Mapping[str, int], proc: str = PROC) -> set[int]:
    """The inodes of `targets` (`socket:[INODE]` -> INODE) among `pid`'s descriptors.

    Empty when the process is gone; PermissionError when this user may not
    read its descriptors ("cannot tell" is not "holds none"). A process whose
    main thread exited while others run shows an empty (or unreadable)
    `/proc/PID/fd`, its leader a zombie: its other threads' tables are read.
    """
    try:
        found = _fd_table(f"{proc}/{pid}/fd", targets)
    except PermissionError:
        if not _is_zombie(pid, proc):
            raise
        found = None
    if found is None and _is_zombie(pid, proc):
        return _task_tables(pid, targets, proc)
    return found or set()


def _fd_table(
    path: str, targets: Mapping[str, int], deadline: float | None = None
) -> set[int] | None:
    """The target inodes in one fd directory; None when it lists no descriptor at all.

    Past `deadline` it stops, between two batches of links: one process may hold
    a million descriptors, and a table is never worth blocking the answer on.
    """
    try:
        fd_dir = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        return set()
    found: set[int] = set()
    try:
        names = os.listdir(fd_dir)
        for index, name in enumerate(names):
            if deadline is not None and not index % 1024 and time.monotonic() > deadline:
                raise _PastDeadlineError
            try:
                link = os.readlink(name, dir_fd=fd_dir)
            except OSError:
                continue  # closed since the listing
            inode = targets.get(link)
            if inode is not None:
                found.add(inode)
    except (FileNotFoundError, ProcessLookupError):
        return set()  # exited while read
    finally:
        os.close(fd_dir)
    return found if names else None


def _is_zombie(pid: int, proc: str) -> bool:
    stat = process_stat(pid, proc)
    return stat is not None and stat.state == "Z"


def _task_tables(pid: int, targets: Mapping[str, int], proc: str) -> set[int]:
    """The target inodes held by `pid`'s other threads (its leader has exited)."""
    found: set[int] = set()
    try:
        tasks = [t for t in os.listdir(f"{proc}/{pid}/task") if t.isdigit() and t != str(pid)]
    except OSError:
        return found
    for task in tasks:
        try:
            found |= _fd_table(f"{proc}/{pid}/task/{task}/fd", targets) or set()
        except PermissionError:
            continue
    return found


def _held(pid: int, targets: Mapping[str, int], proc: str) -> set[int]:
    """`held`, for scans: a process this user may not read holds nothing it can see."""
    try:
        return held(pid, targets, proc)
    except OSError:
        return set()


def enrich(sock: Socket, seen: Seen | None = None) -> Socket:
    """A tool's record with name, uid and identity from /proc and the user from the uid.

    Tools truncate (lsof without +c, netstat) or mangle (ss drops `)`) names;
    /proc/PID/comm is the kernel's own. A pid gone by now keeps the tool's data.
    """
    seen = Seen() if seen is None else seen
    about = None if sock.pid is None else seen.about(sock.pid)
    if about is None:
        return sock if sock.user is not None else attrs.evolve(sock, user=seen.user(sock.uid))
    return _owned(sock, about, sock.socket_id)


# Where a parent chain stops: the processes that start and supervise services.
SERVICE_MANAGERS = frozenset(
    {
        "systemd",
        "init",
        "runit",
        "runsv",
        "s6-svscan",
        "s6-supervise",
        "supervisord",
        "containerd-shim",
        "containerd-shim-runc-v2",
        "conmon",
        "tini",
        "dumb-init",
    }
)
_MAX_CHAIN = 32


def parent_chain(pid: int, proc: str = PROC) -> list[tuple[int, str]]:
    """(pid, name) of `pid`'s parent, its parent's parent..., up to init or a service manager.

    Stops early, without error, where a process is gone or unreadable.
    """
    chain: list[tuple[int, str]] = []
    stat = process_stat(pid, proc)
    while stat is not None and stat.ppid > 0 and len(chain) < _MAX_CHAIN:
        parent = stat.ppid
        info = process_info(parent, proc)
        name = info[0] if info is not None else "?"
        chain.append((parent, name))
        if parent == 1 or name in SERVICE_MANAGERS:
            break
        stat = process_stat(parent, proc)
    return chain
