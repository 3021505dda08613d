"""A child process that holds sockets for the live tests, run as `python holder.py PLAN`.

PLAN is JSON: {"user": name or null, "fork": bool, "name": comm or null,
"accept": bool, "sockets": [[kind, host], ...]}
with kind one of tcp-listen, udp, tcp-connect (host is then "127.0.0.1:PORT"
or "[::1]:PORT"). It binds each socket to a free port chosen by the kernel
(a UDP socket: to a free port outside the ephemeral range, see `_bind_quiet`),
optionally drops to `user`, optionally forks so that a second process shares
every socket, optionally ("accept") accepts and keeps every connection to its
TCP listeners (so that each accepted socket has an owner), prints one JSON
line {"pids": [...], "ports": [...]} and then sleeps until killed.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import pwd
import socket
import sys
import threading
import time

# Run as a script: its directory, tests/support, is first on sys.path.
from ports import quiet_port  # type: ignore[import-not-found]


def _open(kind: str, host: str) -> socket.socket:
    if kind in ("tcp-connect", "udp-connect"):
        address, _, port = host.rpartition(":")
        address = address.strip("[]")
        # Bound before it connects, so that the test owns its local port: a port
        # that connect() picks by itself may be shared with other connections
        # (to other peers) and TIME_WAIT remnants of the same number; bind()
        # picks one no socket uses, and connect() never shares a bound one.
        if kind == "tcp-connect":
            return socket.create_connection((address, int(port)), source_address=(address, 0))
        udp = socket.socket(
            socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM
        )
        udp.bind((address, 0))
        udp.connect((address, int(port)))
        return udp
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock_type = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
    sock = socket.socket(family, sock_type)
    if kind == "udp":
        _bind_quiet(sock, host)
    else:
        sock.bind((host, 0))
    if kind == "tcp-listen":
        sock.listen()
    return sock


def _bind_quiet(sock: socket.socket, host: str) -> None:
    """Bind a UDP socket outside the ephemeral range (tests/support/ports.py).

    Bound to port 0, it would take a number the kernel also hands to TCP
    sockets (listeners, clients), and the test that owns that TCP port would
    see a UDP socket on it: outside the range, only an explicit bind can.
    """
    for _ in range(50):
        try:
            sock.bind((host, quiet_port()))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            continue  # taken since it was found free: another one
        return
    raise RuntimeError("no quiet port to bind after 50 tries")


def _accept_forever(listener: socket.socket, kept: list[socket.socket]) -> None:
    while True:
        conn, _ = listener.accept()
        kept.append(conn)


def _set_comm(name: str) -> None:
    """Give this process a command name, as /proc/PID/comm shows it (15 bytes at most)."""
    # surrogateescape: a test may ask for bytes that are not UTF-8.
    _prctl(15, name.encode("utf-8", "surrogateescape"))  # PR_SET_NAME


def _prctl(option: int, value: int | bytes) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def main() -> None:
    plan = json.loads(sys.argv[1])
    if plan.get("name"):
        _set_comm(plan["name"])
    if plan.get("user"):
        entry = pwd.getpwnam(plan["user"])
        os.setgroups([])
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
        # setuid() clears the dumpable flag, which hides /proc/PID/fd even from
        # the new user; a process started by that user directly would have it.
        _prctl(4, 1)  # PR_SET_DUMPABLE
    held = [_open(kind, host) for kind, host in plan["sockets"]]
    pids = [os.getpid()]
    if plan.get("fork"):
        child = os.fork()
        if child == 0:
            time.sleep(3600)
            os._exit(0)
        pids.append(child)
    kept: list[socket.socket] = []
    if plan.get("accept"):
        for sock, (kind, _host) in zip(held, plan["sockets"]):
            if kind == "tcp-listen":
                threading.Thread(target=_accept_forever, args=(sock, kept), daemon=True).start()
    ports = [s.getsockname()[1] for s in held]
    print(json.dumps({"pids": pids, "ports": ports}), flush=True)
    try:
        time.sleep(3600)
    finally:
        for pid in pids[1:]:
            os.kill(pid, 9)


if __name__ == "__main__":
    main()
