"""What `stop_owners` did: one `OwnerOutcome` per process, in one `StopResult`."""

from __future__ import annotations

from typing import Union

import attrs

from .._records import Socket, Word

# When a process started, as its OS tells it: clock ticks after boot on Linux
# (/proc/PID/stat field 22), `ps -o lstart=` text on macOS and the BSDs, the
# creation time (FILETIME) on Windows. With the pid it names one process.
Start = Union[int, str]


@attrs.frozen
class Identity:
    """One process, not a pid number: (pid, start time), and the name it was shown by.

    `start` is None where the OS gave none (then only the pid and name are
    compared). A pid reused by another process has another start time; a
    process that exec()ed another program keeps both but shows another name.
    """

    pid: int
    start: Start | None
    process: str | None


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
    """Not the process the person confirmed, or its identity changed before a signal:
    it appeared after the question, its pid now names another process (another
    start time), or it exec()ed another program."""
    FOREIGN_PROC = "foreign_proc"
    """/proc here is another pid namespace's (after `unshare -p` without a new /proc, or a
    host /proc in a container): its pids name other processes than kill(2) would reach."""
    CONNECTIONS_ONLY = "connections_only"
    """Holds only connections on the port (sshd's per-session children, a pre-fork
    server's workers), not its listening socket: stopped only with `connections=True`."""
    ALL_OR_NOTHING = "all_or_nothing"
    """Stoppable, but another holder of the port's listening socket is refused: stopping
    only some would not free the port, so nothing is stopped."""


@attrs.frozen(kw_only=True)
class OwnerOutcome:
    """One process (or, with `pid` None, the hidden owners) and what was done about it.

    `sockets` are its sockets on the port (empty for a child added by `tree`,
    whose parent is `child_of`). `refusal` is set when `outcome` is REFUSED.
    `detail` says it in words; `hint` is the command to run instead (for a
    managed owner: `systemctl stop nginx.service`, `docker stop ID`, ...).
    `signals` lists what was sent, in order (`SIGTERM`, `SIGKILL`, `taskkill`,
    `taskkill /F`). `start` is when the process started (see `Identity`), None
    when the OS does not tell.
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
    start: Start | None = None

    def identity(self) -> Identity | None:
        """The process as confirmed by a person: `Options.allow` takes these."""
        return None if self.pid is None else Identity(self.pid, self.start, self.process)


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
