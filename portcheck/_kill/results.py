"""What `stop_owners` did: one `OwnerOutcome` per process, in one `StopResult`."""

from __future__ import annotations

import attrs

from .._records import Socket, Word


class Outcome(Word):
    """What `stop_owners` did about one owner."""

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


class Refusal(Word):
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
class StopResult:
    """What `stop_owners` did, and whether `port` is free at the end.

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
