"""Whom `stop_owners` may stop: the safety rules, decided before any signal.

The plan groups the port's sockets by owner and judges each owner (and, with
`tree`, each descendant): the machine's init, Windows' system processes, this
process and its ancestors, hidden owners and, unless `managed`, processes a
service manager or container runtime runs are refused, each with the reason
and the command to use instead. Nothing here sends a signal: the engine
(`engine.py`) carries the plan out.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from .._records import Container, NoOwner, Platform, Socket
from .._words import hidden_owner
from .results import Outcome, OwnerOutcome, Refusal

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
    allow: frozenset[int] | None = None
    """When set, only these pids may be signalled (the ones the person confirmed)."""


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
class Planner:
    """Judges every owner of the port (see the module's docstring); `plan` is the entry."""

    port: int
    options: Options
    platform: Platform
    stopper: Stopper
    privileged: bool = False  # the lookup's: says whether root would see hidden owners
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
        ancestors = self.stopper.ancestors()
        for target in targets.values():
            self.judge(target, ancestors)
        result = list(targets.values())
        if self.options.tree:
            result += self.children([t for t in result if t.outcome is None], ancestors)
        if hidden:
            detail = f"held by {hidden_owner(self.privileged)}: nothing can be signalled"
            self.unowned.append(_unowned(hidden, Refusal.HIDDEN, detail))
        if not_shown:
            self.unowned.append(_unowned(not_shown, Refusal.NOT_SHOWN, _NOT_SHOWN))
        return result

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

    def children(self, owners: list[Target], ancestors: set[int]) -> list[Target]:
        from .._backends.procfs import process_info, user_name

        found = self.stopper.descendants(t.pid for t in owners if t.pid is not None)
        known = {t.pid for t in owners}
        added = []
        for child, parent in found.items():
            if child in known:
                continue
            info = process_info(child) if self.platform is Platform.LINUX else None
            target = Target(
                pid=child,
                process=info[0] if info else None,
                user=user_name(info[1]) if info else None,
                sockets=[],
                child_of=parent,
            )
            self.judge(target, ancestors)
            added.append(target)
        return added


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
