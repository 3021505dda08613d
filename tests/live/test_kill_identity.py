"""`portcheck kill` against real processes: /proc of another pid namespace, a holder that
exec()s another program while the question waits (through a pty), no pidfd.

Every process signalled here was started by the test (in a session of its
own, killed at the end); ports are chosen by the kernel.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portcheck import Outcome, Refusal
from portcheck._kill.engine import run
from portcheck._kill.policy import Options
from portcheck._kill.stoppers import LinuxStopper

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux"),
]

ROOT = Path(__file__).resolve().parents[2]
# Holds a listening socket; on SIGUSR1 exec()s /bin/sleep, the socket kept open.
HOLDER = """
import os, signal, socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
s.set_inheritable(True)
signal.signal(signal.SIGUSR1, lambda *_: os.execv("/bin/sleep", ["sleep", "600"]))
print(s.getsockname()[1], flush=True)
while True:
    time.sleep(1)
"""


class Holder:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.pid = self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def comm(self) -> str:
        return Path(f"/proc/{self.pid}/comm").read_text().strip()

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def holder() -> Iterator[Holder]:
    held = Holder()
    yield held
    held.close()


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.mark.skipif(os.geteuid() != 0, reason="unshare -p and ns_last_pid need root")
def test_from_an_inner_pid_namespace_without_its_proc_kill_refuses(holder: Holder) -> None:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([unshare, "-fp", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"unshare -fp is not allowed here: {probe.stderr.decode().strip()}")
    # Inside: the innocent `sleep` gets the holder's pid number (ns_last_pid),
    # and /proc is still the outer namespace's. Signalling the pid /proc names
    # would hit the innocent; portcheck must refuse instead.
    script = f"""
echo {holder.pid - 1} > /proc/sys/kernel/ns_last_pid
sleep 600 &
innocent=$!
echo "innocent=$innocent"
{sys.executable} -m portcheck kill {holder.port} --yes --force --timeout 2 --json
echo "kill=$?"
{sys.executable} -m portcheck {holder.port} --json > /dev/null
echo "lookup=$?"
kill -0 "$innocent" && echo "innocent alive"
"""
    done = subprocess.run(
        [unshare, "-fp", "/bin/sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
        cwd=ROOT,
        check=False,
    )
    out = done.stdout
    assert f"innocent={holder.pid}" in out, out + done.stderr
    assert "kill=1" in out, out + done.stderr
    assert "lookup=0" in out  # lookups still answer: the data is right
    assert "innocent alive" in out
    assert holder.alive()
    document = json.loads(out[out.index("{") : out.rindex("}") + 1])
    [owner] = document["owners"]
    assert owner["pid"] == holder.pid
    assert owner["refusal"] == Refusal.FOREIGN_PROC.value
    assert owner["signals"] == []


def _drive_in_a_pid_namespace(tmp_path: Path, driver: str, *, timeout: float) -> Any:
    """Run `driver` as pid 1 of a fresh pid namespace with its own /proc; its last line (JSON)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run(
        [unshare, "-fp", "--mount-proc", "true"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"unshare -fp --mount-proc is not allowed here: {probe.stderr.decode()}")
    path = tmp_path / "driver.py"
    path.write_text(driver)
    done = subprocess.run(
        [unshare, "-fp", "--mount-proc", sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _read_until(fd: int, marker: bytes, seconds: float = 60.0) -> bytes:
    seen = b""
    end = time.monotonic() + seconds
    while marker not in seen:
        left = end - time.monotonic()
        assert left > 0, f"no {marker!r} in {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            seen += os.read(fd, 4096)
    return seen


def test_a_confirmed_holder_that_execs_another_program_is_refused(holder: Holder) -> None:
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "portcheck", "kill", str(holder.port), "--json"],
            stdin=slave,
            stderr=slave,
            stdout=subprocess.PIPE,
            env=_env(),
            cwd=ROOT,
        )
        os.close(slave)
        prompt = _read_until(master, b"[y/N]")
        assert str(holder.pid).encode() in prompt
        # While the question waits, the holder exec()s /bin/sleep (same pid,
        # same start time, the socket kept): not the program that was shown.
        os.kill(holder.pid, signal.SIGUSR1)
        end = time.monotonic() + 30
        while holder.comm() != "sleep":
            assert time.monotonic() < end
            time.sleep(0.05)
        os.write(master, b"y\n")
        out, _ = proc.communicate(timeout=60)
    finally:
        os.close(master)
    assert proc.returncode == 1
    document = json.loads(out)
    [owner] = document["owners"]
    assert owner["refusal"] == Refusal.NOT_CONFIRMED.value
    assert owner["signals"] == []
    assert holder.alive()


def test_without_pidfd_the_identity_path_stops_the_holder(holder: Holder) -> None:
    result = run(
        holder.port,
        Options(grace=10.0, timeout=10.0),
        stopper=LinuxStopper(use_pidfd=False),
    )
    [owner] = result.owners
    assert owner.outcome is Outcome.SIGNALLED
    assert isinstance(owner.start, int)
    assert result.free


# Runs as pid 1 of a fresh pid namespace with its own /proc, where pids are
# handed out in order: after the holder exits on SIGTERM, ns_last_pid makes
# the newcomer (which takes the port and ignores SIGTERM) get its pid.
REUSE_DRIVER = """
import json, os, signal, subprocess, sys
from portcheck._kill.engine import run
from portcheck._kill.policy import Options
from portcheck._kill.stoppers import LinuxStopper

HOLD = '''
import signal, socket, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN if sys.argv[2] == "stubborn" else signal.SIG_DFL)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(600)
'''

def hold(port, how):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(port), how], stdout=subprocess.PIPE)
    return proc, int(proc.stdout.readline())

first, port = hold(0, "polite")
newcomer = []
sent = []

def kill(pid, signum):
    sent.append([pid, int(signum)])
    os.kill(pid, signum)
    if signum == signal.SIGTERM and pid == first.pid and not newcomer:
        first.wait()
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        newcomer.append(hold(port, "stubborn")[0])

result = run(port, Options(grace=1.0, timeout=10.0, force=True),
             stopper=LinuxStopper(use_pidfd=False, kill=kill))
[owner] = result.owners
print(json.dumps({
    "first": first.pid, "newcomer": newcomer[0].pid if newcomer else None,
    "newcomer_alive": bool(newcomer) and newcomer[0].poll() is None,
    "sent": sent, "outcome": owner.outcome.value,
    "refusal": owner.refusal and owner.refusal.value, "detail": owner.detail,
}))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="unshare -p and ns_last_pid need root")
def test_without_pidfd_a_pid_reused_between_term_and_kill_survives(tmp_path: Path) -> None:
    seen = _drive_in_a_pid_namespace(tmp_path, REUSE_DRIVER, timeout=120)
    assert seen["newcomer"] == seen["first"], seen  # the pid really was reused
    assert seen["sent"] == [[seen["first"], signal.SIGTERM]]  # no SIGKILL to the newcomer
    assert seen["newcomer_alive"]
    assert (seen["outcome"], seen["refusal"]) == ("refused", Refusal.NOT_CONFIRMED.value)


# pid 1 of a fresh pid namespace: asks `portcheck kill` through a pty; while
# the question waits, the holder exits and another python3 takes its pid
# (ns_last_pid) and its port. Answering "y" must not signal the newcomer.
PROMPT_DRIVER = """
import json, os, pty, select, signal, subprocess, sys, time

HOLD = '''
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(600)
'''

def hold(port):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(port)], stdout=subprocess.PIPE)
    return proc, int(proc.stdout.readline())

first, port = hold(0)
master, slave = pty.openpty()
kill = subprocess.Popen([sys.executable, "-m", "portcheck", "kill", str(port), "--json"],
                        stdin=slave, stderr=slave, stdout=subprocess.PIPE)
os.close(slave)
seen = b""
end = time.monotonic() + 60
while b"[y/N]" not in seen and time.monotonic() < end:
    if select.select([master], [], [], 1)[0]:
        seen += os.read(master, 4096)
first.kill()
first.wait()
with open("/proc/sys/kernel/ns_last_pid", "w") as f:
    f.write(str(first.pid - 1))
newcomer, _ = hold(port)
os.write(master, b"y\\n")
out, _ = kill.communicate(timeout=60)
document = json.loads(out)
print(json.dumps({
    "asked": b"[y/N]" in seen, "first": first.pid, "newcomer": newcomer.pid,
    "newcomer_alive": newcomer.poll() is None, "status": kill.returncode,
    "owners": document["owners"],
}))
newcomer.kill()
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="unshare -p and ns_last_pid need root")
def test_the_prompt_with_the_holder_replaced_by_the_same_pid_signals_nobody(
    tmp_path: Path,
) -> None:
    seen = _drive_in_a_pid_namespace(tmp_path, PROMPT_DRIVER, timeout=180)
    assert seen["asked"]
    assert seen["newcomer"] == seen["first"], seen  # the same pid number, another process
    assert seen["newcomer_alive"]
    assert seen["status"] == 1
    [owner] = seen["owners"]
    assert owner["pid"] == seen["first"]
    assert owner["refusal"] == Refusal.NOT_CONFIRMED.value
    assert owner["signals"] == []
