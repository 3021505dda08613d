"""`portcheck kill`: the plan shown before asking, and the report of what was done.

Every field that comes from the system (names, users, the details that quote
unit names, container ids, pods and cgroup paths, the hints, the notes) goes
through `safe()`: a cgroup any user can name must not reach the terminal raw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .words import ERROR, named, owners, safe

if TYPE_CHECKING:
    from .._kill.results import OwnerOutcome, StopResult

# One lower-case verb a line, the reason after a colon (issue 21).
_VERB = {
    "signalled": "stopped",
    "killed": "killed",
    "still_alive": "still running",
    "already_gone": "gone",
    "refused": "refused",
    "permission_denied": "denied",
    "dry_run": "would stop",
}


def who(owner: OwnerOutcome) -> str:
    """`python3 (pid 4242, user alice)`, control characters escaped."""
    if owner.pid is None:
        return f"{len(owner.sockets)} socket(s) whose owner is hidden from you"
    child = [f"child of {owner.child_of}"] if owner.child_of is not None else []
    return named(owner.process, owner.pid, owner.user, *child)


def plan(result: StopResult) -> list[str]:
    """Who a run will stop and who it will not, for the confirmation question."""
    go = [o for o in result.owners if o.outcome.value == "dry_run"]
    stay = [o for o in result.owners if o.outcome.value != "dry_run"]
    lines = [f"portcheck kill {result.port} will stop:"]
    for o in go:
        warn = f"  WARNING: {safe(o.detail)}" if "container stops" in o.detail else ""
        lines.append(f"  {who(o)}{warn}")
    if not go:
        lines[0] = f"portcheck kill {result.port} will stop nothing"
    if stay:
        lines.append("and will not stop:" if go else "it will not stop:")
        lines += [f"  {who(o)}: {safe(o.detail)}" + _hint(o) for o in stay]
    lines += [f"note: {safe(n)}" for n in result.notes]
    return lines


def report(result: StopResult) -> list[str]:
    """One line per owner (with the command to use instead, if any), notes, the verdict."""
    width = max((len(_verb(o)) for o in result.owners), default=0)
    lines = [f"{_verb(o).ljust(width)}  {who(o)}: {reason(o)}" + _hint(o) for o in result.owners]
    lines += [f"note: {safe(n)}" for n in result.notes]
    lines.append(verdict(result))
    return lines


def _verb(owner: OwnerOutcome) -> str:
    # Left running on purpose (connections only) is not a refusal to worry about.
    if owner.refusal is not None and owner.refusal.value == "connections_only":
        return "left"
    return _VERB[owner.outcome.value]


def reason(owner: OwnerOutcome) -> str:
    """The owner's detail, escaped, without the words its verb already says."""
    detail = owner.detail
    verb = _verb(owner)
    if detail.startswith(verb + " "):
        detail = detail[len(verb) + 1 :]
    return safe(detail)


def _hint(owner: OwnerOutcome) -> str:
    if owner.hint is None:
        return ""
    if owner.outcome.value == "refused":
        more = " (or pass --managed)" if owner.refusal and owner.refusal.value == "managed" else ""
        return f"; instead: {safe(owner.hint)}{more}"
    return f"; the right tool: {safe(owner.hint)}"


def verdict(result: StopResult) -> str:
    """The last line: free, or still in use and by whom."""
    if result.free:
        return f"port {result.port} is free"
    if result.dry_run:
        return f"port {result.port} is still in use (dry run: nothing was stopped)"
    if result.respawned:
        return f"port {result.port} was taken again by: " + "; ".join(
            safe(w) for w in owners(result.respawned, ERROR)
        )
    held = "; ".join(safe(w) for w in owners(result.remaining or result.time_wait, ERROR))
    return f"port {result.port} is still in use: {held}"
