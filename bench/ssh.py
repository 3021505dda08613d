"""Lookups over ssh: `python -m bench.ssh [--runs 20]` (as root; needs openssh-server).

Starts the tests' throwaway sshd on a loopback port (tests/support/sshd.py, without
PAM, whose session modules add a few hundred ms to every command) and a
listener to look up, then times, as medians of RUNS runs each:

- `who_owns(port, host=...)` with connection reuse (the default: one shared
  ssh connection per host, ControlPersist 60 s, and the host's probe
  remembered as long);
- the same without reuse: each run connects anew, probes the host again,
  and every command opens its own ssh connection (`connect(reuse=False)`);
- `ssh host ss -tlnp` run raw, once without a shared connection and once
  through one (ControlMaster), for scale: what a person typing it pays;
- `ssh host true` through a shared connection: the cost of one round trip.

Loopback only: network latency to a real host adds to every ssh round trip
(a reused lookup makes 2 on Linux: ss, then the owner script that reads every
owner's /proc files and names the users; without reuse each is a new
connection plus the probe).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import time
from collections.abc import Callable

import portcheck
from portcheck._lookup import lookup
from portcheck._remote.probe import connect
from portcheck._remote.ssh import control_dir
from tests.support.sshd import SSH, SshServer


def _median_ms(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    server = SshServer.start(pam=False)  # PAM's session modules cost ~0.3 s a command
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    host = server.host()
    os.environ["PORTCHECK_SSH_CONFIG"] = str(server.client_config)
    raw = [SSH, "-F", str(server.client_config), "-p", str(server.port), "-o", "BatchMode=yes"]
    shared = [
        *raw,
        "-o", "ControlMaster=auto",
        "-o", "ControlPersist=60",
        "-o", f"ControlPath={control_dir()}/bench-%C",
    ]  # fmt: skip
    try:
        assert portcheck.who_owns(port, host=host)  # warm: the shared connection exists
        reused = _median_ms(args.runs, lambda: portcheck.who_owns(port, host=host))
        fresh = _median_ms(
            args.runs, lambda: lookup(port, context=connect(host, timeout=10, reuse=False))
        )
        command = ["root@127.0.0.1", "ss", "-tlnp"]
        raw_fresh = _median_ms(
            args.runs, lambda: subprocess.run([*raw, *command], capture_output=True, check=True)
        )
        subprocess.run([*shared, *command], capture_output=True, check=True)
        raw_shared = _median_ms(
            args.runs, lambda: subprocess.run([*shared, *command], capture_output=True, check=True)
        )
        round_trip = _median_ms(
            args.runs,
            lambda: subprocess.run(
                [*shared, "root@127.0.0.1", "true"], capture_output=True, check=True
            ),
        )
        subprocess.run([*shared, "-O", "exit", "root@127.0.0.1"], capture_output=True, check=False)
    finally:
        listener.close()
        server.stop()
    print(f"medians of {args.runs} runs against a loopback sshd, in ms")
    print(f"  who_owns(port, host=...) with connection reuse   {reused:8.1f}")
    print(f"  who_owns without reuse (new connection per run)  {fresh:8.1f}")
    print(f"  ssh host ss -tlnp, raw, new connection           {raw_fresh:8.1f}")
    print(f"  ssh host ss -tlnp, raw, shared connection        {raw_shared:8.1f}")
    print(f"  ssh host true, shared connection (one round trip) {round_trip:7.1f}")
    print(f"  reuse speed-up: {fresh / reused:.1f}x")


if __name__ == "__main__":
    main()
