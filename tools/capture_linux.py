"""Make the Linux fixture captures of this machine's tools, with real sockets open.

Run as root from the repository root: `python -m tools.capture_linux SYSTEM`
(SYSTEM names the machine, e.g. debian-12). It starts holder processes with
known sockets (TCP/UDP, IPv4/IPv6, listening and connected, a socket shared
by two processes, a socket of user `nobody`, a process whose name holds a
space and a parenthesis), runs each backend's exact command as root and as
`nobody`, and writes `tests/fixtures/linux/SYSTEM--COMMAND.out` verbatim.
Then `python -m tools.regen` writes the golden files, to be reviewed as a diff.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "linux"
HOLDER = ROOT / "tests" / "support" / "holder.py"
ENV = {"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def _hold(plan: dict[str, object]) -> tuple[subprocess.Popen[str], dict[str, list[int]]]:
    proc = subprocess.Popen(
        [sys.executable, str(HOLDER), json.dumps(plan)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def _capture(out: Path, system: str, slug: str, argv: list[str], user: str | None = None) -> None:
    name = f"{system}{'-as-' + user if user else ''}--{slug}.out"
    if not Path(argv[0]).exists():
        print(f"{name}: skipped, {argv[0]} is not installed")
        return
    prefix = ["/usr/sbin/runuser", "-u", user, "--"] if user else []
    done = subprocess.run(prefix + argv, capture_output=True, env=ENV, check=False)
    (out / name).write_bytes(done.stdout)
    print(
        f"{name}: exit {done.returncode}, {len(done.stdout.splitlines())} lines,"
        f" stderr {done.stderr[:120]!r}"
    )


def main(system: str, out: Path = OUT) -> None:
    """Capture every command into `out` (the fixtures directory by default)."""
    server, s = _hold(
        {
            "sockets": [
                ["tcp-listen", "127.0.0.1"],
                ["tcp-listen", "::"],
                ["udp", "0.0.0.0"],
                ["udp", "::1"],
            ],
            "fork": True,
        }
    )
    port = s["ports"][0]
    client, _ = _hold(
        {
            "sockets": [
                ["tcp-connect", f"127.0.0.1:{port}"],
                ["tcp-connect", f"[::1]:{s['ports'][1]}"],
                ["udp-connect", f"127.0.0.1:{s['ports'][2]}"],
            ],
            "name": "my svc)1 (x",
        }
    )
    other, _ = _hold({"sockets": [["tcp-listen", "0.0.0.0"], ["udp", "::"]], "user": "nobody"})
    procs = [server, client, other]
    try:
        lsof = "/usr/bin/lsof"
        ss = "/usr/bin/ss"
        netstat = "/usr/bin/netstat"
        for user in (None, "nobody"):
            _capture(
                out,
                system,
                "ss-tuanpe-sport-eq-port",
                [ss, "-t", "-u", "-a", "-n", "-p", "-e", "sport", "=", f":{port}"],
                user,
            )
            _capture(out, system, "ss-tuanpe", [ss, "-tuanpe"], user)
            _capture(
                out,
                system,
                "lsof-nPwb-c0-F-i-port",
                [
                    lsof,
                    "-n",
                    "-P",
                    "-w",
                    "-b",
                    "-S",
                    "2",
                    "+c",
                    "0",
                    "-F",
                    "pcuLftPnT",
                    "-i",
                    f":{port}",
                ],
                user,
            )
            _capture(out, system, "lsof-nP-i", [lsof, "-nP", "-i"], user)
            _capture(
                out,
                system,
                "netstat-tuanpeW",
                [netstat, "-t", "-u", "-a", "-n", "-p", "-e", "-W"],
                user,
            )
        _capture(out, system, "ss-tulpn", [ss, "-tulpn"])
        _capture(out, system, "ss-tuaH", [ss, "-tuaH"])
        _capture(out, system, "ss-tan", [ss, "-tan"])
        _capture(out, system, "lsof-i", [lsof, "-i"])
        _capture(out, system, "lsof-F0-i", [lsof, "-F0", "-i"])
        _capture(out, system, "netstat-tulp", [netstat, "-tulp"])
        _capture(out, system, "netstat-an", [netstat, "-an"])
        _capture(out, system, "proc-net-tcp", ["/bin/cat", "/proc/net/tcp"])
        _capture(out, system, "proc-net-tcp6", ["/bin/cat", "/proc/net/tcp6"])
        _capture(out, system, "proc-net-udp", ["/bin/cat", "/proc/net/udp"])
        _capture(out, system, "proc-net-udp6", ["/bin/cat", "/proc/net/udp6"])
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGKILL)  # the holder and its forked child
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("run as root: the captures include a socket of user nobody and runs as nobody")
    main(sys.argv[1])
