"""The kernel's socket table through sock_diag netlink, filtered by port in the kernel.

This is the interface `ss` uses: a SOCK_DIAG_BY_FAMILY dump request per
(family, protocol) carrying a small bytecode program, "local port >= P and
local port <= P", so the kernel returns only the sockets on the port instead
of formatting every socket of the machine as text. On a host with 8,000
sockets, reading /proc/net/tcp costs about 30 ms; this costs well under one.

Pure standard library (`socket.AF_NETLINK`), Linux only. Any failure (no
netlink in a sandbox, the udp_diag module not loaded) raises
`SockDiagUnavailable` and the caller reads /proc/net instead.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct

from .._parsers.addr import canonical_address, is_unconnected
from .._parsers.states import kernel_state
from .._records import Endpoint, Family, Protocol, Socket

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
# inet_diag_msg: family, state, timer, retrans, sockid (48 bytes), expires,
# rqueue, wqueue, uid, inode.
_MSG_HEAD = struct.Struct("=BBBB")
_MSG_TAIL = struct.Struct("=IIIII")
_MSG_SIZE = _MSG_HEAD.size + 48 + _MSG_TAIL.size
_RTATTR = struct.Struct("=HH")
_BC_OP = struct.Struct("=BBH")

_FAMILIES = {Family.IPV4: socket.AF_INET, Family.IPV6: socket.AF_INET6}
_PROTOCOLS = {Protocol.TCP: socket.IPPROTO_TCP, Protocol.UDP: socket.IPPROTO_UDP}


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
    family_code, state_code, _timer, _retrans = _MSG_HEAD.unpack_from(data)
    sport, dport, src, dst = _SOCKID.unpack_from(data, _MSG_HEAD.size)
    (ifindex, _cookie_lo, _cookie_hi) = _SOCKID_REST.unpack_from(
        data, _MSG_HEAD.size + _SOCKID.size
    )
    _expires, _rqueue, _wqueue, uid, inode = _MSG_TAIL.unpack_from(data, _MSG_HEAD.size + 48)
    family = Family.IPV4 if family_code == socket.AF_INET else Family.IPV6
    size = 4 if family is Family.IPV4 else 16
    # The interface a socket is bound to (a link-local address needs one) is
    # its scope: printed as ss prints it, on the local end only.
    local = Endpoint(address=_address(src[:size]), port=sport, zone=_zone(ifindex))
    remote = Endpoint(address=_address(dst[:size]), port=dport)
    sock = Socket(
        protocol=protocol,
        family=family,
        local=local,
        remote=None if is_unconnected(remote) else remote,
        state=None if protocol is Protocol.UDP else kernel_state(state_code),
        uid=uid,
    )
    return sock, inode


def _zone(ifindex: int) -> str | None:
    if not ifindex:
        return None
    try:
        return socket.if_indextoname(ifindex)
    except OSError:
        return str(ifindex)  # the interface is gone: its index still tells the scope


def _address(raw: bytes) -> str:
    return canonical_address(str(ipaddress.ip_address(raw)))


def query(
    port: int | None,
    family: Family,
    protocol: Protocol,
    *,
    listening: bool = False,
    states: int | None = None,
) -> list[tuple[Socket, int]]:
    """Every socket of `family`/`protocol` on local `port` (any: None), with its inode.

    `listening` asks the kernel for the listening states only; `states`, a
    mask of kernel state bits (`BOUND_STATES`), for those states only.
    """
    if states is None:
        states = LISTENING_STATES[protocol] if listening else ALL_STATES
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG)
    except (OSError, AttributeError) as exc:
        raise SockDiagUnavailable(f"no sock_diag netlink socket: {exc}") from None
    with sock:
        seq = 1
        sock.sendto(request(port, family, protocol, seq, states), (0, 0))
        return _receive(sock, seq, protocol)


def _receive(sock: socket.socket, seq: int, protocol: Protocol) -> list[tuple[Socket, int]]:
    found: list[tuple[Socket, int]] = []
    while True:
        data = sock.recv(65536)
        offset = 0
        while offset + _NLMSGHDR.size <= len(data):
            length, kind, _flags, msg_seq, _pid = _NLMSGHDR.unpack_from(data, offset)
            if length < _NLMSGHDR.size:
                raise SockDiagUnavailable("malformed netlink message")
            payload = data[offset + _NLMSGHDR.size : offset + length]
            offset += (length + 3) & ~3
            if msg_seq != seq:
                continue
            if kind == _NLMSG_DONE:
                return found
            if kind == _NLMSG_ERROR:
                code = -struct.unpack_from("=i", payload)[0]
                raise SockDiagUnavailable(
                    f"sock_diag refused: {errno.errorcode.get(code, code)} {os.strerror(code)}"
                )
            if kind == _SOCK_DIAG_BY_FAMILY:
                found.append(parse_message(payload, protocol))
