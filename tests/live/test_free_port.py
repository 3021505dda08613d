"""free_port and `portcheck kill` against real processes (Linux only).

Every process signalled here was started by the test itself (tests/live/
kill_targets.py, in a session of its own, killed as a group at the end); ports
are chosen by the kernel.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import portcheck
from portcheck import Outcome, Refusal
from portcheck._kill.engine import run
from portcheck._kill.policy import Options
from portcheck._kill.stoppers import LinuxStopper
from portcheck._records import Family, Protocol, Socket, State
from tests.support.as_nobody import run_as_nobody
from tests.support.hold import Reporters

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux"),
]

TARGETS = Path(__file__).with_name("kill_targets.py")
ROOT = Path(__file__).resolve().parents[2]
IS_ROOT = os.geteuid() == 0


@attrs.frozen
class Target:
    port: int
    pids: list[int]
    proc: subprocess.Popen[str] = attrs.field(repr=False)


class Targets(Reporters):
    """Processes of tests/live/kill_targets.py started by one test, killed after it."""

    def target(self, mode: str) -> Target:
        report, proc = self.start(TARGETS, mode)
        return Target(report["port"], report["pids"], proc)


@pytest.fixture
def targets() -> Iterator[Targets]:
    started = Targets()
    yield started
    started.close()


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in (b"Z", b"X")


def kill_cli(
    *args: str, stdin: int | None = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portcheck", "kill", *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


def test_a_single_listener_is_stopped_by_sigterm(targets: Targets) -> None:
    t = targets.target("listen")
    result = portcheck.stop_owners(t.port, grace=10)
    [owner] = result.owners
    assert (owner.pid, owner.outcome, owner.signals) == (t.pids[0], Outcome.SIGNALLED, ("SIGTERM",))
    assert result.free
    assert t.proc.wait(timeout=5) == -signal.SIGTERM
    assert portcheck.who_owns(t.port) == [] or all(
        s.state is State.TIME_WAIT for s in portcheck.who_owns(t.port)
    )


def test_sigterm_ignored_is_not_freed_without_force(targets: Targets) -> None:
    t = targets.target("ignore-term")
    result = portcheck.stop_owners(t.port, grace=0.5)
    [owner] = result.owners
    assert owner.outcome is Outcome.STILL_ALIVE
    assert not result.free
    assert alive(t.pids[0])
    assert [s.pid for s in result.remaining] == t.pids


def test_sigterm_ignored_is_killed_with_force(targets: Targets) -> None:
    t = targets.target("ignore-term")
    result = portcheck.stop_owners(t.port, grace=0.5, force=True)
    [owner] = result.owners
    assert owner.outcome is Outcome.KILLED
    assert owner.signals == ("SIGTERM", "SIGKILL")
    assert result.free
    assert t.proc.wait(timeout=5) == -signal.SIGKILL


def test_prefork_workers_whose_parent_exited_are_all_stopped(targets: Targets) -> None:
    t = targets.target("orphans")
    t.proc.wait(timeout=5)  # the parent exited; its two workers keep the socket
    assert all(alive(pid) for pid in t.pids)
    result = portcheck.stop_owners(t.port)
    assert sorted(o.pid for o in result.owners if o.pid) == sorted(t.pids)
    assert {o.outcome for o in result.owners} == {Outcome.SIGNALLED}
    assert result.free
    _gone(t.pids)


def test_a_socket_shared_over_scm_rights_has_both_holders_stopped(targets: Targets) -> None:
    t = targets.target("scm-rights")
    result = portcheck.stop_owners(t.port)
    assert sorted(o.pid for o in result.owners if o.pid) == sorted(t.pids)
    assert {o.outcome for o in result.owners} == {Outcome.SIGNALLED}
    assert result.free
    _gone(t.pids)


def test_tree_adds_the_children(targets: Targets) -> None:
    t = targets.target("tree")
    holder, child = t.pids
    without = portcheck.stop_owners(t.port, dry_run=True)
    assert [o.pid for o in without.owners] == [holder]
    result = portcheck.stop_owners(t.port, tree=True)
    by_pid = {o.pid: o for o in result.owners}
    assert by_pid[child].child_of == holder
    assert by_pid[child].outcome is Outcome.SIGNALLED
    assert by_pid[holder].outcome is Outcome.SIGNALLED
    assert result.free
    _gone([child])


def test_dry_run_stops_nothing(targets: Targets) -> None:
    t = targets.target("listen")
    result = portcheck.stop_owners(t.port, dry_run=True)
    [owner] = result.owners
    assert owner.outcome is Outcome.DRY_RUN
    assert not result.free
    time.sleep(0.2)
    assert alive(t.pids[0])
    done = kill_cli(str(t.port), "--dry-run", "--json")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["owners"][0]["outcome"] == "dry_run"
    assert alive(t.pids[0])


def test_the_calling_process_is_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        result = portcheck.stop_owners(sock.getsockname()[1])
    [owner] = result.owners
    assert (owner.pid, owner.refusal) == (os.getpid(), Refusal.SELF)
    assert not result.free


def test_an_ancestor_of_the_command_is_refused_and_it_says_why() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        done = kill_cli(str(sock.getsockname()[1]), "--yes", "--json")
    assert done.returncode == 1, done.stderr
    [owner] = json.loads(done.stdout)["owners"]
    assert (owner["pid"], owner["refusal"]) == (os.getpid(), "ancestor")
    assert "would end this session" in owner["detail"]


def test_pid_reuse_guard_does_not_signal_a_pid_that_no_longer_holds_the_port(
    targets: Targets,
) -> None:
    # A record naming a live process that does not hold the port: what a
    # lookup sees when the owner exits and its pid is reused before the signal.
    held = targets.target("listen")
    bystander = targets.target("listen")
    stale = Socket(
        protocol=Protocol.TCP,
        family=Family.IPV4,
        local=portcheck.Endpoint(address="127.0.0.1", port=held.port),
        state=State.LISTEN,
        pid=bystander.pids[0],
        process="python3",
    )
    result = run(held.port, Options(timeout=1), look=lambda: [stale], stopper=LinuxStopper())
    [owner] = result.owners
    assert owner.outcome is Outcome.ALREADY_GONE
    assert owner.signals == ()
    assert "not signalled" in owner.detail
    time.sleep(0.2)
    assert alive(bystander.pids[0])


def test_without_pidfd_the_fallback_still_stops_the_owner(targets: Targets) -> None:
    t = targets.target("listen")
    stopper = LinuxStopper(use_pidfd=False)
    result = run(t.port, Options(timeout=5), stopper=stopper)
    assert [o.outcome for o in result.owners] == [Outcome.SIGNALLED]
    assert result.free


def test_supervised_holder_that_respawns_is_reported(targets: Targets) -> None:
    t = targets.target("supervised")
    [first] = t.pids
    result = portcheck.stop_owners(t.port)
    assert [o.outcome for o in result.owners] == [Outcome.SIGNALLED]
    assert not result.free
    assert result.respawned
    assert all(s.pid not in (None, first) for s in result.respawned)
    assert any("taken again" in n for n in result.notes)
    done = kill_cli(str(t.port), "--yes")
    assert done.returncode == 1, done.stderr
    assert "was taken again by" in done.stdout


def test_no_terminal_without_yes_is_an_error_and_stops_nothing(targets: Targets) -> None:
    t = targets.target("listen")
    done = kill_cli(str(t.port))
    assert done.returncode == 2
    assert "pass --yes" in done.stderr
    assert f"pid {t.pids[0]}" in done.stderr  # who would have been stopped
    assert alive(t.pids[0])


@pytest.mark.parametrize(("answer", "status"), [(b"n\n", 2), (b"\n", 2), (b"y\n", 0)])
def test_a_terminal_is_asked(targets: Targets, answer: bytes, status: int) -> None:
    t = targets.target("listen")
    primary, secondary = os.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "portcheck", "kill", str(t.port)],
            stdin=secondary,
            stdout=secondary,
            stderr=secondary,
            cwd=ROOT,
        )
        seen = _read_until(primary, b"[y/N]")
        assert f"pid {t.pids[0]}".encode() in seen
        os.write(primary, answer)
        assert proc.wait(timeout=30) == status
        rest = _read_until(primary, b"\n" if status else b"is free")
    finally:
        os.close(primary)
        os.close(secondary)
    if status:
        assert alive(t.pids[0])
        assert b"nothing was stopped" in seen + rest
    else:
        assert t.proc.wait(timeout=5) == -signal.SIGTERM


def _read_until(fd: int, marker: bytes, timeout: float = 20.0) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data += os.read(fd, 4096)
            except OSError:
                break
    return data


@pytest.mark.skipif(not IS_ROOT, reason="needs root: a root listener and a switch to nobody")
def test_a_non_root_user_against_roots_listener(targets: Targets) -> None:
    t = targets.target("listen")
    status, output = _kill_as_nobody(t.port)
    assert status == 1, output
    document = json.loads(output)
    [owner] = document["owners"]
    assert (owner["pid"], owner["refusal"]) == (None, "hidden")
    assert "root" in owner["detail"]
    assert not document["free"]
    time.sleep(0.2)
    assert alive(t.pids[0])


def _kill_as_nobody(port: int) -> tuple[int, str]:
    """`portcheck kill PORT --yes --json` run in a forked child that dropped to nobody."""

    def kill() -> tuple[int, str]:
        from portcheck._cli import main

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["kill", str(port), "--yes", "--json"])
        return code, out.getvalue()

    code, output = run_as_nobody(kill)
    return int(code), str(output)


def _gone(pids: list[int], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(p) for p in pids)


def _document(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    result = json.loads(done.stdout)
    assert isinstance(result, dict)
    return result


def _cgroup_mounts() -> list[tuple[str, str]]:
    """(mount point, this process's path there) for every mounted cgroup hierarchy."""
    own: dict[str, str] = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            hierarchy, controllers, path = line.rstrip("\n").split(":", 2)
            own["" if hierarchy == "0" else controllers] = path
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            dash = fields.index("-")
            fstype, options = fields[dash + 1], fields[dash + 3].split(",")
            if fstype == "cgroup2":
                key: str | None = ""
            elif fstype == "cgroup":
                key = next((k for k in own if k and set(k.split(",")) <= set(options)), None)
            else:
                continue
            if key is not None and key in own:
                found.append((fields[4], own[key]))
    return found


@pytest.fixture
def unit_cgroups() -> Iterator[tuple[str, list[Path]]]:
    """A cgroup named like a systemd unit in every mounted hierarchy; removed afterwards."""
    name = f"portcheck-kill-test-{os.getpid()}-{time.monotonic_ns()}.service"
    made: list[Path] = []
    try:
        for mount, path in _cgroup_mounts():
            where = Path(mount + path.rstrip("/")) / name
            try:
                where.mkdir()
            except OSError as exc:
                pytest.skip(f"cannot create cgroup {where}: {exc.strerror}")
            made.append(where)
            for setting in ("cpuset.cpus", "cpuset.mems"):  # v1 cpuset starts empty
                if (where / setting).exists():
                    (where / setting).write_text((where.parent / setting).read_text())
        if not made:
            pytest.skip("no cgroup hierarchy is mounted")
        yield name, made
    finally:
        for where in reversed(made):
            for pid in (where / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):  # gone meanwhile
                    (where.parent / "cgroup.procs").write_text(f"{pid}\n")
            deadline = time.monotonic() + 5
            while where.exists():
                try:
                    where.rmdir()
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)


@pytest.mark.skipif(not IS_ROOT, reason="needs root: creating cgroups and moving a process")
def test_an_owner_in_a_systemd_unit_is_not_stopped_without_managed(
    targets: Targets, unit_cgroups: tuple[str, list[Path]]
) -> None:
    name, cgroups = unit_cgroups
    t = targets.target("listen")
    for where in cgroups:
        try:
            (where / "cgroup.procs").write_text(f"{t.pids[0]}\n")
        except OSError as exc:
            pytest.skip(f"cannot move a process into {where}: {exc.strerror}")
    [seen] = portcheck.who_owns(t.port)
    if seen.units != (name,):
        pytest.skip(
            f"who_owns gives units {seen.units!r} for a process in cgroup {name}"
            " (service identity not available here)"
        )
    result = portcheck.stop_owners(t.port)
    [owner] = result.owners
    assert (owner.outcome, owner.refusal) == (Outcome.REFUSED, Refusal.MANAGED)
    assert owner.hint == f"systemctl stop {name}"
    assert name in owner.detail
    assert not result.free
    done = kill_cli(str(t.port), "--yes")
    assert done.returncode == 1, done.stderr
    assert f"instead: systemctl stop {name}" in done.stdout
    time.sleep(0.2)
    assert alive(t.pids[0])
    stopped = portcheck.stop_owners(t.port, managed=True)
    assert [o.outcome for o in stopped.owners] == [Outcome.SIGNALLED]
    assert any("--managed" in n and f"systemctl stop {name}" in n for n in stopped.notes)
    assert stopped.free
    t.proc.wait(timeout=5)
