"""A pre-fork server for the tests: `python prefork.py WORKERS`.

Binds a TCP listener on 127.0.0.1 port 0, forks WORKERS children that share
the listener, each with a pid of four digits or more (a child with a shorter
pid is killed and forked again): 61 such pids make a `ps -p` word of over 300
characters, past the 200 a remote word may hold, and prints one JSON
line: {"port": N, "pids": [parent, workers...]}. Then every process waits
until killed (the test kills the process group).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time

LOW = 1000


def _wide() -> bool:
    with open("/proc/sys/kernel/pid_max") as f:
        return int(f.read()) > LOW


def _worker() -> int:
    """Fork one worker whose pid has four digits or more (where pid_max allows).

    A child whose pid is lower is killed and another forked: pids climb by one a
    fork, and the counter wraps past pid_max (back to 300) while the other tests
    of a parallel run fork too, so a worker may get a short pid at any time.
    Four digits, not five: after a wrap, climbing to 10000 took 9,700 forks.
    """
    wide = _wide()
    for _ in range(4 * LOW):
        pid = os.fork()
        if pid == 0:
            while True:
                time.sleep(3600)
        if pid >= LOW or not wide:
            return pid
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    raise SystemExit(f"no pid of {LOW} or more after {4 * LOW} forks")


def main() -> None:
    workers = int(sys.argv[1])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    pids = [os.getpid(), *(_worker() for _ in range(workers))]
    print(json.dumps({"port": listener.getsockname()[1], "pids": pids}), flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
