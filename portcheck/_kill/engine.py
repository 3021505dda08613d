"""`stop_owners`: carry out the plan (`policy.py`), safely, then prove the port is free.

The steps: look up every owner; let the planner decide for each whether it
may be stopped (`Refusal` says why not; one refused listener stops nothing);
re-check right before signalling that each process is the one planned (the
same pid and start time) and still holds the port (on Linux through a pidfd,
see `stoppers.py`), all of them before any signal; ask each to stop; wait up
to `grace` seconds for them to exit; with `force`, re-check the survivors the
same way and kill them; look again. Only the owners' own pids (and, with
`tree`, their descendants) are ever signalled, never a process group.

One deadline bounds the run: `timeout` (the looks) plus `grace` (plus the
kill's own grace with `force`). Past it the engine stops waiting, signals
nothing more, and reports.

The answer is data: refusals, permission errors, survivors and respawns are
reported in the `StopResult` with `free=False`. Only "could not look" (a tool
error) and bad arguments raise.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Callable

import attrs

from .._records import Platform, Socket, is_remnant
from .._validate import check_port, check_seconds
from .policy import Options, Planner, Target
from .results import Outcome, Refusal, StopResult

if TYPE_CHECKING:
    from .._backends.context import Context
    from .stoppers import Handle, Stopper

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


def stop_owners(
    port: int,
    *,
    grace: float = 10.0,
    force: bool = False,
    managed: bool = False,
    tree: bool = False,
    dry_run: bool = False,
    tool: str | None = None,
    timeout: float = 10.0,
    strict: bool = False,
    stop_container_init: bool = False,
    connections: bool = False,
) -> StopResult:
    """Stop every process holding `port`, then look again; return what was done.

    Each owner is asked to stop (SIGTERM; on Windows `taskkill /PID N`), then
    `stop_owners` waits up to `grace` seconds for them to exit. With
    `force=True`, the ones still running are then killed (SIGKILL;
    `taskkill /F`). `tree=True` stops each owner's descendants too.
    `dry_run=True` only says what would be done. `tool` and `timeout` (the
    limit of each look at the port, in seconds) are as for `who_owns`; the
    whole run ends by `timeout + grace` (plus 5 s with `force`), reporting
    whatever it could not finish.

    Listeners first, all or nothing: the holders of the port's listening
    (or bound) sockets are stopped; processes holding only connections on
    it (sshd's per-session children, say) are listed and left running
    unless `connections=True`. When the holder of a listening socket is
    refused, nothing at all is stopped.

    Never stopped (the record says why, in `OwnerOutcome.refusal`): the
    machine's init, Windows PID 0 and 4, this process and its ancestors,
    owners hidden from you, and, unless `managed=True`, processes that a
    systemd `.service` unit or a container runtime runs (with the command to
    use instead in `hint`). A container's own pid 1 is stopped only with
    `stop_container_init=True` (the container stops with it). Nothing is
    stopped when /proc belongs to another pid namespace. Right before each
    signal (the polite one and the forceful one), the process is checked to
    be the same (pid and start time) and to still hold the port (on Linux
    also through a pidfd), so a reused pid is never signalled.

    `free` in the result is True only when no process holds the port at the
    end: TIME_WAIT remnants count as free unless `strict=True`, which waits
    (up to the system's TIME_WAIT length) for them to clear. A process that
    took the port again right after the owners exited is in `respawned`.
    Raises only when the port cannot be looked at (`PortcheckError`) or for
    bad arguments.
    """
    options = Options(
        grace=grace,
        timeout=timeout,
        force=force,
        managed=managed,
        tree=tree,
        dry_run=dry_run,
        strict=strict,
        stop_container_init=stop_container_init,
        connections=connections,
    )
    return run(port, options, tool=tool)


def run(
    port: int,
    options: Options,
    *,
    tool: str | None = None,
    context: Context | None = None,
    look: Callable[[], list[Socket]] | None = None,
    stopper: Stopper | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> StopResult:
    """`stop_owners` with its options gathered, and the context, lookup and stopper injectable."""
    port = check_port(port)
    check_seconds("grace", options.grace, allow_zero=True)
    if context is None:
        from .._context import context_for

        context = context_for(timeout=options.timeout)
    if look is None:
        from .._lookup import lookup

        ctx = context

        def look() -> list[Socket]:
            return lookup(port, tool=tool, context=ctx)

    if stopper is None:
        from .stoppers import stopper_for

        stopper = stopper_for(
            context.platform, context.runner, tree=options.tree, timeout=options.timeout
        )
    planner = Planner(port, options, context.platform, stopper)
    return Engine(port, options, planner, look, stopper, clock, sleep).go()


@attrs.define
class Engine:
    """Carries one plan out: signals, waits, the last look and the result."""

    port: int
    options: Options
    planner: Planner
    look: Callable[[], list[Socket]]
    stopper: Stopper
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    deadline: float = 0.0

    def go(self) -> StopResult:
        o = self.options
        self.deadline = self.clock() + o.timeout + o.grace + (KILL_GRACE if o.force else 0.0)
        before = self.look()
        targets = self.planner.plan(before)
        to_stop = [t for t in targets if t.outcome is None]
        if self.options.dry_run:
            for t in to_stop:
                t.outcome = Outcome.DRY_RUN
                t.detail = f"with {self.stopper.signal_names[0]}"
            return self.result(targets, before, before_pids=_pids(before))
        if to_stop:
            self.stop(to_stop)
        after = self.final_look(bool(to_stop))
        return self.result(targets, after, before_pids=_pids(before))

    # --- stopping -------------------------------------------------------------

    def stop(self, targets: list[Target]) -> None:
        try:
            self.finish(self.ask(targets))
        finally:
            for t in targets:
                if t.handle is not None:
                    self.stopper.close(t.handle)
                    t.handle = None

    def ask(self, targets: list[Target]) -> list[Target]:
        """Grab, re-check and send the polite signal; return the targets signalled."""
        for t in targets:
            t.handle = self.stopper.grab(t.pid)
            if t.handle is None:
                t.outcome, t.detail = Outcome.ALREADY_GONE, "exited before it was signalled"
        # The re-checks come after the handles: on Linux a pidfd opened before
        # the check names the process checked, whatever happens to its pid.
        # Every check before any signal: a --tree child is checked against its
        # parent, which must not have exited (re-parenting the child) yet.
        confirmed = self.recheck([t for t in targets if t.outcome is None], before="signalled")
        polite = self.stopper.signal_names[0]
        return [
            t
            for t in confirmed
            if t.handle is not None and self.send(t, t.handle, force=False, name=polite)
        ]

    def recheck(self, targets: list[Target], *, before: str) -> list[Target]:
        """The targets that are still the processes planned and still hold the port;
        the others get their outcome (not signalled)."""
        if not targets:
            return []
        if self.past_deadline(targets, before):
            return []
        starts = self.stopper.start_times(t.pid for t in targets)
        holds = self.stopper.holder_check(self.port, self.look)
        confirmed: list[Target] = []
        for t in targets:
            if t.handle is None:
                continue
            if starts is not None and t.start is not None and starts.get(t.pid) != t.start:
                if t.pid not in starts and not t.signals:
                    t.outcome, t.detail = Outcome.ALREADY_GONE, f"exited before it was {before}"
                elif t.pid not in starts:
                    t.outcome, t.detail = Outcome.SIGNALLED, f"exited after {t.signals[0]}"
                else:
                    t.refuse(
                        Refusal.NOT_CONFIRMED,
                        f"its pid now names another process (another start time): not {before}",
                    )
                continue
            try:
                ok = self.still_ours(t, t.handle, holds)
            except PermissionError:
                t.outcome = Outcome.PERMISSION_DENIED
                t.detail = f"cannot read its descriptors to confirm it holds the port; not {before}"
                continue
            if ok:
                confirmed.append(t)
            elif t.signals:
                t.outcome = Outcome.STILL_ALIVE
                t.detail = f"released the port after {t.signals[0]} but still runs; not {before}"
            else:
                t.outcome = Outcome.ALREADY_GONE
                t.detail = f"no longer holds the port; not {before}"
        return confirmed

    def past_deadline(self, targets: list[Target], before: str) -> bool:
        if self.clock() < self.deadline:
            return False
        for t in targets:
            t.outcome = Outcome.STILL_ALIVE
            t.detail = (
                f"not {before}: the run's deadline ({self.options.timeout:g} s + grace) passed"
            )
        return True

    def finish(self, signalled: list[Target]) -> None:
        """Wait for the signalled to exit; with `force` kill the survivors; name the rest."""
        polite, forceful = self.stopper.signal_names
        self.wait_exit(signalled, self.options.grace)
        survivors = [t for t in signalled if t.outcome is None]
        if survivors and self.options.force:
            # The same checks again: without a pidfd, the holder may have exited
            # on the polite signal and its pid been given to another process.
            killed = [
                t
                for t in self.recheck(survivors, before="killed")
                if t.handle is not None and self.send(t, t.handle, force=True, name=forceful)
            ]
            self.wait_exit(killed, KILL_GRACE, done=Outcome.KILLED)
        for t in signalled:
            if t.outcome is None:
                t.outcome = Outcome.STILL_ALIVE
                if t.signals[-1] == forceful:
                    t.detail = f"still running {KILL_GRACE:g} s after {forceful}"
                else:
                    t.detail = f"still running {self.options.grace:g} s after {polite}" + (
                        "" if self.options.force else "; --force would kill it"
                    )

    def still_ours(self, t: Target, handle: Handle, holds: Callable[[int], bool]) -> bool:
        """The re-check: an owner still holds the port; a --tree child is still its child."""
        if t.child_of is not None:
            return t.signals != [] or self.stopper.parent(handle) == t.child_of
        return holds(t.pid)

    def send(self, t: Target, handle: Handle, *, force: bool, name: str) -> bool:
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
        self, targets: list[Target], seconds: float, *, done: Outcome = Outcome.SIGNALLED
    ) -> None:
        deadline = min(self.clock() + seconds, self.deadline)
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
        limit = _TIME_WAIT_SECONDS.get(self.planner.platform, _TIME_WAIT_DEFAULT) + 5.0
        deadline = self.clock() + max(limit, self.options.grace)
        while after and not _held(after) and self.clock() < deadline:
            self.sleep(1.0)
            after = self.look()
        return after

    def result(
        self, targets: list[Target], after: list[Socket], *, before_pids: set[int]
    ) -> StopResult:
        remaining = tuple(s for s in after if not _remnant(s))
        time_wait = tuple(s for s in after if _remnant(s))
        respawned = tuple(s for s in remaining if s.pid is not None and s.pid not in before_pids)
        # Connections of the holders left running on purpose do not hold the
        # port itself: a server binds it again (with SO_REUSEADDR, as for TIME_WAIT).
        left = {t.pid for t in targets if t.refusal is Refusal.CONNECTIONS_ONLY}
        kept = [s for s in remaining if s.pid in left and s.remote is not None]
        free = len(kept) == len(remaining) and not self.options.dry_run
        if self.options.dry_run:
            free = not _held(after)
        if self.options.strict and time_wait:
            free = False
        notes = list(self.planner.notes)
        if time_wait and not remaining:
            notes.append(
                f"{len(time_wait)} TIME_WAIT remnant(s) of closed connections remain; no process"
                " holds the port, but a server that does not set SO_REUSEADDR may fail to bind"
                " it for up to a minute"
                + (" (--strict waited for them to clear)" if self.options.strict else "")
            )
        if left and not self.options.dry_run:
            notes.append(
                f"{len(left)} process(es) holding only connections on the port were left"
                " running (--connections stops them too); a server that does not set"
                " SO_REUSEADDR may fail to bind the port while they last"
            )
        if respawned:
            notes.append(
                "the port was taken again right after its owners exited"
                " (a supervisor restarted them?): stop it through its supervisor"
            )
        return StopResult(
            port=self.port,
            free=free,
            dry_run=self.options.dry_run,
            owners=tuple(t.freeze() for t in targets) + tuple(self.planner.unowned),
            remaining=remaining,
            respawned=respawned,
            time_wait=time_wait,
            notes=tuple(notes),
        )


def _remnant(sock: Socket) -> bool:
    return is_remnant(sock)  # the one TIME_WAIT rule (docs/time-wait.md)


def _held(sockets: Sequence[Socket]) -> bool:
    return any(not _remnant(s) for s in sockets)


def _pids(sockets: Sequence[Socket]) -> set[int]:
    return {s.pid for s in sockets if s.pid is not None}
