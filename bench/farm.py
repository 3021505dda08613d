"""A socket farm: N processes holding M sockets each, and a target listener on a known port.

Each farm process opens one listener on loopback and connects pairs to it
(client socket + accepted socket, both held), so that the machine's socket
tables hold about N * M sockets. The farm is started and stopped by the
benchmark (`with Farm(processes=200, sockets=8000) as farm: ...`).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
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


class Farm:
    """Start `processes` workers holding `sockets` sockets in all, plus a target listener."""

    def __init__(self, processes: int, sockets: int) -> None:
        self.processes = processes
        self.sockets = sockets
        self.procs: list[subprocess.Popen[str]] = []
        self.target_port = 0
        self.target_pid = 0
        self.held = 0

    def __enter__(self) -> Farm:
        per_process = max(1, self.sockets // self.processes)
        for _ in range(self.processes):
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, __file__, "worker", str(per_process)],
                    stdout=subprocess.PIPE,
                    text=True,
                    start_new_session=True,
                )
            )
        reports = []
        for proc in self.procs:
            assert proc.stdout is not None
            reports.append(json.loads(proc.stdout.readline()))
        self.held = sum(r["sockets"] for r in reports)
        # The target: the listener of the process in the middle of the farm, as
        # on a real machine, where the owner is neither the first process nor the last.
        target = reports[len(reports) // 2]
        self.target_pid, self.target_port = target["pid"], target["port"]
        time.sleep(0.2)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for proc in self.procs:
            os.killpg(proc.pid, signal.SIGKILL)
        for proc in self.procs:
            proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    _worker(int(sys.argv[2]))
