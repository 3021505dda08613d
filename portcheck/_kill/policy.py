"""Whom `stop_owners` may stop: the safety rules, decided before any signal.

The plan groups the port's sockets by owner and judges each owner (and, with
`tree`, each descendant): the machine's init, Windows' system processes, this
process and its ancestors, hidden owners and, unless `managed`, processes a
service manager or container runtime runs are refused, each with the reason
and the command to use instead. When /proc is not this process's own (another
pid namespace's), every owner is refused: its pids are not ours to signal.

All or nothing, listeners first: the port is freed by stopping the holders of
its listening (or bound) sockets. Holders of connections only are listed and
left running unless `connections`. When any listener's holder is refused,
nothing at all is stopped (`Refusal.ALL_OR_NOTHING`): stopping the rest
would not free the port, and would end other people's sessions for nothing.

Nothing here sends a signal: the engine (`engine.py`) carries the plan out.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from .._records import Container, NoOwner, Platform, Socket, is_listening
from .results import Identity, Outcome, OwnerOutcome, Refusal, Start

if TYPE_CHECKING:
    from .stoppers import Handle, Stopper

# Container proxies: stopping one breaks a container's published port, and the
# runtime starts it again with the container.
PROXIES = frozenset({"docker-proxy", "rootlessport", "vpnkit", "com.docker.backend", "wslrelay"})
PROXIES_EXE = frozenset(p + ".exe" for p in PROXIES)
# Windows processes whose end takes the whole system down (or that are services' hosts).
_WINDOWS_CRITICAL = frozenset(
    {"csrss.exe", "wininit.exe", "smss.exe", "services.exe", "lsass.exe", "winlogon.exe"}
)
_SSH_DAEMONS = frozenset({"sshd", "sshd-session", "sshd.exe", "dropbear"})


@attrs.frozen(kw_only=True)
class Options:
    """Internal: the switches of one `stop_owners` run (`grace` and `timeout` as there)."""

    grace: float = 10.0
    timeout: float = 10.0
    force: bool = False
    managed: bool = False
    tree: bool = False
    dry_run: bool = False
    strict: bool = False
    stop_container_init: bool = False
    connections: bool = False
    allow: frozenset[Identity] | None = None
    """When set, only these processes may be signalled (the ones the person confirmed):
    the same pid, start time and name, so a holder replaced while the question
    waited, or one that exec()ed another program, is refused."""


@attrs.define
class Target:
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
    start: Start | None = None

    @property
    def listener(self) -> bool:
        """Holds one of the port's listening or bound (peerless) sockets."""
        return any(_frees_port(s) for s in self.sockets)

    @property
    def connections_only(self) -> bool:
        return bool(self.sockets) and not self.listener

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
            start=self.start,
        )


@attrs.define
class Planner:
    """Judges every owner of the port (see the module's docstring); `plan` is the entry."""

    port: int
    options: Options
    platform: Platform
    stopper: Stopper
    notes: list[str] = attrs.field(factory=list)
    unowned: list[OwnerOutcome] = attrs.field(factory=list)

    def plan(self, sockets: list[Socket]) -> list[Target]:
        targets: dict[int, Target] = {}
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
                target = targets[sock.pid] = Target(
                    pid=sock.pid, process=sock.process, user=sock.user, sockets=[]
                )
            target.sockets.append(sock)
        result = list(targets.values())
        foreign = self.stopper.foreign_proc()
        if foreign is not None:
            for target in result:
                target.refuse(Refusal.FOREIGN_PROC, foreign, _FOREIGN_HINT)
        else:
            self.judge_all(result)
        if self.options.tree:
            result += self.children(result)
        if hidden:
            self.unowned.append(_unowned(hidden, Refusal.HIDDEN, _HIDDEN))
        if not_shown:
            self.unowned.append(_unowned(not_shown, Refusal.NOT_SHOWN, _NOT_SHOWN))
        self.all_or_nothing(result, [*hidden, *not_shown])
        return result

    def judge_all(self, targets: list[Target]) -> None:
        ancestors = self.stopper.ancestors()
        for target in targets:
            self.judge(target, ancestors)
        # Start times of the ones to stop: the identity a confirmation names.
        self.starts([t for t in targets if t.outcome is None])
        for target in targets:
            if target.outcome is None and target.connections_only and not self.options.connections:
                target.refuse(
                    Refusal.CONNECTIONS_ONLY,
                    "holds only connections on the port, not its listening socket:"
                    " left running (--connections stops it too)",
                )
        # Confirmation last: an owner that appeared (or changed) after the question.
        for target in targets:
            self.confirmed(target)

    def starts(self, targets: list[Target]) -> None:
        """Each target's start time, its identity with the pid; gone ones are gone."""
        found = self.stopper.start_times([t.pid for t in targets])
        if found is None:
            return  # this OS tells no start times: pids and names are compared
        for target in targets:
            target.start = found.get(target.pid)
            if target.start is None and target.outcome is None:
                target.outcome, target.detail = Outcome.ALREADY_GONE, "exited before it was judged"

    def confirmed(self, target: Target) -> None:
        allow = self.options.allow
        if target.outcome is not None or allow is None:
            return
        if Identity(target.pid, target.start, target.process) in allow:
            return
        if any(a.pid == target.pid for a in allow):
            detail = (
                "its pid now names another process than the one confirmed (another start"
                " time or program): ask again"
            )
        else:
            detail = "it took the port after the question was asked; ask again"
        target.refuse(Refusal.NOT_CONFIRMED, detail)

    def all_or_nothing(self, targets: list[Target], unowned: list[Socket]) -> None:
        """Stop nothing when a holder of the listening socket is refused (module docstring)."""
        blockers = [
            t
            for t in targets
            if t.listener
            and t.refusal is not None
            and t.refusal not in (Refusal.CONNECTIONS_ONLY, Refusal.ALL_OR_NOTHING)
        ]
        hidden_listener = any(_frees_port(s) for s in unowned)
        if not blockers and not hidden_listener:
            return
        if blockers:
            first = blockers[0]
            why = f"{first.process or 'pid ' + str(first.pid)} (pid {first.pid}) is refused"
            instead = f"; instead: {first.hint}" if first.hint else ""
        else:
            why = "a holder hidden from you is refused"
            instead = "; run as root or an administrator to see it"
        waiting = [t for t in targets if t.outcome is None]
        for target in waiting:
            target.refuse(
                Refusal.ALL_OR_NOTHING,
                f"not stopped: {why} and holds the port's listening socket,"
                " so stopping the others would not free the port",
            )
        if waiting:
            self.notes.append(
                f"nothing was stopped: {why} ({_reason(blockers)}), and stopping only"
                f" the others would not free port {self.port}{instead}"
            )

    def judge(self, target: Target, ancestors: set[int]) -> None:
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
        if target.outcome is None and self.stopper.namespace_init(pid):
            warning = "pid 1 of its pid namespace: the container stops with it"
            target.note = f"{target.note}; {warning}" if target.note else warning

    def refuse_self(self, target: Target, ancestors: set[int]) -> None:
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

    def check_managed(self, target: Target) -> None:
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

    def children(self, owners: list[Target]) -> list[Target]:
        """The descendants of the owners to stop, each judged; on Windows (`taskkill /T`
        stops a whole tree) a refused descendant refuses its tree."""
        from .._backends.procfs import process_info, user_name

        stopping = [t for t in owners if t.outcome is None]
        found = self.stopper.descendants(t.pid for t in stopping)
        known = {t.pid for t in owners}
        ancestors = self.stopper.ancestors()
        added = []
        for child, parent in found.items():
            if child in known:
                continue
            info = process_info(child) if self.platform is Platform.LINUX else None
            target = Target(
                pid=child,
                process=info[0] if info else self.stopper.name(child),
                user=user_name(info[1]) if info else None,
                sockets=[],
                child_of=parent,
            )
            added.append(target)
        for target in added:
            self.judge(target, ancestors)
        self.starts([t for t in added if t.outcome is None])
        for target in added:
            self.confirmed(target)
        if self.platform is Platform.WINDOWS:
            self.refuse_trees(stopping, added, found)
        return added

    def refuse_trees(
        self, roots: list[Target], children: list[Target], parents: dict[int, int]
    ) -> None:
        """`taskkill /T` cannot spare a descendant: a refused one refuses its whole tree."""
        by_pid = {t.pid: t for t in roots}
        for child in children:
            if child.outcome is not Outcome.REFUSED or child.refusal is None:
                continue
            root = child.pid
            while root in parents and root not in by_pid:
                root = parents[root]
            owner = by_pid.get(root)
            if owner is not None and owner.outcome is None:
                owner.refuse(
                    child.refusal,
                    f"its descendant {child.process or 'a process'} (pid {child.pid}) is refused"
                    f" ({child.detail}), and taskkill /T would stop it too",
                    child.hint,
                )
        for child in children:
            root = child.pid
            while root in parents and root not in by_pid:
                root = parents[root]
            owner = by_pid.get(root)
            if owner is not None and owner.outcome is Outcome.REFUSED and child.outcome is None:
                child.refuse(
                    Refusal.ALL_OR_NOTHING, "not stopped: its tree is refused (see its root)"
                )


def _frees_port(sock: Socket) -> bool:
    """A listening socket, or one bound with no peer: what holds the port itself."""
    return is_listening(sock) or sock.remote is None


def _reason(blockers: list[Target]) -> str:
    if not blockers:
        return "its owner is hidden from you"
    return blockers[0].detail


_FOREIGN_HINT = (
    "run portcheck in the pid namespace that this /proc shows (nsenter -t 1 -p -m),"
    " or mount its own /proc (unshare --mount-proc)"
)


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
