"""Processes that hold sockets the hard way, for the live "every owner" tests.

Run as `python scenario.py NAME [ARG]`; prints one JSON line {"pids": [...],
"port": N} once the sockets are held, then sleeps until killed (the test kills
the whole session). Scenarios:

- prefork: a listener shared by 3 workers whose parent has exited (the
  workers are reparented to init); pids are the workers'.
- scm-sender ARG: a UDP socket sent over SCM_RIGHTS to the receiver listening
  on the unix socket path ARG, while the sender keeps its own copy.
- scm-receiver ARG: listens on the unix socket path ARG, keeps what it gets.
- named ARG: a TCP listener in a process whose comm and argv[0] are ARG
  (backslash escapes allowed, e.g. `ev\\nil`).
"""

from __future__ import annotations

import array
import json
import os
import socket
import sys
import time
from typing import Callable


def _report(pids: list[int], port: int) -> None:
    print(json.dumps({"pids": pids, "port": port}), flush=True)


def prefork() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    read, write = os.pipe()
    for _ in range(3):
        if os.fork() == 0:
            os.close(read)
            os.write(write, f"{os.getpid()}\n".encode())
            time.sleep(3600)
            os._exit(0)
    os.close(write)
    pids: list[int] = []
    with os.fdopen(read) as pipe:
        while len(pids) < 3:
            pids.append(int(pipe.readline()))
    _report(sorted(pids), port)
    os._exit(0)  # the parent exits; the workers keep the listener


def scm_receiver(path: str) -> None:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen()
    _report([os.getpid()], 0)
    conn, _ = server.accept()
    fds = array.array("i")
    _msg, ancillary, _flags, _addr = conn.recvmsg(1, socket.CMSG_LEN(fds.itemsize))
    kept = [socket.socket(fileno=os.dup(array.array("i", data)[0])) for *_, data in ancillary]
    conn.sendall(b"k")
    time.sleep(3600)
    del kept


def scm_sender(path: str) -> None:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    conn.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [udp.fileno()]))])
    conn.recv(1)  # the receiver holds it now
    _report([os.getpid()], udp.getsockname()[1])
    time.sleep(3600)


def named(name: str) -> None:
    # Re-exec so that argv[0] (what net-tools shows) is the hostile name too.
    raw = name.encode("latin-1").decode("unicode_escape").encode("latin-1")
    argv = [raw, os.fsencode(__file__), b"named-child", name.encode()]
    os.execv(sys.executable, argv)  # noqa: S606 - the test's own interpreter, no shell


def named_child(name: str) -> None:
    raw = name.encode("latin-1").decode("unicode_escape").encode("latin-1")
    with open(f"/proc/{os.getpid()}/comm", "wb") as comm:
        comm.write(raw[:15])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    _report([os.getpid()], listener.getsockname()[1])
    time.sleep(3600)


if __name__ == "__main__":
    scenario, *args = sys.argv[1:]
    scenarios: dict[str, Callable[..., None]] = {
        "prefork": prefork,
        "scm-receiver": scm_receiver,
        "scm-sender": scm_sender,
        "named": named,
        "named-child": named_child,
    }
    scenarios[scenario](*args)
