"""Parser and Linux backend for `lsof`.

Reads field output (`lsof -F ...`, any field set, newline or NUL separated)
and the default column output (`lsof -i`, `lsof -nP -i`, a full `lsof`
listing with non-socket rows and a TID column), on Linux, macOS and FreeBSD.
The backend runs::

    lsof -n -P -w -b -S 2 +c 0 -F pcuLftPnTd -i :PORT

A record is one (socket, process): the DEVICE (field `d`, or the column) is
the socket's kernel identity (the inode on Linux, the kernel address on macOS
and the BSDs), so one socket on several descriptors of one process (launchd,
a dup()) is one record, in `socket_id`. Without a device, each descriptor is
its own record.

Field output sample (one field per line; `p` starts a process, `f` a file)::

    p2051  cpython3  u0  Lroot  f3  tIPv6  PTCP  n*:47001  TST=LISTEN

Column output sample::

    sshd  1127  root  3u  IPv4  30163  0t0  TCP  *:ssh (LISTEN)

lsof exits 1 when nothing matches, and, without root, lists nothing at all of
other users' processes: an empty answer from lsof alone never means "free".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import attrs

from .._errors import ParseError
from .._records import Endpoint, Family, Protocol, Socket
from . import addr as _addr
from .states import state_from_word
from .text import lines

# Version of this parser's output, recorded in each golden file it produced
# (tests/support/golden.py). Raise it with any deliberate change of the records it returns.
FORMAT_VERSION = 2

_TYPES = {"IPv4": Family.IPV4, "IPv6": Family.IPV6}
_PROTOCOLS = {"TCP": Protocol.TCP, "UDP": Protocol.UDP}

# COMMAND PID [TID [TASKCMD]] USER FD TYPE DEVICE [SIZE/OFF] NODE NAME. The
# command may hold spaces (macOS "Brave Bro"); a numeric USER is told apart
# from a TID by the columns that must follow it.
_ROW = re.compile(
    r"^(?P<command>.*?)\s+(?P<pid>\d+)\s+(?:(?P<tid>\d+)\s+(?:\S+\s+)??)?(?P<user>\S+)\s+"
    r"(?P<fd>\S+)\s+(?P<type>IPv4|IPv6)\s+(?P<device>\S+)\s+(?:\S+\s+)?"
    r"(?P<node>TCP|UDP)\s+(?P<name>\S.*?)\s*$"
)
_TYPE_COLUMN = re.compile(r"\sIPv[46]\s")
# Column output escapes blanks and unprintable bytes of names: `my\x20svc`.
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


def _unescape(command: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), command.strip())


@attrs.define
class _File:
    """Fields of one open file in field output, filled as its lines arrive."""

    pid: int | None = None
    command: str | None = None
    uid: int | None = None
    login: str | None = None
    fd: str | None = None
    type: str | None = None
    protocol: str | None = None
    name: str | None = None
    state: str | None = None
    device: str | None = None


def parse(text: str) -> list[Socket]:
    """Every TCP/UDP socket in lsof output, field (-F) or column format, once per
    (socket, process)."""
    return [sock for sock, _device in parse_files(text)]


def parse_files(text: str) -> list[tuple[Socket, str | None]]:
    """Every TCP/UDP socket with its DEVICE (field `d`; None when not shown).

    On Linux the device of a socket is its inode, which tells apart two
    sockets with the same addresses (SO_REUSEADDR, SO_REUSEPORT).
    """
    if is_field_output(text):
        return _parse_fields(text)
    return _parse_columns(text)


def is_field_output(text: str) -> bool:
    first = text.lstrip("\n\0").split("\n", 1)[0].split("\0", 1)[0]
    return bool(re.fullmatch(r"p\d+", first))


def _parse_fields(text: str) -> list[tuple[Socket, str | None]]:
    sockets: dict[tuple[object, ...], tuple[Socket, str | None]] = {}
    for lineno, line, record in _field_files(text):
        try:
            sock = _socket_from_file(record)
        except ValueError as exc:
            raise ParseError("lsof", lineno, line, str(exc)) from None
        if sock is not None:
            sockets.setdefault(_key(record.pid, record.device, record.fd), (sock, record.device))
    return list(sockets.values())


def _field_files(text: str) -> Iterator[tuple[int, str, _File]]:
    """Each complete file of field output, with the line number of its name field."""
    proc = _File()
    current: _File | None = None
    where = (0, "")
    for lineno, raw in enumerate(re.split(r"\n|\0", text), 1):
        line = raw.rstrip("\r")
        if not line:
            continue
        tag, value = line[0], line[1:]
        if tag == "p":
            if current is not None:
                yield (*where, current)
            current = None
            # No process has pid 0; kill(0, ...) would signal the caller's own group.
            proc = _File(pid=_int("pid", value, lineno, line) or None)
        elif tag == "f":
            if current is not None:
                yield (*where, current)
            current = attrs.evolve(proc, fd=value)
            where = (lineno, line)
        elif tag in "cuL":
            target = current if current is not None else proc
            _set_process_field(target, tag, value, lineno, line)
        elif current is not None:
            _set_file_field(current, tag, value)
            if tag == "n":
                where = (lineno, line)
    if current is not None:
        yield (*where, current)


def _int(what: str, value: str, lineno: int, line: str) -> int:
    # isdigit() alone also accepts "²", which int() refuses.
    if not (value.isascii() and value.isdigit()):
        raise ParseError("lsof", lineno, line, f"{what} is not a number")
    return int(value)


def _set_process_field(target: _File, tag: str, value: str, lineno: int, line: str) -> None:
    if tag == "c":
        target.command = value
    elif tag == "u":
        target.uid = _int("uid", value, lineno, line)
    else:
        target.login = value


def _set_file_field(target: _File, tag: str, value: str) -> None:
    if tag == "t":
        target.type = value
    elif tag == "P":
        target.protocol = value
    elif tag == "n":
        target.name = value
    elif tag == "T" and value.startswith("ST="):
        target.state = value[3:]
    elif tag == "d":
        target.device = value


def _key(pid: int | None, device: str | None, fd: object) -> tuple[object, ...]:
    """(process, socket): the device names the socket where lsof prints one, else the fd."""
    return (pid, "device", device) if device else (pid, "fd", fd)


def _socket_from_file(f: _File) -> Socket | None:
    if f.type not in _TYPES or f.protocol not in _PROTOCOLS or not f.name:
        return None  # not an internet socket, or fields not asked for
    login = f.login if f.login is not None and not f.login.isdigit() else None
    return _socket(
        _TYPES[f.type],
        _PROTOCOLS[f.protocol],
        f.name,
        f.state,
        pid=f.pid,
        process=f.command,
        user=login,
        uid=f.uid,
        socket_id=f.device or None,
    )


def _socket(
    family: Family,
    protocol: Protocol,
    name: str,
    state: str | None,
    *,
    pid: int | None,
    process: str | None,
    user: str | None,
    uid: int | None,
    socket_id: str | None,
) -> Socket:
    local_text, arrow, remote_text = name.partition("->")
    local = _endpoint(local_text, protocol, family)
    remote = _endpoint(remote_text, protocol, family) if arrow else None
    if remote is not None and _addr.is_unconnected(remote):
        remote = None  # `*:*`: not connected
    return Socket(
        protocol=protocol,
        family=family,
        local=local,
        remote=remote,
        state=None if protocol is Protocol.UDP or state is None else state_from_word(state),
        pid=pid,
        process=process,
        user=user,
        uid=uid,
        socket_id=socket_id,
    )


def _endpoint(text: str, protocol: Protocol, family: Family) -> Endpoint:
    host, zone, port = _addr.split_colon(text)
    return _addr.make_endpoint(host, zone, port, protocol.value, family)


def _parse_columns(text: str) -> list[tuple[Socket, str | None]]:
    sockets: dict[tuple[object, ...], tuple[Socket, str | None]] = {}
    for lineno, line in enumerate(lines(text), 1):
        if not _TYPE_COLUMN.search(line) or line.startswith("COMMAND"):
            continue  # header, or a file that is not an internet socket
        match = _ROW.match(line)
        if match is None:
            raise ParseError("lsof", lineno, line, "an IPv4/IPv6 row without the expected columns")
        try:
            sock = _socket_from_row(match)
        except ValueError as exc:
            raise ParseError("lsof", lineno, line, str(exc)) from None
        # Thread rows (a TID column) repeat their process's descriptors.
        key = _key(int(match["pid"]), match["device"], (match["fd"], match["name"]))
        sockets.setdefault(key, (sock, match["device"]))
    return list(sockets.values())


def _socket_from_row(match: re.Match[str]) -> Socket:
    name, _, state = match["name"].partition(" (")
    user = match["user"]
    return _socket(
        _TYPES[match["type"]],
        _PROTOCOLS[match["node"]],
        name.strip(),
        state.rstrip(")") or None,
        pid=int(match["pid"]) or None,  # pid 0 is no process (see _field_files)
        process=_unescape(match["command"]),
        user=None if user.isdigit() else user,
        uid=int(user) if user.isdigit() else None,
        socket_id=match["device"],
    )
