"""Linux backend with no external tool: the kernel's socket table and `/proc/PID/fd`.

Works in slim containers where ss, lsof and netstat are all missing. The
socket table is asked over sock_diag netlink with the port filtered in the
kernel (`_sockdiag`, what ss does), or read from `/proc/net/{tcp,tcp6,udp,udp6}`
where netlink is refused. Those text tables list every socket of this
network namespace with hex, host-byte-order addresses, a state code, the
socket's uid and its inode; a sample line of /proc/net/tcp::

       0: 0100007F:B79A 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 4910 1 ...

The owners are the processes with a `/proc/PID/fd/N -> socket:[INODE]` link.
The scan stops once every matching socket has an owner, then reads only the
parents and children of the owners found, and of each relative that turns
out to hold the socket too: sockets are shared by inheritance across fork,
so this finds every pre-fork worker and master without reading the
descriptors of every process on the machine. Not found: a socket passed to
an unrelated process over a unix socket (SCM_RIGHTS), or held by siblings
whose common parent closed its copy, unless the scan met that process before
stopping. ss and lsof read every process and do find those.

Other Linux backends use the helpers here to name processes (`/proc/PID/comm`
is authoritative where tools truncate or mangle names) and users.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import pwd
import sys
from collections.abc import Iterable, Iterator

import attrs

from . import _sockdiag
from ._addr import canonical_address
from ._backend import Context, ToolUnusableError
from ._errors import ParseError
from ._records import Endpoint, Family, Protocol, Socket, State

PROC = "/proc"
_TABLES = (
    ("tcp", Protocol.TCP, Family.IPV4),
    ("tcp6", Protocol.TCP, Family.IPV6),
    ("udp", Protocol.UDP, Family.IPV4),
    ("udp6", Protocol.UDP, Family.IPV6),
)
_STATES = {
    1: State.ESTABLISHED,
    2: State.SYN_SENT,
    3: State.SYN_RECV,
    4: State.FIN_WAIT1,
    5: State.FIN_WAIT2,
    6: State.TIME_WAIT,
    7: State.CLOSE,
    8: State.CLOSE_WAIT,
    9: State.LAST_ACK,
    10: State.LISTEN,
    11: State.CLOSING,
    12: State.SYN_RECV,
}


@attrs.frozen
class Entry:
    """One socket of a /proc/net table: the record without owner, and its inode (0: none)."""

    socket: Socket
    inode: int


def parse_table(
    text: str, protocol: Protocol, family: Family, port: int | None = None
) -> list[Entry]:
    """Sockets in the text of one /proc/net table; only those on local `port` if given.

    Addresses are 32-bit words printed in the host's byte order; captures
    from a machine of the other byte order would read wrong, so this reads
    them as this machine's order, as the kernel wrote them.
    """
    needle = None if port is None else f":{port:04X} "
    entries: list[Entry] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if needle is not None and needle not in line:
            continue  # cheap pre-filter on a table of thousands of lines
        fields = line.split()
        if not fields or fields[0] == "sl":
            continue
        try:
            entry = _parse_entry(fields, protocol, family)
        except (ValueError, IndexError) as exc:
            raise ParseError(
                f"/proc/net/{_table_name(protocol, family)}", lineno, line, str(exc)
            ) from None
        if port is None or entry.socket.local.port == port:
            entries.append(entry)
    return entries


def _table_name(protocol: Protocol, family: Family) -> str:
    return protocol.value + ("6" if family is Family.IPV6 else "")


def _parse_entry(fields: list[str], protocol: Protocol, family: Family) -> Entry:
    local = _hex_endpoint(fields[1], family)
    remote = _hex_endpoint(fields[2], family)
    code = int(fields[3], 16)
    state = None if protocol is Protocol.UDP else _STATES.get(code, State.UNKNOWN)
    unconnected = remote.port == 0 and remote.address in ("0.0.0.0", "::")
    return Entry(
        socket=Socket(
            protocol=protocol,
            family=family,
            local=local,
            remote=None if unconnected else remote,
            state=state,
            uid=int(fields[7]),
        ),
        inode=int(fields[9]),
    )


@functools.lru_cache(maxsize=16384)
def _hex_endpoint(text: str, family: Family) -> Endpoint:
    # Cached: the unconnected peer `00000000:0000` is on every listener line,
    # and Endpoint is immutable.
    host, port = text.split(":")
    return Endpoint(address=_hex_address(host, family), port=int(port, 16))


@functools.lru_cache(maxsize=4096)
def _hex_address(host: str, family: Family) -> str:
    # Cached: a host has few addresses, each on many lines, and ipaddress is slow.
    raw = b"".join(
        int(host[i : i + 8], 16).to_bytes(4, sys.byteorder) for i in range(0, len(host), 8)
    )
    expected = 4 if family is Family.IPV4 else 16
    if len(raw) != expected:
        raise ValueError(f"address of {len(raw)} bytes in an {family.value} table")
    return canonical_address(str(ipaddress.ip_address(raw)))


def socket_table(port: int, proc: str = PROC, *, netlink: bool = True) -> list[Entry]:
    """Every socket on local `port` in this network namespace.

    Asked of the kernel over sock_diag netlink, which filters by port (the
    way ss does), table by table; /proc/net text, which lists every socket of
    the machine, where netlink cannot answer. Both give the same entries
    (tests/test_procfs.py compares them on live sockets).
    """
    entries: list[Entry] = []
    for name, protocol, family in _TABLES:
        if netlink:
            try:
                found = _sockdiag.query(port, family, protocol)
            except _sockdiag.SockDiagUnavailable:
                pass
            else:
                entries.extend(Entry(socket=s, inode=inode) for s, inode in found)
                continue
        entries.extend(_read_table(name, protocol, family, port, proc))
    return entries


def _read_table(name: str, protocol: Protocol, family: Family, port: int, proc: str) -> list[Entry]:
    try:
        with open(f"{proc}/net/{name}", encoding="ascii") as f:
            text = f.read()
    except FileNotFoundError:
        if name.endswith("6"):
            return []  # a kernel without IPv6
        raise ToolUnusableError(f"{proc}/net/{name} is missing (is /proc mounted?)") from None
    except PermissionError as exc:
        raise ToolUnusableError(f"cannot read {proc}/net/{name}: {exc.strerror}") from None
    return parse_table(text, protocol, family, port)


def lookup(port: int, ctx: Context) -> list[Socket]:
    """The procfs backend: socket tables, then the owners of the matching inodes."""
    if ctx.platform != "linux":
        raise ToolUnusableError("procfs exists on Linux only")
    entries = socket_table(port)
    owners = find_owners({e.inode for e in entries if e.inode})
    sockets: list[Socket] = []
    for entry in entries:
        pids = owners.get(entry.inode, [])
        sockets.extend(with_owners(entry.socket, pids))
    return sockets


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
