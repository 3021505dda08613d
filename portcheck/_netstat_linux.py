"""Parser and backend for Linux `netstat` (net-tools, and BusyBox's).

Reads net-tools output with any of `-a -l -n -p -e -t -u -W` and BusyBox
`netstat`; the unix-domain and other sections after the inet rows are
skipped. The backend runs `netstat -t -u -a -n -p -e -W` and filters the port
in Python (netstat has no filter). A sample row (`netstat -tuanpeW`)::

    tcp6       0      0 :::47001          :::*             LISTEN  0  4909  2051/python3

net-tools names ONE process per socket even when several hold it, so the
backend completes the list of holders from /proc. Without root, other users'
owners print as `-` (pid None) and a warning goes to stderr.
"""

from __future__ import annotations

import re

import attrs

from . import _addr, _procfs
from ._backend import Context, decode, run_checked, tool_path
from ._errors import ParseError
from ._records import Family, Protocol, Socket
from ._states import state_from_word

_INET = {"tcp": Protocol.TCP, "tcp6": Protocol.TCP, "udp": Protocol.UDP, "udp6": Protocol.UDP}
_SKIPPED = {"raw", "raw6", "udpl", "udpl6", "unix", "sctp", "sctp6", "ax25", "ipx", "netrom"}
# After the inet rows: `STATE`, then with -e `User Inode`, then with -p `PID/Program name`
# (the program name may hold spaces: `1234/sshd: /usr/sbin`) or `-` when hidden.
_REST = re.compile(
    r"^(?:(?P<state>[A-Z][A-Z0-9_]*)(?:\s+|$))?"
    r"(?:(?P<user>\S+)\s+(?P<inode>\d+)(?:\s+|$))?"
    r"(?P<owner>\d+/.*?|-)?\s*$"
)


@attrs.frozen
class Row:
    """A parsed row: the socket and, when `-e` was given, its inode."""

    socket: Socket
    inode: int | None


def parse(text: str) -> list[Socket]:
    """Every TCP/UDP socket in netstat output."""
    return [row.socket for row in parse_rows(text)]


def parse_rows(text: str) -> list[Row]:
    """Every TCP/UDP row with its inode (None without -e)."""
    rows: list[Row] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        first = line.split(None, 1)[0] if line.strip() else ""
        if first == "Active" and "Internet" not in line:
            break  # unix-domain (or Bluetooth) section: not ours
        if first in ("", "Active", "Proto") or first in _SKIPPED:
            continue
        if first not in _INET:
            raise ParseError("netstat", lineno, line, f"unknown protocol {first!r}")
        try:
            rows.append(_parse_row(line))
        except (ValueError, IndexError) as exc:
            raise ParseError("netstat", lineno, line, str(exc)) from None
    return rows


def _parse_row(line: str) -> Row:
    fields = line.split(None, 5)
    if len(fields) < 5:
        raise ValueError("fewer columns than Proto Recv-Q Send-Q Local Foreign")
    proto, _recvq, _sendq, local_text, foreign_text = fields[:5]
    protocol = _INET[proto]
    local_host, local_zone, local_port = _addr.split_colon(local_text)
    # BusyBox labels IPv6 sockets `tcp`/`udp`: the address tells the family.
    family = Family.IPV6 if proto.endswith("6") else _addr.family_of(local_host) or Family.IPV4
    local = _addr.make_endpoint(local_host, local_zone, local_port, protocol.value, family)
    remote = _addr.make_endpoint(*_addr.split_colon(foreign_text), protocol.value, family)
    match = _REST.match(fields[5] if len(fields) > 5 else "")
    if match is None:
        raise ValueError("unreadable State/User/Inode/PID columns")
    pid, process = _owner(match["owner"])
    user_text = match["user"]
    state = match["state"]
    return Row(
        socket=Socket(
            protocol=protocol,
            family=family,
            local=local,
            remote=None if _addr.is_unconnected(remote) else remote,
            state=state_from_word(state) if protocol is Protocol.TCP and state else None,
            pid=pid,
            process=process,
            user=user_text if user_text and not user_text.isdigit() else None,
            uid=int(user_text) if user_text and user_text.isdigit() else None,
        ),
        inode=int(match["inode"]) if match["inode"] else None,
    )


def _owner(text: str | None) -> tuple[int | None, str | None]:
    if not text or text == "-":
        return None, None
    pid, _, name = text.partition("/")
    if int(pid) == 0:
        return None, None  # no process has pid 0: kill(0, ...) would hit the caller's group
    return int(pid), name.rstrip() or None


def lookup(port: int, ctx: Context) -> list[Socket]:
    """Run netstat, keep the port's rows, and complete the holders of shared sockets."""
    netstat = tool_path(ctx, "netstat", "net-tools")
    done = run_checked(ctx, [netstat, "-t", "-u", "-a", "-n", "-p", "-e", "-W"])
    rows = [r for r in parse_rows(decode(done.stdout)) if r.socket.local.port == port]
    # Holders of every socket with an inode: net-tools names one process per
    # socket, and this also finds owners netstat printed as `-` but /proc shows.
    holders = _procfs.find_owners({r.inode for r in rows if r.inode})
    sockets: list[Socket] = []
    for row in rows:
        shown = [] if row.socket.pid is None else [row.socket.pid]
        sockets.extend(_procfs.with_owners(row.socket, holders.get(row.inode or 0) or shown))
    return sockets
