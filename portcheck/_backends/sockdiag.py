"""The kernel's socket table through sock_diag netlink, filtered by port in the kernel.

This is the interface `ss` uses: a SOCK_DIAG_BY_FAMILY dump request per
(family, protocol) carrying a small bytecode program, "local port >= P and
local port <= P", so the kernel returns only the sockets on the port instead
of formatting every socket of the machine as text. On a host with 8,000
sockets, reading /proc/net/tcp costs about 30 ms; this costs well under one.

Pure standard library, Linux only. Any failure (no netlink in a sandbox, the
udp_diag module not loaded) raises `SockDiagUnavailable` and the caller reads
/proc/net instead.

The socket calls come from `_socket`, the C module under `socket`: `socket`
itself builds four IntEnums from every constant at import, which cost about a
tenth of the command's start-up (bench/startup.py) for names never used here.
Each message is decoded with one `struct` unpack and `inet_ntop`, with no
object per field: a listing decodes thousands (bench/listing.py).
"""

from __future__ import annotations

import _socket
import os
import struct

from .._parsers.proc_net import Entry
from .._parsers.states import KERNEL_STATES
from .._records import Endpoint, Family, Protocol, Socket, State

_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 0x1
_NLM_F_DUMP = 0x300
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_INET_DIAG_REQ_BYTECODE = 1
_BC_S_GE = 2
_BC_S_LE = 3

_NLMSGHDR = struct.Struct("=IHHII")
# inet_diag_req_v2: family, protocol, ext, pad, states; then inet_diag_sockid
# (ports and addresses in network order, interface, cookie).
_REQ = struct.Struct("=BBBBI")
_SOCKID = struct.Struct("!HH16s16s")
_SOCKID_REST = struct.Struct("=III")
# inet_diag_msg, read in one unpack: family, state, (timer, retrans), sport,
# dport (network order: swapped with ntohs), src, dst, interface, (cookie,
# expires, rqueue, wqueue), uid, inode.
_MSG = struct.Struct("=BB2xHH16s16sI8x12xII")
_MSG_SIZE = _MSG.size
_RTATTR = struct.Struct("=HH")
_BC_OP = struct.Struct("=BBH")

_AF_INET, _AF_INET6 = _socket.AF_INET, _socket.AF_INET6
_FAMILIES = {Family.IPV4: _AF_INET, Family.IPV6: _AF_INET6}
_PROTOCOLS = {Protocol.TCP: _socket.IPPROTO_TCP, Protocol.UDP: _socket.IPPROTO_UDP}
_ZERO_32, _ZERO_96, _ZERO_128 = bytes(4), bytes(12), bytes(16)


# Address text by raw 16-byte field, one map per family (see `_decode`).
Names = dict[bytes, str]


class SockDiagUnavailable(Exception):  # noqa: N818 - a condition, not an error to report
    """Internal: the kernel cannot answer over sock_diag here; read /proc/net."""


def port_filter(port: int) -> bytes:
    """Bytecode accepting local port == `port` (as ss builds `sport = :P`).

    Each test op is followed by an op holding the port; `yes` steps to the
    next test, `no` jumps past the end + 4, which the kernel reads as reject.
    """
    return b"".join(
        (
            _BC_OP.pack(_BC_S_GE, 8, 20),
            _BC_OP.pack(0, 0, port),
            _BC_OP.pack(_BC_S_LE, 8, 12),
            _BC_OP.pack(0, 0, port),
        )
    )


# Kernel state numbers of the listening sockets: TCP_LISTEN; for UDP, TCP_CLOSE,
# the state of a UDP socket with no peer (a connected one is ESTABLISHED).
LISTENING_STATES = {Protocol.TCP: 1 << 10, Protocol.UDP: 1 << 7}
ALL_STATES = 0xFFFFFFFF
# TCP_BOUND_INACTIVE (13, Linux 6.5+): bound, neither listening nor connected.
# Only sock_diag lists such a socket (not /proc/net/tcp, ss -a, netstat, lsof);
# an older kernel ignores the bit and returns nothing.
BOUND_STATES = 1 << 13


def request(
    port: int | None, family: Family, protocol: Protocol, seq: int, states: int = ALL_STATES
) -> bytes:
    """A dump request for every socket of one family and protocol in `states` (a bit
    mask of kernel state numbers) on local `port`, or on any port when None."""
    body = _REQ.pack(_FAMILIES[family], _PROTOCOLS[protocol], 0, 0, states)
    # The local port in the request's socket id lets the kernel skip every
    # other socket with one compare before it runs the bytecode (inet_diag
    # and udp_diag dumps check `idiag_sport` first): 5 ms a table fell to
    # well under one at 8,000 sockets. The bytecode stays, for kernels that
    # check only it.
    sport = 0 if port is None else port
    body += _SOCKID.pack(sport, 0, bytes(16), bytes(16)) + _SOCKID_REST.pack(0, 0, 0)
    if port is not None:
        bytecode = port_filter(port)
        body += _RTATTR.pack(_RTATTR.size + len(bytecode), _INET_DIAG_REQ_BYTECODE) + bytecode
    header = _NLMSGHDR.pack(
        _NLMSGHDR.size + len(body), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST | _NLM_F_DUMP, seq, 0
    )
    return header + body


def parse_message(data: bytes, protocol: Protocol) -> tuple[Socket, int]:
    """(socket without owner, inode) from one inet_diag_msg payload."""
    if len(data) < _MSG_SIZE:
        raise SockDiagUnavailable(f"short inet_diag_msg of {len(data)} bytes")
    entry = _decode(data, 0, protocol, {}, {})
    return entry.socket, entry.inode


def _decode(data: bytes, offset: int, protocol: Protocol, names4: Names, names6: Names) -> Entry:
    """The message at `offset` of `data` (at least `_MSG_SIZE` bytes there).

    `names4`/`names6` map the raw 16-byte address fields of one family to their
    text, for the rest of the dump: a host has few addresses, each on many
    sockets, and a listing decodes thousands (bench/listing.py).
    """
    code, state, sport, dport, src, dst, ifindex, uid, inode = _MSG.unpack_from(data, offset)
    if code == _AF_INET:
        family, names = _IPV4, names4
    else:
        code, family, names = _AF_INET6, _IPV6, names6
    address = names.get(src)
    if address is None:
        address = names[src] = _address(code, src)
    # The interface a socket is bound to (a link-local address needs one) is
    # its scope: printed as ss prints it, on the local end only.
    local = Endpoint(address=address, port=_ntohs(sport), zone=_zone(ifindex) if ifindex else None)
    # "No peer" (`*:*`, `0.0.0.0:0`, `[::]:0`), the state of every listener.
    if dport == 0 and _unset(code, dst):
        remote = None
    else:
        peer = names.get(dst)
        if peer is None:
            peer = names[dst] = _address(code, dst)
        remote = Endpoint(address=peer, port=_ntohs(dport))
    state = None if protocol is _UDP else _STATES.get(state, _UNKNOWN)
    return Entry(protocol, family, local, remote, state, uid, inode)


def _unset(code: int, raw: bytes) -> bool:
    """True for the all-zero address of family `code` in a 16-byte field (the kernel
    zeroes an IPv4 address's last 12 bytes; only the first 4 are read)."""
    return raw == _ZERO_128 or (code == _AF_INET and raw[:4] == _ZERO_32)


# Enum members read once: in Python 3.11 each `Family.IPV4` is a descriptor
# call, a quarter of a microsecond, and a listing decodes thousands of messages.
_IPV4, _IPV6, _UDP, _UNKNOWN = Family.IPV4, Family.IPV6, Protocol.UDP, State.UNKNOWN
_STATES = dict(KERNEL_STATES)
_ntohs = _socket.ntohs


def _zone(ifindex: int) -> str | None:
    if not ifindex:
        return None
    try:
        return _socket.if_indextoname(ifindex)
    except OSError:
        return str(ifindex)  # the interface is gone: its index still tells the scope


def _address(code: int, raw: bytes) -> str:
    """Canonical IP text (as `_parsers.addr.canonical_address` writes it) of packed `raw`
    (of an IPv4 address, the first 4 bytes are read).

    inet_ntop already writes the canonical form (RFC 5952, and `::ffff:` with
    the IPv4 address dotted), except that glibc also dots the deprecated
    IPv4-compatible `::a.b.c.d`, which is written in hex here as elsewhere.
    """
    if code == _AF_INET6 and raw[:12] == _ZERO_96 and raw[12:14] != b"\0\0":
        high, low = struct.unpack_from("!HH", raw, 12)
        return f"::{high:x}:{low:x}"
    return _socket.inet_ntop(code, raw[:4] if code == _AF_INET else raw)


def query(
    port: int | None,
    family: Family,
    protocol: Protocol,
    *,
    listening: bool = False,
    states: int | None = None,
) -> list[Entry]:
    """Every socket of `family`/`protocol` on local `port` (any: None), as table entries.

    `listening` asks the kernel for the listening states only; `states`, a
    mask of kernel state bits (`BOUND_STATES`), for those states only.
    """
    if states is None:
        states = LISTENING_STATES[protocol] if listening else ALL_STATES
    try:
        sock = _socket.socket(_socket.AF_NETLINK, _socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG)
    except (OSError, AttributeError) as exc:
        raise SockDiagUnavailable(f"no sock_diag netlink socket: {exc}") from None
    try:
        seq = 1
        sock.sendto(request(port, family, protocol, seq, states), (0, 0))
        return _receive(sock, seq, protocol)
    finally:
        sock.close()


def _receive(sock: _socket.socket, seq: int, protocol: Protocol) -> list[Entry]:
    found: list[Entry] = []
    names4: Names = {}
    names6: Names = {}
    header = _NLMSGHDR.size
    while True:
        data = sock.recv(65536)
        offset, end = 0, len(data)
        while offset + header <= end:
            length, kind, _flags, msg_seq, _pid = _NLMSGHDR.unpack_from(data, offset)
            if length < header:
                raise SockDiagUnavailable("malformed netlink message")
            start, size = offset + header, min(length, end - offset) - header
            offset += (length + 3) & ~3
            if msg_seq != seq:
                continue
            if kind == _SOCK_DIAG_BY_FAMILY:
                if size < _MSG_SIZE:
                    raise SockDiagUnavailable(f"short inet_diag_msg of {size} bytes")
                found.append(_decode(data, start, protocol, names4, names6))
            elif kind == _NLMSG_DONE:
                return found
            elif kind == _NLMSG_ERROR:
                import errno

                code = -struct.unpack_from("=i", data, start)[0] if size >= 4 else 0
                raise SockDiagUnavailable(
                    f"sock_diag refused: {errno.errorcode.get(code, code)} {os.strerror(code)}"
                )
