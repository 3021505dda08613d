"""The kill safety rules of issue 19 on a pretend OS: identity, all or nothing, connections,
foreign /proc, one deadline, re-checks before any signal, Windows trees, one escaper.

Live counterparts (real processes, pid namespaces, a pty) are in
tests/live/test_kill_identity.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import attrs
import pytest

from portcheck import Outcome, Refusal
from portcheck._context import context_for
from portcheck._kill.engine import run
from portcheck._kill.policy import Options
from portcheck._kill.results import Identity, StopResult
from portcheck._kill.stoppers import Handle, LinuxStopper, WindowsStopper
from portcheck._records import Container, Socket
from portcheck._render import kill
from portcheck._words import safe
from tests.kill.test_engine import (
    POWERSHELL,
    TASKKILL,
    TASKLIST,
    Clock,
    FakeStopper,
    _table,
    conn,
    free,
    sock,
)
from tests.support.fakes import FakeRunner

PORT = 8080


def _result(value: object) -> StopResult:
    assert isinstance(value, StopResult)
    return value


def _by_pid(result: StopResult) -> dict[int | None, object]:
    return {o.pid: o for o in result.owners}


# --- identity --------------------------------------------------------------------------


def test_a_pid_reused_between_term_and_kill_is_not_killed_without_pidfd() -> None:
    # The holder exits on SIGTERM and a new process takes its pid (and the
    # port); no pidfd pins the old one: the start time tells them apart.
    stopper = FakeStopper(running={100}, reused_on_term={100: 987654})
    result = _result(free([sock(100)], stopper, after=[sock(100)], force=True))
    assert stopper.sent == [(100, "SIGTERM")]  # never SIGKILL to the newcomer
    owner = result.owners[0]
    assert (owner.outcome, owner.refusal) == (Outcome.REFUSED, Refusal.NOT_CONFIRMED)
    assert "another start time" in owner.detail
    assert not result.free


def test_the_start_time_is_checked_before_the_first_signal_too() -> None:
    stopper = FakeStopper(running={100}, starts={100: 5})

    class Replaced(FakeStopper):
        calls = 0

        def start_times(self, pids: Iterable[int]) -> dict[int, int | str] | None:
            self.calls += 1
            found = super().start_times(pids)
            # The plan saw start 5; by the re-check the pid names another process.
            return found if self.calls == 1 else dict.fromkeys(found or {}, 6)

    stopper = Replaced(running={100}, starts={100: 5})
    result = _result(free([sock(100)], stopper))
    assert stopper.sent == []
    assert result.owners[0].refusal is Refusal.NOT_CONFIRMED


def test_the_confirmation_names_processes_not_pids() -> None:
    shown = Identity(100, 100, "app")
    # Same pid, another start time: another process that took the pid and the port.
    stopper = FakeStopper(running={100}, starts={100: 777})
    result = _result(free([sock(100)], stopper, allow=frozenset({shown})))
    assert stopper.sent == []
    assert result.owners[0].refusal is Refusal.NOT_CONFIRMED
    assert "another process than the one confirmed" in result.owners[0].detail
    # Same pid and start, another program: the confirmed process exec()ed.
    stopper = FakeStopper(running={100})
    result = _result(free([sock(100, "sh")], stopper, allow=frozenset({shown})))
    assert stopper.sent == []
    assert result.owners[0].refusal is Refusal.NOT_CONFIRMED
    # The very process shown is stopped.
    stopper = FakeStopper(running={100})
    result = _result(free([sock(100)], stopper, allow=frozenset({shown})))
    assert stopper.sent == [(100, "SIGTERM")]
    assert result.owners[0].start == 100


def test_linux_start_times_come_from_proc_stat(tmp_path: Path) -> None:
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "stat").write_bytes(
        b"42 (a) b) c) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 123456 1000 10\n"
    )
    stopper = LinuxStopper(str(tmp_path), use_pidfd=False)
    assert stopper.start_times([42, 43]) == {42: 123456}


# --- /proc of another pid namespace ------------------------------------------------------


def test_a_foreign_proc_refuses_every_stop() -> None:
    stopper = FakeStopper(running={100, 101}, foreign="/proc belongs to another pid namespace")
    result = _result(free([sock(100), conn(101)], stopper, connections=True))
    assert stopper.sent == []
    assert {o.refusal for o in result.owners} == {Refusal.FOREIGN_PROC}
    assert all("nsenter" in (o.hint or "") for o in result.owners)
    assert not result.free


def test_linux_stopper_tells_its_proc_is_not_its_own(tmp_path: Path) -> None:
    # The stopper's proc path: /proc/self of another namespace names another pid.
    (tmp_path / "self").symlink_to("4242")
    foreign = LinuxStopper(str(tmp_path), getpid=lambda: 1).foreign_proc()
    assert foreign is not None
    assert "another pid namespace" in foreign
    assert LinuxStopper(str(tmp_path), getpid=lambda: 4242).foreign_proc() is None
    assert LinuxStopper().foreign_proc() is None  # this test's own /proc
    missing = LinuxStopper(str(tmp_path / "nothing")).foreign_proc()
    assert missing is not None
    assert "cannot tell" in missing


# --- all or nothing, listeners first -----------------------------------------------------


def test_a_refused_listener_with_connection_children_stops_nobody() -> None:
    # `sudo portcheck kill 22 --yes`: sshd is managed; its session children
    # hold the connections. Nobody is signalled, and the report says why.
    unit = {"units": ("ssh.service",)}
    sockets = [sock(500, "sshd", **unit), conn(601, "sshd", **unit), conn(602, "sshd", **unit)]
    for connections in (False, True):
        stopper = FakeStopper(running={500, 601, 602})
        result = _result(free(sockets, stopper, managed=False, connections=connections, force=True))
        assert stopper.sent == []
        out = _by_pid(result)
        assert out[500].refusal is Refusal.MANAGED  # type: ignore[attr-defined]
        assert not result.free
        lines = kill.report(result)
        assert any("systemctl stop ssh.service" in line for line in lines)
    # With --managed (and --connections) everyone goes.
    stopper = FakeStopper(running={500, 601, 602})
    result = _result(free(sockets, stopper, managed=True, connections=True))
    assert sorted(p for p, _ in stopper.sent) == [500, 601, 602]


def test_a_refused_listener_blocks_stoppable_holders() -> None:
    # Two listeners (SO_REUSEPORT, say): one is refused, so the other is not stopped.
    sockets = [sock(500, "nginx", units=("nginx.service",)), sock(501, "python3")]
    stopper = FakeStopper(running={500, 501})
    result = _result(free(sockets, stopper))
    out = _by_pid(result)
    assert out[501].refusal is Refusal.ALL_OR_NOTHING  # type: ignore[attr-defined]
    assert stopper.sent == []
    assert any("nothing was stopped" in n for n in result.notes)
    assert any("systemctl stop nginx.service" in n for n in result.notes)


def test_a_hidden_listener_blocks_the_rest() -> None:
    from portcheck._records import NoOwner

    hidden = sock(None, None, no_owner=NoOwner.HIDDEN)
    stopper = FakeStopper(running={101})
    result = _result(free([hidden, sock(101)], stopper))
    assert stopper.sent == []
    assert _by_pid(result)[101].refusal is Refusal.ALL_OR_NOTHING  # type: ignore[attr-defined]


def test_connection_holders_are_listed_and_left_unless_connections() -> None:
    sockets = [sock(100), conn(150), conn(151)]
    stopper = FakeStopper(running={100, 150, 151})
    after = [conn(150), conn(151)]
    result = _result(free(sockets, stopper, after=after))
    assert stopper.sent == [(100, "SIGTERM")]
    out = _by_pid(result)
    assert out[150].refusal is Refusal.CONNECTIONS_ONLY  # type: ignore[attr-defined]
    assert result.free  # the listener is gone: the port can be bound again
    assert any("--connections" in n for n in result.notes)
    stopper = FakeStopper(running={100, 150, 151})
    result = _result(free(sockets, stopper, connections=True))
    assert sorted(p for p, _ in stopper.sent) == [100, 150, 151]
    assert result.free


# --- every re-check before any signal ------------------------------------------------------


@attrs.define
class Reparenting(FakeStopper):
    """Signalling a parent re-parents its children to init at once (as the kernel does)."""

    def signal(self, handle: Handle, *, force: bool) -> None:
        super().signal(handle, force=force)
        for child, parent in list(self.parents.items()):
            if parent == handle.pid:
                self.reparented[child] = 1


def test_every_recheck_comes_before_any_signal() -> None:
    # Checked one by one right before each signal, the children would fail
    # their "still my parent's child" check after the parent's SIGTERM and
    # escape the tree.
    stopper = Reparenting(running={100, 150, 151}, parents={150: 100, 151: 100})
    result = _result(free([sock(100)], stopper, tree=True))
    assert sorted(p for p, _ in stopper.sent) == [100, 150, 151]
    assert all(o.outcome is Outcome.SIGNALLED for o in result.owners)


# --- one deadline ------------------------------------------------------------------------


def test_past_the_deadline_nothing_more_is_signalled_and_the_run_ends() -> None:
    clock = Clock()
    stopper = FakeStopper(running={100})
    looks = 0

    def look() -> list[Socket]:
        nonlocal looks
        looks += 1
        if looks == 1:
            clock.now += 1000.0  # the first look took longer than timeout + grace
        return [sock(100)]

    result = run(
        PORT,
        Options(timeout=1.0, grace=1.0, force=True),
        context=context_for(platform="linux", runner=FakeRunner()),
        look=look,
        stopper=stopper,
        clock=clock,
        sleep=clock.sleep,
    )
    assert stopper.sent == []
    assert result.owners[0].outcome is Outcome.STILL_ALIVE
    assert "deadline" in result.owners[0].detail


def test_the_grace_wait_ends_at_the_deadline() -> None:
    clock = Clock()
    stopper = FakeStopper(running={100}, stubborn={100})
    run(
        PORT,
        Options(timeout=1.0, grace=5.0),
        context=context_for(platform="linux", runner=FakeRunner()),
        look=lambda: [sock(100)],
        stopper=stopper,
        clock=clock,
        sleep=clock.sleep,
    )
    assert clock.now <= 1.0 + 5.0 + 1.0  # deadline, then the settle look at most


# --- Windows: the whole ancestor chain, and /T judged first ------------------------------


def _windows(replies: dict[tuple[str, ...], tuple[int, bytes, bytes]], *, tree: bool = False):  # type: ignore[no-untyped-def]
    runner = FakeRunner(replies=replies)
    return WindowsStopper(runner, tree=tree, environ={"SystemRoot": "C:\\Windows"}), runner


def test_windows_ancestors_are_the_whole_parent_chain() -> None:
    me, launcher, shell, explorer = os.getpid(), 9001, 9002, 9003
    stopper, _ = _windows(
        {
            POWERSHELL: _table(
                (me, launcher, 400, "python.exe"),
                (launcher, shell, 300, "portcheck.exe"),
                (shell, explorer, 200, "pwsh.exe"),
                (explorer, 7777, 100, "explorer.exe"),  # 7777 exited long ago
            )
        }
    )
    assert {me, launcher, shell, explorer} <= stopper.ancestors()
    # A "parent" younger than its child is a newcomer with a reused pid.
    stopper, _ = _windows(
        {POWERSHELL: _table((me, launcher, 400, "python.exe"), (launcher, shell, 999, "x.exe"))}
    )
    assert launcher not in stopper.ancestors() - {os.getppid()}


def test_windows_refuses_the_grandparent_shell() -> None:
    me, launcher, shell = os.getpid(), 9001, 9002
    stopper, runner = _windows(
        {
            POWERSHELL: _table(
                (me, launcher, 400, "python.exe"),
                (launcher, shell, 300, "portcheck.exe"),
                (shell, 4, 200, "pwsh.exe"),
            )
        }
    )
    clock = Clock()
    result = run(
        PORT,
        Options(),
        context=context_for(platform="windows", runner=runner),
        look=lambda: [sock(shell, "pwsh.exe")],
        stopper=stopper,
        clock=clock,
        sleep=clock.sleep,
    )
    assert result.owners[0].refusal is Refusal.ANCESTOR
    assert not any(call[0] == TASKKILL for call in runner.calls)


def test_windows_tree_a_refused_descendant_refuses_the_tree() -> None:
    me = os.getpid()
    stopper, runner = _windows(
        {
            # The server started a container runtime's relay: /T would stop it too.
            POWERSHELL: _table(
                (4242, 1000, 100, "node.exe"),
                (4300, 4242, 200, "cmd.exe"),
                (4301, 4300, 300, "wslrelay.exe"),
                (me, 5000, 400, "python.exe"),
            ),
        },
        tree=True,
    )
    clock = Clock()
    result = run(
        PORT,
        Options(tree=True),
        context=context_for(platform="windows", runner=runner),
        look=lambda: [sock(4242, "node.exe")],
        stopper=stopper,
        clock=clock,
        sleep=clock.sleep,
    )
    out = _by_pid(result)
    assert out[4242].outcome is Outcome.REFUSED  # type: ignore[attr-defined]
    assert "taskkill /T would stop it" in out[4242].detail  # type: ignore[attr-defined]
    assert out[4300].child_of == 4242  # type: ignore[attr-defined]  # listed and judged
    assert out[4301].refusal is Refusal.MANAGED  # type: ignore[attr-defined]
    assert not any(call[0] == TASKKILL for call in runner.calls)


def test_windows_tree_judged_descendants_then_taskkill_t() -> None:
    gone = (0, b"INFO: No tasks are running which match the specified criteria.\r\n", b"")
    stopper, runner = _windows(
        {
            POWERSHELL: _table((4242, 1000, 100, "node.exe"), (4300, 4242, 200, "worker.exe")),
            (TASKKILL, "/PID", "4242", "/T"): (0, b"SUCCESS\r\n", b""),
            (TASKKILL, "/PID", "4300", "/T"): (128, b"", b'ERROR: The process "4300" not found.'),
            (TASKLIST, "/FO", "CSV", "/NH", "/FI", "PID eq 4242"): gone,
        },
        tree=True,
    )
    clock = Clock()
    result = run(
        PORT,
        Options(tree=True),
        context=context_for(platform="windows", runner=runner),
        look=lambda: [] if (TASKKILL, "/PID", "4242", "/T") in runner.calls else [sock(4242)],
        stopper=stopper,
        clock=clock,
        sleep=clock.sleep,
    )
    out = _by_pid(result)
    assert out[4300].process == "worker.exe"  # type: ignore[attr-defined]
    assert (TASKKILL, "/PID", "4242", "/T") in runner.calls
    assert result.free


# --- one escaper -------------------------------------------------------------------------

EVIL = "evil\x1b]0;pwned\x07\u202e\u2066x"


@pytest.mark.parametrize(
    "extra",
    [
        {"units": (EVIL + ".service",)},
        {"container": Container(runtime="docker", id=EVIL)},
        {"container": Container(runtime="kubernetes", id="abc", pod=EVIL)},
    ],
)
def test_the_plan_report_and_prompt_escape_cgroup_unit_and_container_names(
    extra: dict[str, object],
) -> None:
    stopper = FakeStopper(running={100, 101})
    sockets = [sock(100, EVIL, **extra), conn(101, EVIL)]
    result = _result(free(sockets, stopper, dry_run=True, connections=True))
    lines = kill.plan(result) + kill.report(result)
    assert any("\\x1b" in line for line in lines)
    for line in lines:
        assert not any(ch in line for ch in ("\x1b", "\x07", "\u202e", "\u2066")), line


BIDI_AND_SEPARATORS = [
    0x200E,
    0x200F,
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]


@pytest.mark.parametrize("code", BIDI_AND_SEPARATORS, ids=lambda c: f"U+{c:04X}")
def test_safe_escapes_every_bidi_and_line_separator_character(code: int) -> None:
    text = f"a{chr(code)}b"
    assert chr(code) not in safe(text)
    assert safe(text) == f"a\\u{code:04x}b"


# --- start times on macOS/BSD and Windows ---------------------------------------------------


def test_posix_start_times_from_one_ps_of_every_process() -> None:
    from portcheck._kill.stoppers import PosixStopper

    argv = ("/bin/ps", "-A", "-o", "pid=", "-o", "lstart=")
    text = b"    1 Mon Dec  1 08:00:00 2025\n  501 Sun Nov 30 16:12:01 2025\n"
    runner = FakeRunner(tools={"ps": "/bin/ps"}, replies={argv: (0, text, b"")})
    stopper = PosixStopper(runner)
    assert stopper.start_times([501, 502]) == {501: "Sun Nov 30 16:12:01 2025"}
    assert runner.calls == [argv]
    assert PosixStopper(FakeRunner()).start_times([501]) is None  # no ps: cannot tell


def test_windows_start_times_are_creation_times_and_system_pids_stay_refused() -> None:
    stopper, runner = _windows(
        {POWERSHELL: _table((4242, 1000, 133782912000000000, "node.exe"), (4, 0, 1, "System"))}
    )
    assert stopper.start_times([4242, 9]) == {4242: 133782912000000000}
    clock = Clock()
    result = run(
        PORT,
        Options(),
        context=context_for(platform="windows", runner=runner),
        look=lambda: [sock(0, "System Idle Process", system_process=True)],
        stopper=stopper,
        clock=clock,
        sleep=clock.sleep,
    )
    assert result.owners[0].refusal is Refusal.SYSTEM_PROCESS
