"""free_port's rules with a fake OS: refusals, the re-check, signals, escalation, verdicts.

The live tests (tests/live/test_free_port.py) stop real processes; these cover
what a test machine cannot produce (init, Windows, EPERM, a container's pid 1)
and the exact commands of the Windows and macOS/BSD stoppers.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import Callable

import attrs
import pytest

from portcheck import Outcome, Refusal
from portcheck._context import context_for
from portcheck._kill.engine import run
from portcheck._kill.policy import Options
from portcheck._kill.results import Identity
from portcheck._kill.stoppers import Handle, LinuxStopper, PosixStopper, WindowsStopper
from portcheck._parsers.win_processes import PROCESS_TABLE_SCRIPT
from portcheck._records import Container, Endpoint, Family, NoOwner, Protocol, Socket, State
from portcheck._render import json as documents
from portcheck._render import kill
from portcheck._render.words import safe
from tests.support.fakes import FakeRunner

PORT = 8080


def sock(pid: int | None, process: str | None = "app", **extra: object) -> Socket:
    fields: dict[str, object] = {
        "protocol": Protocol.TCP,
        "family": Family.IPV4,
        "local": Endpoint(address="0.0.0.0", port=PORT),
        "state": State.LISTEN,
        "pid": pid,
        "process": process,
    }
    fields.update(extra)
    return Socket(**fields)  # type: ignore[arg-type]


def conn(pid: int, process: str | None = "app", **extra: object) -> Socket:
    """An established connection on the port (accepted by a server, say)."""
    remote = Endpoint(address="10.0.0.9", port=50000 + pid % 1000)
    return sock(pid, process, state=State.ESTABLISHED, remote=remote, **extra)


@attrs.define
class FakeStopper:
    """A pretend OS: `running` pids, what each does with a polite signal, what is refused."""

    running: set[int] = attrs.field(factory=set)
    stubborn: set[int] = attrs.field(factory=set)  # ignore the polite signal
    denied: set[int] = attrs.field(factory=set)  # EPERM
    not_holding: set[int] = attrs.field(factory=set)  # fail the re-check
    container_inits: set[int] = attrs.field(factory=set)
    parents: dict[int, int] = attrs.field(factory=dict)
    reparented: dict[int, int] = attrs.field(factory=dict)  # parents at the re-check
    inits: set[int] = attrs.field(factory=lambda: {1})
    mine: set[int] = attrs.field(factory=lambda: {os.getpid(), 3000})  # self, its parent
    sent: list[tuple[int, str]] = attrs.field(factory=list)
    signal_names: tuple[str, str] = ("SIGTERM", "SIGKILL")
    starts: dict[int, int] = attrs.field(factory=dict)  # start times; default: the pid
    foreign: str | None = None
    # What happens to a pid when it gets the polite signal: another process takes it.
    reused_on_term: dict[int, int] = attrs.field(factory=dict)

    def foreign_proc(self) -> str | None:
        return self.foreign

    def start_times(self, pids: Iterable[int]) -> dict[int, int | str] | None:
        return {p: self.starts.get(p, p) for p in pids if p in self.running}

    def name(self, pid: int) -> str | None:
        return None

    def ancestors(self) -> set[int]:
        return set(self.mine)

    def machine_init(self, pid: int) -> bool:
        return pid in self.inits

    def namespace_init(self, pid: int) -> bool:
        return pid in self.container_inits

    def descendants(self, pids: Iterable[int]) -> dict[int, int]:
        roots = set(pids)
        return {c: p for c, p in self.parents.items() if p in roots}

    def grab(self, pid: int) -> Handle | None:
        return Handle(pid) if pid in self.running else None

    def holder_check(self, port: int, look: Callable[[], list[Socket]]) -> Callable[[int], bool]:
        return lambda pid: pid not in self.not_holding

    def parent(self, handle: Handle) -> int | None:
        return self.reparented.get(handle.pid, self.parents.get(handle.pid))

    def signal(self, handle: Handle, *, force: bool) -> None:
        if handle.pid not in self.running:
            raise ProcessLookupError(handle.pid)
        if handle.pid in self.denied:
            raise PermissionError(1, "Operation not permitted")
        self.sent.append((handle.pid, self.signal_names[force]))
        if not force and handle.pid in self.reused_on_term:
            self.starts[handle.pid] = self.reused_on_term[handle.pid]  # exited; pid taken anew
        elif force or handle.pid not in self.stubborn:
            self.running.discard(handle.pid)

    def alive(self, handle: Handle) -> bool:
        return handle.pid in self.running

    def close(self, handle: Handle) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def free(
    sockets: list[Socket],
    stopper: FakeStopper,
    after: list[Socket] | Callable[[], list[Socket]] | None = None,
    platform: str = "linux",
    **options: object,
) -> object:
    """Run free_port on a pretend OS: `sockets` first, then whatever holders still run."""
    looks: list[list[Socket]] = []

    def look() -> list[Socket]:
        if not looks:
            found = sockets
        elif callable(after):
            found = after()
        elif after is not None:
            found = after
        else:
            found = [s for s in sockets if s.pid is None or s.pid in stopper.running]
        looks.append(found)
        return found

    clock = Clock()
    return run(
        PORT,
        Options(**options),  # type: ignore[arg-type]
        context=context_for(platform=platform, runner=FakeRunner()),
        look=look,
        stopper=stopper,
        clock=clock,
        sleep=clock.sleep,
    )


def test_an_owner_is_asked_to_stop_and_the_port_is_free() -> None:
    stopper = FakeStopper(running={100})
    result = free([sock(100)], stopper)
    [owner] = result.owners  # type: ignore[attr-defined]
    assert (owner.outcome, owner.signals) == (Outcome.SIGNALLED, ("SIGTERM",))
    assert stopper.sent == [(100, "SIGTERM")]
    assert result.free  # type: ignore[attr-defined]


def test_a_stubborn_owner_is_still_alive_without_force_and_killed_with_it() -> None:
    stopper = FakeStopper(running={100}, stubborn={100})
    result = free([sock(100)], stopper, timeout=2.0)
    assert [o.outcome for o in result.owners] == [Outcome.STILL_ALIVE]  # type: ignore[attr-defined]
    assert not result.free  # type: ignore[attr-defined]
    assert stopper.sent == [(100, "SIGTERM")]
    stopper = FakeStopper(running={100}, stubborn={100})
    result = free([sock(100)], stopper, timeout=2.0, force=True)
    [owner] = result.owners  # type: ignore[attr-defined]
    assert (owner.outcome, owner.signals) == (Outcome.KILLED, ("SIGTERM", "SIGKILL"))
    assert stopper.sent == [(100, "SIGTERM"), (100, "SIGKILL")]
    assert result.free  # type: ignore[attr-defined]


def test_the_pid_reuse_guard_signals_nothing_that_no_longer_holds_the_port() -> None:
    stopper = FakeStopper(running={100}, not_holding={100})
    result = free([sock(100)], stopper)
    [owner] = result.owners  # type: ignore[attr-defined]
    assert owner.outcome is Outcome.ALREADY_GONE
    assert stopper.sent == []


def test_an_owner_gone_before_the_signal_is_already_gone() -> None:
    stopper = FakeStopper(running=set())
    result = free([sock(100)], stopper)
    assert [o.outcome for o in result.owners] == [Outcome.ALREADY_GONE]  # type: ignore[attr-defined]
    assert result.free  # type: ignore[attr-defined]


def test_eperm_is_reported_and_nothing_else_is_touched() -> None:
    stopper = FakeStopper(running={100, 101}, denied={100})
    result = free([sock(100), sock(101, "other")], stopper)
    outcomes = {o.pid: o.outcome for o in result.owners}  # type: ignore[attr-defined]
    assert outcomes == {100: Outcome.PERMISSION_DENIED, 101: Outcome.SIGNALLED}
    assert "not allowed" in result.owners[0].detail  # type: ignore[attr-defined]
    assert not result.free  # type: ignore[attr-defined]
    assert stopper.sent == [(101, "SIGTERM")]


@pytest.mark.parametrize(
    ("owner", "refusal", "words"),
    [
        (sock(1, "systemd"), Refusal.INIT, "machine's init"),
        (sock(os.getpid(), "python3"), Refusal.SELF, "portcheck itself"),
        (sock(3000, "bash"), Refusal.ANCESTOR, "would end this session"),
        (sock(3000, "sshd"), Refusal.ANCESTOR, "stopping sshd from an ssh session ends"),
        (sock(None), Refusal.HIDDEN, "run as root"),
        (sock(None, no_owner=NoOwner.NOT_SHOWN), Refusal.NOT_SHOWN, "shows no owners"),
        (sock(200, units=("nginx.service",)), Refusal.MANAGED, "nginx.service"),
        (sock(200, units=("user:x.service",)), Refusal.MANAGED, "user unit x.service"),
        (sock(200, container=Container(runtime="docker", id="ab" * 32)), Refusal.MANAGED, "docker"),
        (sock(200, "docker-proxy"), Refusal.MANAGED, "proxy"),
        (sock(200, "rootlessport"), Refusal.MANAGED, "proxy"),
    ],
)
def test_refusals(owner: Socket, refusal: Refusal, words: str) -> None:
    stopper = FakeStopper(running={1, 200, 3000, os.getpid()})
    result = free([owner], stopper)
    [out] = result.owners  # type: ignore[attr-defined]
    assert (out.outcome, out.refusal) == (Outcome.REFUSED, refusal)
    assert words in out.detail
    assert stopper.sent == []
    assert not result.free  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("owner", "hint"),
    [
        (sock(200, units=("nginx.service",)), "systemctl stop nginx.service"),
        (sock(200, units=("user:x.service",)), "systemctl --user stop x.service"),
        (
            sock(200, container=Container(runtime="docker", id="ab" * 32)),
            "docker stop " + "ab" * 32,
        ),
        (
            sock(200, container=Container(runtime="podman", id="cd" * 32)),
            "podman stop " + "cd" * 32,
        ),
        (sock(200, "docker-proxy"), "docker ps --filter publish=8080"),
    ],
)
def test_managed_owners_get_the_right_command_and_managed_overrides(
    owner: Socket, hint: str
) -> None:
    stopper = FakeStopper(running={200})
    refused = free([owner], stopper)
    assert hint in (refused.owners[0].hint or "")  # type: ignore[attr-defined]
    result = free([owner], stopper, managed=True)
    [out] = result.owners  # type: ignore[attr-defined]
    assert out.outcome is Outcome.SIGNALLED
    assert any("--managed" in n and hint in n for n in result.notes)  # type: ignore[attr-defined]


def test_a_scope_is_not_a_service_manager() -> None:
    stopper = FakeStopper(running={200})
    result = free([sock(200, units=("run-u7.scope",))], stopper)
    assert [o.outcome for o in result.owners] == [Outcome.SIGNALLED]  # type: ignore[attr-defined]


def test_windows_system_processes_and_service_hosts_are_refused() -> None:
    stopper = FakeStopper(running={4, 900, 901})
    sockets = [
        sock(4, "System", system_process=True),
        sock(900, "svchost.exe"),
        sock(901, "svchost.exe", units=("Dnscache",)),
    ]
    result = free(sockets, stopper, platform="windows")
    out = {o.pid: o for o in result.owners}  # type: ignore[attr-defined]
    assert out[4].refusal is Refusal.SYSTEM_PROCESS
    assert out[900].refusal is Refusal.MANAGED
    assert (out[901].refusal, out[901].hint) == (Refusal.MANAGED, "Stop-Service Dnscache")
    assert stopper.sent == []


def test_a_containers_pid_1_needs_confirmation_and_is_warned_about() -> None:
    # Inside the container: pid 1 is the application, not the machine's init.
    stopper = FakeStopper(running={1}, container_inits={1}, inits=set())
    refused = free([sock(1)], stopper)
    assert refused.owners[0].refusal is Refusal.CONTAINER_INIT  # type: ignore[attr-defined]
    assert stopper.sent == []
    result = free([sock(1)], stopper, stop_container_init=True)
    [out] = result.owners  # type: ignore[attr-defined]
    assert out.outcome is Outcome.SIGNALLED
    assert "container stops with it" in out.detail


def test_only_confirmed_pids_are_stopped() -> None:
    allow = frozenset({Identity(100, 100, "app")})
    stopper = FakeStopper(running={100, 101})
    result = free([sock(100), conn(101)], stopper, allow=allow, connections=True)
    out = {o.pid: o for o in result.owners}  # type: ignore[attr-defined]
    assert out[101].refusal is Refusal.NOT_CONFIRMED
    assert stopper.sent == [(100, "SIGTERM")]
    # A listener that was not confirmed refuses the whole plan: all or nothing.
    stopper = FakeStopper(running={100, 101})
    result = free([sock(100), sock(101)], stopper, allow=allow)
    out = {o.pid: o for o in result.owners}  # type: ignore[attr-defined]
    assert out[101].refusal is Refusal.NOT_CONFIRMED
    assert out[100].refusal is Refusal.ALL_OR_NOTHING
    assert stopper.sent == []


def test_dry_run_signals_nothing() -> None:
    stopper = FakeStopper(running={100})
    result = free([sock(100)], stopper, dry_run=True)
    assert [o.outcome for o in result.owners] == [Outcome.DRY_RUN]  # type: ignore[attr-defined]
    assert stopper.sent == []
    assert not result.free  # type: ignore[attr-defined]


def test_tree_adds_children_rechecked_against_their_parent() -> None:
    stopper = FakeStopper(running={100, 150, 151}, parents={150: 100, 151: 100})
    sockets = [sock(100)]
    result = free(sockets, stopper, tree=True)
    out = {o.pid: o for o in result.owners}  # type: ignore[attr-defined]
    assert (out[150].child_of, out[150].outcome) == (100, Outcome.SIGNALLED)
    assert sorted(p for p, _ in stopper.sent) == [100, 150, 151]
    # A child whose pid now names a process of another parent is not signalled.
    stopper = FakeStopper(running={100, 150}, parents={150: 100}, reparented={150: 1})
    result = free(sockets, stopper, tree=True)
    out = {o.pid: o for o in result.owners}  # type: ignore[attr-defined]
    assert out[150].outcome is Outcome.ALREADY_GONE
    assert stopper.sent == [(100, "SIGTERM")]


def test_a_new_owner_right_after_is_a_respawn() -> None:
    stopper = FakeStopper(running={100})
    result = free([sock(100)], stopper, after=[sock(101)])
    assert [s.pid for s in result.respawned] == [101]  # type: ignore[attr-defined]
    assert not result.free  # type: ignore[attr-defined]
    assert kill.verdict(result).startswith(f"port {PORT} was taken again by: app (pid 101")  # type: ignore[arg-type]


def test_time_wait_remnants_count_as_free_with_a_caveat_unless_strict() -> None:
    remnant = sock(None, None, state=State.TIME_WAIT, remote=Endpoint(address="10.0.0.1", port=5))
    stopper = FakeStopper(running={100})
    result = free([sock(100)], stopper, after=[remnant])
    assert result.free  # type: ignore[attr-defined]
    assert result.time_wait == (remnant,)  # type: ignore[attr-defined]
    assert any("SO_REUSEADDR" in n for n in result.notes)  # type: ignore[attr-defined]
    stopper = FakeStopper(running={100})
    strict = free([sock(100)], stopper, after=[remnant], strict=True)
    assert not strict.free  # type: ignore[attr-defined]
    looks = iter([[remnant], [remnant], []])
    stopper = FakeStopper(running={100})
    cleared = free([sock(100)], stopper, after=lambda: next(looks, []), strict=True)
    assert cleared.free  # type: ignore[attr-defined]


def test_the_kill_document_and_report_escape_control_characters() -> None:
    stopper = FakeStopper(running={100})
    result = free([sock(100, "evil\x1b[2J\n")], stopper, dry_run=True)
    lines = kill.report(result)  # type: ignore[arg-type]
    assert "evil\\x1b[2J\\x0a" in lines[0]
    assert all("\x1b" not in line and "\n" not in line for line in lines)
    document = documents.kill_document(result)  # type: ignore[arg-type]
    assert document["kind"] == "kill"
    assert document["owners"][0]["outcome"] == "dry_run"
    assert document["owners"][0]["process"] == "evil\x1b[2J\n"  # JSON escapes it itself


def test_safe() -> None:
    assert safe("a\x00b\x7fc\x9bd\u00e9") == "a\\x00b\\x7fc\\x9bd\u00e9"


# --- the stoppers of each OS ------------------------------------------------------

SYSTEM32 = "C:\\Windows\\System32"
TASKKILL = SYSTEM32 + "\\taskkill.exe"
TASKLIST = SYSTEM32 + "\\tasklist.exe"
POWERSHELL = (
    SYSTEM32 + "\\WindowsPowerShell\\v1.0\\powershell.exe",
    "-NoProfile",
    "-NonInteractive",
    "-Command",
    PROCESS_TABLE_SCRIPT,
)


def _table(*rows: tuple[int, int, int, str]) -> tuple[int, bytes, bytes]:
    """PowerShell's process table: (pid, parent, creation FILETIME, name) rows."""
    text = "".join(f"{pid},{ppid},{start},{name}\r\n" for pid, ppid, start, name in rows)
    return (0, text.encode(), b"")


def _windows(
    replies: dict[tuple[str, ...], tuple[int, bytes, bytes]], *, tree: bool = False
) -> tuple[WindowsStopper, FakeRunner]:
    runner = FakeRunner(replies=replies)
    return WindowsStopper(runner, tree=tree, environ={"SystemRoot": "C:\\Windows"}), runner


def test_windows_taskkill_argv_polite_then_forced() -> None:
    alive = (0, b'"node.exe","4242","Console","1","50,000 K"\r\n', b"")
    gone = (0, b"INFO: No tasks are running which match the specified criteria.\r\n", b"")
    stopper, runner = _windows(
        {
            (TASKKILL, "/PID", "4242"): (
                1,
                b"",
                b"ERROR: ... can only be terminated forcefully (with /F option).\r\n",
            ),
            (TASKKILL, "/PID", "4242", "/F"): (0, b"SUCCESS\r\n", b""),
            (TASKLIST, "/FO", "CSV", "/NH", "/FI", "PID eq 4242"): alive,
            POWERSHELL: _table((4242, 1000, 5000, "node.exe")),
        }
    )
    clock = Clock()
    result = run(
        PORT,
        Options(timeout=1.0, force=True),
        context=context_for(platform="windows", runner=runner),
        look=lambda: (
            [sock(4242, "node.exe")]
            if runner.calls[-1:] != [(TASKKILL, "/PID", "4242", "/F")]
            else []
        ),
        stopper=stopper,
        clock=clock,
        sleep=clock.sleep,
    )
    assert (TASKKILL, "/PID", "4242") in runner.calls
    assert runner.calls.index((TASKKILL, "/PID", "4242")) < runner.calls.index(
        (TASKKILL, "/PID", "4242", "/F")
    )
    assert result.owners[0].signals == ("taskkill", "taskkill /F")
    runner.replies[(TASKLIST, "/FO", "CSV", "/NH", "/FI", "PID eq 4242")] = gone
    assert not stopper.alive(Handle(4242))


def test_windows_tree_not_found_and_access_denied() -> None:
    stopper, runner = _windows(
        {
            (TASKKILL, "/PID", "7", "/T"): (128, b"", b'ERROR: The process "7" not found.\r\n'),
            (TASKKILL, "/PID", "8", "/T", "/F"): (1, b"", b"ERROR: Access is denied.\r\n"),
            POWERSHELL: _table((7, 1, 10, "app.exe"), (9, 7, 20, "child.exe")),
        },
        tree=True,
    )
    with pytest.raises(ProcessLookupError):
        stopper.signal(Handle(7), force=False)
    with pytest.raises(PermissionError):
        stopper.signal(Handle(8), force=True)
    assert runner.calls == [(TASKKILL, "/PID", "7", "/T"), (TASKKILL, "/PID", "8", "/T", "/F")]
    assert stopper.descendants([7]) == {9: 7}  # listed, to be judged before /T reaches them


def test_posix_stopper_signals_the_pid_only_term_then_kill() -> None:
    sent: list[tuple[int, int]] = []
    runner = FakeRunner(
        tools={"ps": "/bin/ps"},
        replies={
            ("/bin/ps", "-A", "-o", "pid=", "-o", "ppid="): (0, b"  1 0\n 50 1\n 51 50\n", b"")
        },
    )

    def kill_(pid: int, signum: int) -> None:
        sent.append((pid, signum))

    stopper = PosixStopper(runner, kill=kill_)
    stopper.signal(Handle(50), force=False)
    stopper.signal(Handle(50), force=True)
    assert sent == [(50, signal.SIGTERM), (50, signal.SIGKILL)]
    assert stopper.descendants([50]) == {51: 50}
    assert stopper.machine_init(1)
    looks = [[sock(50)]]
    holds = stopper.holder_check(PORT, lambda: looks[0])
    assert holds(50)
    assert not holds(51)


def test_linux_stopper_namespace_init_from_nspid(tmp_path: Path) -> None:
    (tmp_path / "77").mkdir()
    (tmp_path / "77" / "status").write_text("Name:\tapp\nNSpid:\t77\t1\n")
    (tmp_path / "78").mkdir()
    (tmp_path / "78" / "status").write_text("Name:\tapp\nNSpid:\t78\n")
    stopper = LinuxStopper(str(tmp_path))
    assert stopper.namespace_init(77)
    assert not stopper.namespace_init(78)
    # /proc/self/ns/pid unreadable here: pid 1 is taken for the machine's init.
    assert stopper.machine_init(1)
    assert not stopper.machine_init(77)


@pytest.mark.parametrize("pid", [0, -1, -4242])
def test_no_stopper_signals_a_process_group(pid: int) -> None:
    # kill(0), kill(-1) and kill(-N) signal groups: refused before any call.
    from portcheck._kill import stoppers as _stoppers

    sent: list[tuple[int, int]] = []
    stopper = _stoppers.PosixStopper(FakeRunner(), kill=lambda p, s: sent.append((p, s)))
    with pytest.raises(ValueError, match="process group"):
        stopper.signal(_stoppers.Handle(pid=pid), force=True)
    assert sent == []
