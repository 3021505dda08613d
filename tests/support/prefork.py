"""A pre-fork server for the tests: `python prefork.py WORKERS`.

Binds a TCP listener on 127.0.0.1 port 0, makes sure the workers' pids have
five digits or more (forking short-lived children until the kernel hands out
pids past 10000, where pid_max allows it), forks WORKERS children that share
the listener, and prints one JSON line: {"port": N, "pids": [parent, workers...]}.
Then every process waits until killed (the test kills the process group).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time


def _push_pids_past(low: int) -> None:
    with open("/proc/sys/kernel/pid_max") as f:
        if int(f.read()) <= low:
            return
    for _ in range(low + 1):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        if pid >= low:
            return


def main() -> None:
    workers = int(sys.argv[1])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    _push_pids_past(10000)
    pids = [os.getpid()]
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            while True:
                time.sleep(3600)
        pids.append(pid)
    print(json.dumps({"port": listener.getsockname()[1], "pids": pids}), flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
