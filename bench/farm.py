"""A socket farm: N processes holding M sockets each, and a target listener on a known port.

Each farm process opens one listener on loopback and connects pairs to it
(client socket + accepted socket, both held), so that the machine's socket
tables hold about N * M sockets. The farm is started and stopped by the
benchmark (`with Farm(processes=200, sockets=8000) as farm: ...`).

The target listener is held by two unrelated processes, the first and the
last started (first and last in pid order, unless pids wrapped): the
"origin" opens it before the farm starts, the "adopter" receives a copy over
SCM_RIGHTS after it, and both keep it. An answer counts only if it names both:
a lookup that stops at the first holder it meets cannot pass.
"""

from __future__ import annotations

import array
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from types import TracebackType


def _worker(count: int) -> None:
    """Hold `count` sockets: one listener and (count - 1) // 2 connected pairs."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, count + 64)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    held = [listener]
    address = listener.getsockname()
    for _ in range((count - 1) // 2):
        client = socket.create_connection(address)
        server, _ = listener.accept()
        held += [client, server]
    print(json.dumps({"pid": os.getpid(), "port": address[1], "sockets": len(held)}), flush=True)
    signal.pause()


def _origin(path: str) -> None:
    """Open the target listener and hand a copy to whoever connects to `path`; keep ours."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen()
    print(json.dumps({"pid": os.getpid(), "port": listener.getsockname()[1]}), flush=True)
    conn, _ = server.accept()
    conn.sendmsg(
        [b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [listener.fileno()]))]
    )
    signal.pause()


def _adopter(path: str) -> None:
    """Receive the target listener from the origin over SCM_RIGHTS and keep it."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    fds = array.array("i")
    _msg, ancillary, _flags, _addr = conn.recvmsg(1, socket.CMSG_LEN(fds.itemsize))
    kept = [socket.socket(fileno=array.array("i", data)[0]) for *_, data in ancillary]
    print(json.dumps({"pid": os.getpid(), "held": len(kept)}), flush=True)
    signal.pause()


class Farm:
    """Start `processes` workers holding `sockets` sockets in all, plus a target listener."""

    def __init__(self, processes: int, sockets: int) -> None:
        self.processes = processes
        self.sockets = sockets
        self.procs: list[subprocess.Popen[str]] = []
        self.target_port = 0
        self.target_pids: tuple[int, int] = (0, 0)
        self.held = 0

    def _start(self, *args: str) -> dict[str, int]:
        proc = spawn([sys.executable, __file__, *args])
        self.procs.append(proc)
        assert proc.stdout is not None
        report: dict[str, int] = json.loads(proc.stdout.readline())
        return report

    def __enter__(self) -> Farm:
        path = os.path.join(tempfile.mkdtemp(prefix="portcheck-farm-"), "target")
        origin = self._start("origin", path)
        per_process = max(1, self.sockets // self.processes)
        for _ in range(self.processes):
            self.procs.append(spawn([sys.executable, __file__, "worker", str(per_process)]))
        reports = []
        for proc in self.procs[1:]:
            assert proc.stdout is not None
            reports.append(json.loads(proc.stdout.readline()))
        self.held = sum(r["sockets"] for r in reports) + 1
        adopter = self._start("adopter", path)
        self.target_port = origin["port"]
        self.target_pids = (origin["pid"], adopter["pid"])
        time.sleep(0.2)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stop(self.procs)


def spawn(argv: list[str], cwd: str | None = None) -> subprocess.Popen[str]:
    """A process in a session of its own (for `stop`), its standard output a pipe."""
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, text=True, start_new_session=True, cwd=cwd
    )


def stop(procs: list[subprocess.Popen[str]]) -> None:
    """Kill each process's group (started with a session of its own) and reap it."""
    for proc in procs:
        os.killpg(proc.pid, signal.SIGKILL)
    for proc in procs:
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        _worker(int(sys.argv[2]))
    elif sys.argv[1] == "origin":
        _origin(sys.argv[2])
    elif sys.argv[1] == "adopter":
        _adopter(sys.argv[2])
