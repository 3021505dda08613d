"""Processes for the `stop_owners` live tests, run as `python kill_targets.py MODE`.

Each binds a TCP listener on 127.0.0.1 at a port the kernel chooses, prints one
JSON line {"port": N, "pids": [...]} (the processes that hold it) and waits.

- listen: one process holds it.
- ignore-term: one process that ignores SIGTERM.
- orphans: a parent binds, forks two workers that keep the socket, and exits.
- scm-rights: a child is forked first (holding nothing), the parent then binds
  and sends the listener to it over a unix socket (SCM_RIGHTS); both keep it.
- supervised: a supervisor (holding nothing) starts a child that binds the
  port, and starts a new one on the same port whenever it exits.
- tree: one holder with a child that holds nothing (pids: holder, child).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time


def _listener(port: int = 0) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port or _quiet_port()))
    sock.listen()
    return sock


def _quiet_port() -> int:
    """A free port outside the ephemeral range (tests/support/ports.py says why: once
    the owner is killed, a port from the range may go at once to another process's
    connect(), which the kill would then report as a respawn)."""
    import random

    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        first = int(f.read().split()[0])
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randint(10000, first - 1)
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                with socket.socket(socket.AF_INET, kind) as probe:
                    probe.bind(("0.0.0.0", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no quiet port")


def _report(port: int, pids: list[int]) -> None:
    print(json.dumps({"port": port, "pids": pids}), flush=True)


def _sleep_forever() -> None:
    while True:
        time.sleep(3600)


def main() -> None:
    mode = sys.argv[1]
    if mode in ("listen", "ignore-term"):
        if mode == "ignore-term":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sock = _listener()
        _report(sock.getsockname()[1], [os.getpid()])
        _sleep_forever()
    elif mode == "tree":
        child = os.fork()  # before the bind: the child never holds the socket
        if child == 0:
            _sleep_forever()
        sock = _listener()
        _report(sock.getsockname()[1], [os.getpid(), child])
        _sleep_forever()
    elif mode == "orphans":
        sock = _listener()
        workers = []
        for _ in range(2):
            pid = os.fork()
            if pid == 0:
                _sleep_forever()
            workers.append(pid)
        _report(sock.getsockname()[1], workers)
        os._exit(0)
    elif mode == "scm-rights":
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        child = os.fork()
        if child == 0:
            parent_end.close()
            _msg, fds, _flags, _addr = socket.recv_fds(child_end, 16, 1)
            kept = socket.socket(fileno=fds[0])
            child_end.send(b"k")
            _sleep_forever()
            kept.close()
        child_end.close()
        sock = _listener()
        socket.send_fds(parent_end, [b"l"], [sock.fileno()])
        parent_end.recv(1)
        _report(sock.getsockname()[1], [os.getpid(), child])
        _sleep_forever()
    elif mode == "supervised":
        _supervise()


def _supervise() -> None:
    import subprocess

    code = (
        "import socket,sys,time\n"
        "s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
        "s.bind(('127.0.0.1',int(sys.argv[1])));s.listen()\n"
        "print(s.getsockname()[1],flush=True);time.sleep(3600)\n"
    )
    port = 0
    first = True
    while True:
        child = subprocess.Popen([sys.executable, "-c", code, str(port)], stdout=subprocess.PIPE)
        assert child.stdout is not None
        port = int(child.stdout.readline())
        if first:
            _report(port, [child.pid])
            first = False
        child.wait()
        child.stdout.close()


if __name__ == "__main__":
    main()
