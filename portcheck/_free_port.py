"""`free_port`: stop every process holding a port, safely, then prove the port is free.

The steps: look up every owner; decide for each whether it may be stopped
(`Refusal` says why not); re-check right before signalling that each pid
still holds the port (on Linux through a pidfd, see `_stoppers`); ask each to
stop; wait up to `timeout` for them to exit; with `force`, kill the ones still
running; look again. Only the owners' own pids (and, with `tree`, their
descendants) are ever signalled, never a process group.

The answer is data: refusals, permission errors, survivors and respawns are
reported in the `FreePortResult` with `free=False`. Only "could not look"
(a tool error) and bad arguments raise.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Callable

import attrs

from ._checks import check_port, check_seconds
from ._records import Container, NoOwner, Platform, Socket

if TYPE_CHECKING:
    from ._run import Runner
    from ._stoppers import Handle, Stopper

# Container proxies: stopping one breaks a container's published port, and the
# runtime starts it again with the container.
PROXIES = frozenset({"docker-proxy", "rootlessport", "vpnkit", "com.docker.backend", "wslrelay"})
PROXIES_EXE = frozenset(p + ".exe" for p in PROXIES)
# Windows processes whose end takes the whole system down (or that are services' hosts).
_WINDOWS_CRITICAL = frozenset(
    {"csrss.exe", "wininit.exe", "smss.exe", "services.exe", "lsass.exe", "winlogon.exe"}
)
_SSH_DAEMONS = frozenset({"sshd", "sshd-session", "sshd.exe", "dropbear"})
# After the owners exited, look once more after this long: a supervisor that
# restarts its child at once has taken the port again by then.
RESPAWN_SETTLE = 0.5
# After SIGKILL, the kernel needs a moment to tear the process down.
KILL_GRACE = 5.0
_POLL = 0.05
# How long TIME_WAIT lasts (2 MSL), for --strict: Linux fixes 60 s, Windows
# defaults to 240 s (TcpTimedWaitDelay), macOS and the BSDs use 30-60 s.
_TIME_WAIT_SECONDS = {Platform.WINDOWS: 240.0}
_TIME_WAIT_DEFAULT = 60.0


class Outcome(str, enum.Enum):
    """What `free_port` did about one owner."""

    SIGNALLED = "signalled"
    """Asked to stop (SIGTERM; Windows: taskkill) and exited within the grace period."""
    KILLED = "killed"
    """Still running after the grace period, then killed (SIGKILL; taskkill /F): `force`."""
    STILL_ALIVE = "still_alive"
    """Asked to stop, still running after the grace period (without `force`)."""
    ALREADY_GONE = "already_gone"
    """Exited, or no longer held the port, before the signal: not signalled."""
    REFUSED = "refused"
    """Not signalled, on purpose: `OwnerOutcome.refusal` says why."""
    PERMISSION_DENIED = "permission_denied"
    """The signal was not allowed (EPERM; Windows: access denied)."""
    DRY_RUN = "dry_run"
    """Would be asked to stop; `dry_run=True` stops nothing."""


class Refusal(str, enum.Enum):
    """Why an owner was not signalled."""

    INIT = "init"
    """The machine's init (pid 1 in the initial pid namespace)."""
    CONTAINER_INIT = "container_init"
    """Pid 1 of a container's own pid namespace: the container stops with it; needs
    confirmation (`stop_container_init=True`, the command's prompt or --yes)."""
    SYSTEM_PROCESS = "system_process"
    """A Windows pseudo-process (PID 0, 4) or a process Windows cannot run without."""
    SELF = "self"
    """This very process."""
    ANCESTOR = "ancestor"
    """An ancestor of this process (its shell, terminal, ssh session...)."""
    HIDDEN = "hidden"
    """Its owner is hidden from this user: nothing to signal (more privileges would show it)."""
    NOT_SHOWN = "not_shown"
    """The tool shows no owners on this system."""
    MANAGED = "managed"
    """A service manager or container runtime runs it: stop it there (`hint`), or `managed=True`."""
    NOT_CONFIRMED = "not_confirmed"
    """Not among the processes the person confirmed (it appeared after the question)."""


@attrs.frozen(kw_only=True)
class OwnerOutcome:
    """One process (or, with `pid` None, the hidden owners) and what was done about it.

    `sockets` are its sockets on the port (empty for a child added by `tree`,
    whose parent is `child_of`). `refusal` is set when `outcome` is REFUSED.
    `detail` says it in words; `hint` is the command to run instead (for a
    managed owner: `systemctl stop nginx.service`, `docker stop ID`, ...).
    `signals` lists what was sent, in order (`SIGTERM`, `SIGKILL`, `taskkill`,
    `taskkill /F`).
    """

    pid: int | None
    process: str | None
    user: str | None
    outcome: Outcome
    refusal: Refusal | None = None
    detail: str = ""
    hint: str | None = None
    sockets: tuple[Socket, ...] = ()
    child_of: int | None = None
    signals: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class FreePortResult:
    """What `free_port` did, and whether `port` is free at the end.

    `free` is True only when, at the last look, no process holds the port:
    nothing, or (unless `strict`) only TIME_WAIT remnants, listed in
    `time_wait`. `remaining` is every other socket still on the port at the
    last look; `respawned` the ones among them held by a process that was
    not there before (a supervisor restarted the server). `notes` are
    sentences to show (the TIME_WAIT caveat, --managed warnings).
    """

    port: int
    free: bool
    dry_run: bool
    owners: tuple[OwnerOutcome, ...]
    remaining: tuple[Socket, ...] = ()
    respawned: tuple[Socket, ...] = ()
    time_wait: tuple[Socket, ...] = ()
    notes: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Options:
    """Internal: the switches of one `free_port` run."""

    timeout: float = 10.0
    force: bool = False
    managed: bool = False
    tree: bool = False
    dry_run: bool = False
    strict: bool = False
    stop_container_init: bool = False
    allow: frozenset[int] | None = None
    """When set, only these pids may be signalled (the ones the person confirmed)."""


def free_port(
    port: int,
    *,
    timeout: float = 10.0,
    force: bool = False,
    managed: bool = False,
    tree: bool = False,
    dry_run: bool = False,
    tool: str | None = None,
    strict: bool = False,
    stop_container_init: bool = False,
) -> FreePortResult:
    """Stop every process holding `port`, then look again; return what was done.

    Each owner is asked to stop (SIGTERM; on Windows `taskkill /PID N`), then
    `free_port` waits up to `timeout` seconds for them to exit. With
    `force=True`, the ones still running are then killed (SIGKILL;
    `taskkill /F`). `tree=True` stops each owner's descendants too.
    `dry_run=True` only says what would be done.

    Never stopped (the record says why, in `OwnerOutcome.refusal`): the
    machine's init, Windows PID 0 and 4, this process and its ancestors,
    owners hidden from you, and, unless `managed=True`, processes that a
    systemd `.service` unit or a container runtime runs (with the command to
    use instead in `hint`). A container's own pid 1 is stopped only with
    `stop_container_init=True` (the container stops with it). Right before
    each signal, the pid is checked to still hold the port (on Linux through
    a pidfd, so a reused pid is never signalled).

    `free` in the result is True only when no process holds the port at the
    end: TIME_WAIT remnants count as free unless `strict=True`, which waits
    (up to the system's TIME_WAIT length) for them to clear. A process that
    took the port again right after the owners exited is in `respawned`.
    Raises only when the port cannot be looked at (`PortcheckError`) or for
    bad arguments.
    """
    options = Options(
        timeout=timeout,
        force=force,
        managed=managed,
        tree=tree,
        dry_run=dry_run,
        strict=strict,
        stop_container_init=stop_container_init,
    )
    return run(port, options, tool=tool)


def run(
    port: int,
    options: Options,
    *,
    tool: str | None = None,
    platform: str | Platform | None = None,
    runner: Runner | None = None,
    look: Callable[[], list[Socket]] | None = None,
    stopper: Stopper | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> FreePortResult:
    """`free_port` with the platform, runner, lookup and stopper injectable for tests."""
    port = check_port(port)
    check_seconds("timeout", options.timeout, allow_zero=True)
    where = Platform.current() if platform is None else Platform.of(platform)
    if runner is None:
        from ._run import SystemRunner

        runner = SystemRunner()
    if look is None:
        from ._lookup import lookup

        bound_runner = runner

        def look() -> list[Socket]:
            return lookup(port, tool=tool, platform=where, runner=bound_runner)

    if stopper is None:
        from ._stoppers import stopper_for

        stopper = stopper_for(where, runner, tree=options.tree, timeout=10.0)
    return _Run(port, options, where, look, stopper, clock, sleep).go()


@attrs.define
class _Target:
    """Internal: one process the run is about, and what became of it."""

    pid: int
    process: str | None
    user: str | None
    sockets: list[Socket]
    child_of: int | None = None
    refusal: Refusal | None = None
    detail: str = ""
    note: str = ""  # from the plan, kept whatever the outcome: --managed, container's pid 1
    hint: str | None = None
    outcome: Outcome | None = None
    signals: list[str] = attrs.field(factory=list)
    handle: Handle | None = None

    def refuse(self, why: Refusal, detail: str, hint: str | None = None) -> None:
        self.refusal, self.detail, self.hint = why, detail, hint
        self.outcome = Outcome.REFUSED

    def freeze(self) -> OwnerOutcome:
        if self.outcome is None:
            raise RuntimeError(f"internal error: no outcome for pid {self.pid}")
        return OwnerOutcome(
            pid=self.pid,
            process=self.process,
            user=self.user,
            outcome=self.outcome,
            refusal=self.refusal,
            detail="; ".join(text for text in (self.detail, self.note) if text),
            hint=self.hint,
            sockets=tuple(self.sockets),
            child_of=self.child_of,
            signals=tuple(self.signals),
        )


@attrs.define
class _Run:
    port: int
    options: Options
    platform: Platform
    look: Callable[[], list[Socket]]
    stopper: Stopper
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    notes: list[str] = attrs.field(factory=list)
    unowned: list[OwnerOutcome] = attrs.field(factory=list)

    def go(self) -> FreePortResult:
        before = self.look()
        targets = self.plan(before)
        to_stop = [t for t in targets if t.outcome is None]
        if self.options.dry_run:
            for t in to_stop:
                t.outcome = Outcome.DRY_RUN
                t.detail = f"would be asked to stop ({self.stopper.signal_names[0]})"
            return self.result(targets, before, before_pids=_pids(before))
        if to_stop:
            self.stop(to_stop)
        after = self.final_look(bool(to_stop))
        return self.result(targets, after, before_pids=_pids(before))

    # --- planning -------------------------------------------------------------

    def plan(self, sockets: list[Socket]) -> list[_Target]:
        targets: dict[int, _Target] = {}
        hidden: list[Socket] = []
        not_shown: list[Socket] = []
        for sock in sockets:
            if sock.pid is None:
                if sock.no_owner is NoOwner.HIDDEN:
                    hidden.append(sock)
                elif sock.no_owner is NoOwner.NOT_SHOWN:
                    not_shown.append(sock)
                continue  # TIME_WAIT, CLOSED: no process holds it
            target = targets.get(sock.pid)
            if target is None:
                target = targets[sock.pid] = _Target(
                    pid=sock.pid, process=sock.process, user=sock.user, sockets=[]
                )
            target.sockets.append(sock)
        ancestors = self.stopper.ancestors()
        for target in targets.values():
            self.judge(target, ancestors)
        result = list(targets.values())
        if self.options.tree:
            result += self.children([t for t in result if t.outcome is None], ancestors)
        if hidden:
            self.unowned.append(_unowned(hidden, Refusal.HIDDEN, _HIDDEN))
        if not_shown:
            self.unowned.append(_unowned(not_shown, Refusal.NOT_SHOWN, _NOT_SHOWN))
        return result

    def judge(self, target: _Target, ancestors: set[int]) -> None:
        """Refuse `target` if a safety rule says so; leave `outcome` None to stop it."""
        pid = target.pid
        name = target.process or ""
        system = any(s.system_process for s in target.sockets)
        windows = self.platform is Platform.WINDOWS
        if system or (windows and pid in (0, 4)):
            target.refuse(Refusal.SYSTEM_PROCESS, "a Windows system pseudo-process, not a program")
        elif windows and name.lower() in _WINDOWS_CRITICAL:
            target.refuse(Refusal.SYSTEM_PROCESS, f"{name} is critical: Windows stops with it")
        elif self.stopper.machine_init(pid):
            target.refuse(Refusal.INIT, "the machine's init (pid 1): the system stops with it")
        elif pid in ancestors:
            self.refuse_self(target, ancestors)
        elif self.stopper.namespace_init(pid) and not self.options.stop_container_init:
            target.refuse(
                Refusal.CONTAINER_INIT,
                "pid 1 of a container's own pid namespace: the container stops with it"
                " (confirm to stop it)",
            )
        else:
            self.check_managed(target)
        # Last: a process the person was not asked about, that every other rule let through.
        if (
            target.outcome is None
            and self.options.allow is not None
            and pid not in self.options.allow
        ):
            target.refuse(
                Refusal.NOT_CONFIRMED, "it took the port after the question was asked; ask again"
            )
        if target.outcome is None and self.stopper.namespace_init(pid):
            warning = "pid 1 of its pid namespace: the container stops with it"
            target.note = f"{target.note}; {warning}" if target.note else warning

    def refuse_self(self, target: _Target, ancestors: set[int]) -> None:
        import os

        if target.pid == os.getpid():
            target.refuse(Refusal.SELF, "this very process (portcheck itself)")
            return
        detail = (
            "an ancestor of this process (its shell, terminal or session):"
            " stopping it would end this session"
        )
        if (target.process or "").lower() in _SSH_DAEMONS:
            detail = (
                "an ancestor of this process: stopping sshd from an ssh session ends that session"
            )
        target.refuse(Refusal.ANCESTOR, detail)

    def check_managed(self, target: _Target) -> None:
        why, hint = managed_by(target.sockets, target.process, self.platform, self.port)
        if why is None:
            return
        if self.options.managed:
            self.notes.append(
                f"--managed: stopping pid {target.pid} although {why}; it may be restarted"
                + (f" (the right tool: {hint})" if hint else "")
            )
            target.note = f"{why} (stopped anyway: managed)"
            target.hint = hint
        else:
            target.refuse(Refusal.MANAGED, why, hint)

    def children(self, owners: list[_Target], ancestors: set[int]) -> list[_Target]:
        from ._backends.procfs import process_info, user_name

        found = self.stopper.descendants(t.pid for t in owners if t.pid is not None)
        known = {t.pid for t in owners}
        added = []
        for child, parent in found.items():
            if child in known:
                continue
            info = process_info(child) if self.platform is Platform.LINUX else None
            target = _Target(
                pid=child,
                process=info[0] if info else None,
                user=user_name(info[1]) if info else None,
                sockets=[],
                child_of=parent,
            )
            self.judge(target, ancestors)
            added.append(target)
        return added

    # --- stopping -------------------------------------------------------------

    def stop(self, targets: list[_Target]) -> None:
        try:
            self.finish(self.ask(targets))
        finally:
            for t in targets:
                if t.handle is not None:
                    self.stopper.close(t.handle)
                    t.handle = None

    def ask(self, targets: list[_Target]) -> list[_Target]:
        """Grab, re-check and send the polite signal; return the targets signalled."""
        for t in targets:
            t.handle = self.stopper.grab(t.pid)
            if t.handle is None:
                t.outcome, t.detail = Outcome.ALREADY_GONE, "exited before it was signalled"
        # The re-check comes after the handles: on Linux a pidfd opened before
        # the check names the process checked, whatever happens to its pid.
        # Every check before any signal: a --tree child is checked against its
        # parent, which must not have exited yet.
        holds = self.stopper.holder_check(self.port, self.look)
        confirmed: list[tuple[_Target, Handle]] = []
        for t in targets:
            if t.outcome is not None or t.handle is None:
                continue
            try:
                ok = self.still_ours(t, t.handle, holds)
            except PermissionError:
                t.outcome = Outcome.PERMISSION_DENIED
                t.detail = "cannot read its descriptors to confirm it holds the port; not signalled"
                continue
            if ok:
                confirmed.append((t, t.handle))
            else:
                t.outcome = Outcome.ALREADY_GONE
                t.detail = (
                    "no longer holds the port (or its pid now names another process); not signalled"
                )
        polite = self.stopper.signal_names[0]
        return [t for t, handle in confirmed if self.send(t, handle, force=False, name=polite)]

    def finish(self, signalled: list[_Target]) -> None:
        """Wait for the signalled to exit; with `force` kill the survivors; name the rest."""
        polite, forceful = self.stopper.signal_names
        self.wait_exit(signalled, self.options.timeout)
        survivors = [t for t in signalled if t.outcome is None]
        if survivors and self.options.force:
            killed = [
                t
                for t in survivors
                if t.handle is not None and self.send(t, t.handle, force=True, name=forceful)
            ]
            self.wait_exit(killed, KILL_GRACE, done=Outcome.KILLED)
        for t in signalled:
            if t.outcome is None:
                t.outcome = Outcome.STILL_ALIVE
                if t.signals[-1] == forceful:
                    t.detail = f"still running {KILL_GRACE:g} s after {forceful}"
                else:
                    t.detail = f"still running {self.options.timeout:g} s after {polite}" + (
                        "" if self.options.force else " (force kills it)"
                    )

    def still_ours(self, t: _Target, handle: Handle, holds: Callable[[int], bool]) -> bool:
        """The re-check: an owner still holds the port; a --tree child is still its child."""
        if t.child_of is not None:
            return self.stopper.parent(handle) == t.child_of
        return holds(t.pid)

    def send(self, t: _Target, handle: Handle, *, force: bool, name: str) -> bool:
        try:
            self.stopper.signal(handle, force=force)
        except ProcessLookupError:
            if t.signals:  # exited between the grace period and the kill
                t.outcome, t.detail = Outcome.SIGNALLED, f"exited after {t.signals[0]}"
            else:
                t.outcome, t.detail = Outcome.ALREADY_GONE, "exited before it was signalled"
            return False
        except PermissionError as exc:
            t.outcome = Outcome.PERMISSION_DENIED
            t.detail = f"not allowed to signal it ({exc.strerror or exc or 'EPERM'})"
            return False
        t.signals.append(name)
        return True

    def wait_exit(
        self, targets: list[_Target], seconds: float, *, done: Outcome = Outcome.SIGNALLED
    ) -> None:
        deadline = self.clock() + seconds
        while True:
            waiting = False
            for t in targets:
                if t.outcome is None and t.handle is not None:
                    if self.stopper.alive(t.handle):
                        waiting = True
                    else:
                        t.outcome = done
                        t.detail = f"exited after {' then '.join(t.signals)}"
            if not waiting or self.clock() >= deadline:
                return
            self.sleep(_POLL)

    # --- the end --------------------------------------------------------------

    def final_look(self, settle: bool) -> list[Socket]:
        after = self.look()
        if settle and not _held(after):
            # Look again a moment later: a supervisor restarts its child at once.
            self.sleep(RESPAWN_SETTLE)
            after = self.look()
        if self.options.strict and not _held(after) and after:
            after = self.wait_time_wait(after)
        return after

    def wait_time_wait(self, after: list[Socket]) -> list[Socket]:
        limit = _TIME_WAIT_SECONDS.get(self.platform, _TIME_WAIT_DEFAULT) + 5.0
        deadline = self.clock() + max(limit, self.options.timeout)
        while after and not _held(after) and self.clock() < deadline:
            self.sleep(1.0)
            after = self.look()
        return after

    def result(
        self, targets: list[_Target], after: list[Socket], *, before_pids: set[int]
    ) -> FreePortResult:
        remaining = tuple(s for s in after if not _remnant(s))
        time_wait = tuple(s for s in after if _remnant(s))
        respawned = tuple(s for s in remaining if s.pid is not None and s.pid not in before_pids)
        free = not remaining and not self.options.dry_run
        if self.options.dry_run:
            free = not _held(after)
        if self.options.strict and time_wait:
            free = False
        notes = list(self.notes)
        if time_wait and not remaining:
            notes.append(
                f"{len(time_wait)} TIME_WAIT remnant(s) of closed connections remain; no process"
                " holds the port, but a server that does not set SO_REUSEADDR may fail to bind"
                " it for up to a minute"
                + (" (--strict waited for them to clear)" if self.options.strict else "")
            )
        if respawned:
            notes.append(
                "the port was taken again right after its owners exited"
                " (a supervisor restarted them?): stop it through its supervisor"
            )
        return FreePortResult(
            port=self.port,
            free=free,
            dry_run=self.options.dry_run,
            owners=tuple(t.freeze() for t in targets) + tuple(self.unowned),
            remaining=remaining,
            respawned=respawned,
            time_wait=time_wait,
            notes=tuple(notes),
        )


def _remnant(sock: Socket) -> bool:
    return sock.pid is None and sock.no_owner in (NoOwner.TIME_WAIT, NoOwner.CLOSED)


def _held(sockets: Sequence[Socket]) -> bool:
    return any(not _remnant(s) for s in sockets)


def _pids(sockets: Sequence[Socket]) -> set[int]:
    return {s.pid for s in sockets if s.pid is not None}


_HIDDEN = (
    "held by a process hidden from you: nothing can be signalled"
    " (run as root or an administrator to see and stop it)"
)
_NOT_SHOWN = (
    "the tool here shows no owners, so there is no process to signal (try another --tool, or root)"
)


def _unowned(sockets: list[Socket], why: Refusal, detail: str) -> OwnerOutcome:
    return OwnerOutcome(
        pid=None,
        process=None,
        user=None,
        outcome=Outcome.REFUSED,
        refusal=why,
        detail=detail,
        sockets=tuple(sockets),
    )


def managed_by(
    sockets: Sequence[Socket], process: str | None, platform: Platform, port: int
) -> tuple[str | None, str | None]:
    """(what manages the owner, the command to stop it there), or (None, None)."""
    for unit in dict.fromkeys(u for s in sockets for u in s.units):
        found = _unit(unit, platform)
        if found is not None:
            return found
    container = next((s.container for s in sockets if s.container is not None), None)
    if container is not None:
        return f"it runs in {_container_words(container)}", _container_hint(container)
    name = (process or "").lower()
    if name in PROXIES or name in PROXIES_EXE:
        return (
            f"{process} is a container runtime's proxy for a published port",
            f"stop the container that publishes port {port} (docker ps --filter publish={port})",
        )
    if platform is Platform.WINDOWS and name == "svchost.exe":
        return "svchost.exe hosts Windows services (maybe several)", "Stop-Service <name>"
    return None, None


def _unit(unit: str, platform: Platform) -> tuple[str, str] | None:
    if platform is Platform.WINDOWS:
        return f"it hosts the Windows service {unit}", f"Stop-Service {unit}"
    if unit.startswith("user:") and unit.endswith(".service"):
        name = unit[len("user:") :]
        return (
            f"the systemd user unit {name} runs it (and may restart it)",
            f"systemctl --user stop {name}",
        )
    if unit.endswith(".service"):
        return f"the systemd unit {unit} runs it (and may restart it)", f"systemctl stop {unit}"
    return None  # a scope or slice: a login session, not a service manager


def _container_words(container: Container) -> str:
    if container.pod is not None:
        return f"a container of Kubernetes pod {container.pod}"
    return f"the {container.runtime} container {container.id[:12]}"


_STOP_COMMANDS = {
    "docker": "docker stop {id}",
    "podman": "podman stop {id}",
    "containerd": "nerdctl stop {id}",
    "lxc": "lxc-stop -n {id}",
}


def _container_hint(container: Container) -> str:
    if container.pod is not None:
        return f"delete or scale down pod {container.pod} (kubectl)"
    template = _STOP_COMMANDS.get(container.runtime)
    if template is None:
        return f"stop the {container.runtime} container {container.id}"
    return template.format(id=container.id)
