"""Every `--json` document, and records as plain JSON-ready dicts (the shape golden files hold).

The documents are described in docs/json.md. `SCHEMA` is their version, bumped
on any incompatible change; added fields are not one. The lookup document has
no "kind" (it predates the others); the explain, wait, list, raw and find
documents
say which they are in "kind".
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from .._records import NoOwner, Socket, in_use
from .._words import hidden_owner
from . import errors

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .._kill.results import StopResult
    from .._listing.watch import ListenerEvent
    from .._ports.describe import PortReport
    from .._ports.find import Search
    from .._ports.reserved import ReservedRange
    from .._remote.fleet import HostResult

SCHEMA = 1


def _plain(_instance: object, _field: object, value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.datetime):
        return value.isoformat()  # ISO 8601 with its offset: `started`
    return list(value) if isinstance(value, tuple) else value


def socket_to_dict(sock: Socket) -> dict[str, Any]:
    """A socket as a dict of str, int, bool and None (enums by their value, times in ISO 8601)."""
    return attrs.asdict(sock, value_serializer=_plain)


def lookup_document(
    results: dict[int, list[Socket]], *, strict: bool = False, privileged: bool | None = None
) -> dict[str, Any]:
    """`portcheck PORT ... --json`: `in_use` follows the TIME_WAIT rule (docs/time-wait.md).

    With `privileged` (whether the lookup ran as root), each port's `note`
    gives the hidden-owner phrase, or None.
    """
    ports = []
    for port, sockets in results.items():
        entry: dict[str, Any] = {"port": port, "in_use": in_use(sockets, strict=strict)}
        if privileged is not None:
            entry["note"] = _hidden_note(sockets, privileged)
        entry["sockets"] = [socket_to_dict(s) for s in sockets]
        ports.append(entry)
    return {"schema": SCHEMA, "ports": ports}


def hosts_document(results: dict[str, HostResult], *, strict: bool = False) -> dict[str, Any]:
    """`portcheck PORT ... --host H ... --json`: each host's ports, or its error."""
    hosts = [_host(h, r, strict=strict) for h, r in results.items()]
    return {"schema": SCHEMA, "kind": "hosts", "hosts": hosts}


def _host(host: str, result: HostResult, *, strict: bool) -> dict[str, Any]:
    if isinstance(result, Exception):
        return {"host": host, "ok": False, "error": errors.to_dict(result)}
    return {"host": host, "ok": True, "ports": lookup_document(result, strict=strict)["ports"]}


def list_hosts_document(
    results: dict[str, list[Socket] | Exception], *, scope: str
) -> dict[str, Any]:
    """`portcheck list --host H ... --json`: each host's sockets, or its error."""
    hosts: list[dict[str, Any]] = []
    for host, result in results.items():
        if isinstance(result, Exception):
            hosts.append({"host": host, "ok": False, "error": errors.to_dict(result)})
        else:
            sockets = [socket_to_dict(s) for s in result]
            hosts.append({"host": host, "ok": True, "sockets": sockets})
    return {"schema": SCHEMA, "kind": "list", "scope": scope, "hosts": hosts}


def explain_document(reports: list[PortReport]) -> dict[str, Any]:
    """`portcheck PORT ... --explain --json`."""
    return {"schema": SCHEMA, "kind": "explain", "ports": [_report(r) for r in reports]}


def _report(report: PortReport) -> dict[str, Any]:
    eph = report.ephemeral_range
    return {
        "port": report.port,
        "in_use": report.in_use,
        "iana_range": report.iana_range.value,
        "ephemeral": report.ephemeral,
        "ephemeral_range": {
            "first": eph.first,
            "last": eph.last,
            "source": eph.source,
            "default": eph.default,
        },
        "services": {"tcp": report.tcp_service, "udp": report.udp_service},
        "reserved": None if report.reserved is None else reserved_to_dict(report.reserved),
        "privileged": report.privileged,
        "worth_a_look": report.worth_a_look,
        "reasons": list(report.reasons),
        "note": _hidden_note((i.socket for i in report.sockets), report.lookup_privileged),
        "sockets": [
            {"role": item.role.value, "evidence": item.evidence, **socket_to_dict(item.socket)}
            for item in report.sockets
        ],
    }


def _hidden_note(sockets: Iterable[Socket], privileged: bool) -> str | None:
    """The hidden-owner phrase when some socket's owner is hidden, else None."""
    if not any(s.no_owner is NoOwner.HIDDEN for s in sockets):
        return None
    return "some sockets are in use by " + hidden_owner(privileged)


def reserved_to_dict(reserved: ReservedRange) -> dict[str, Any]:
    """A reserved range as a dict (protocol and family None when it applies to all)."""
    return attrs.asdict(reserved, value_serializer=_plain)


def wait_document(
    *,
    port: int,
    condition: str,
    ok: bool,
    timeout: float,
    elapsed: float,
    polls: int,
    sockets: list[Socket],
) -> dict[str, Any]:
    """`portcheck wait ... --json`."""
    return {
        "schema": SCHEMA,
        "kind": "wait",
        "port": port,
        "condition": condition,
        "ok": ok,
        "timeout": timeout,
        "elapsed": round(elapsed, 3),
        "polls": polls,
        "sockets": [socket_to_dict(s) for s in sockets],
    }


def list_document(sockets: list[Socket], *, scope: str) -> dict[str, Any]:
    """`portcheck list --json`: `scope` is "listening", "exposed" or "all"."""
    return {
        "schema": SCHEMA,
        "kind": "list",
        "scope": scope,
        "sockets": [socket_to_dict(s) for s in sockets],
    }


def raw_document(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """`portcheck PORT ... --raw --json`, from `_render.raw.to_dict` entries."""
    return {"schema": SCHEMA, "kind": "raw", "ports": entries}


def find_document(found: Search) -> dict[str, Any]:
    """`portcheck find RANGE ... --json`: the ports found, and why the others were skipped."""
    return {
        "schema": SCHEMA,
        "kind": "find",
        "range": {"first": found.first, "last": found.last},
        "protocol": found.protocol,
        "wanted": found.wanted,
        "ok": found.enough,
        "ports": list(found.ports),
        "skipped": dict(found.skipped),
    }


def kill_document(result: StopResult) -> dict[str, Any]:
    """`portcheck kill PORT --json`: each owner, what was done, and whether the port is free."""
    return {
        "schema": SCHEMA,
        "kind": "kill",
        "port": result.port,
        "free": result.free,
        "dry_run": result.dry_run,
        "owners": [
            {
                "pid": o.pid,
                "process": o.process,
                "user": o.user,
                "outcome": o.outcome.value,
                "refusal": None if o.refusal is None else o.refusal.value,
                "detail": o.detail,
                "hint": o.hint,
                "child_of": o.child_of,
                "signals": list(o.signals),
                "start": o.start,
                "sockets": [socket_to_dict(s) for s in o.sockets],
            }
            for o in result.owners
        ],
        "remaining": [socket_to_dict(s) for s in result.remaining],
        "respawned": [socket_to_dict(s) for s in result.respawned],
        "time_wait": [socket_to_dict(s) for s in result.time_wait],
        "notes": list(result.notes),
    }


def wait_open_document(
    *,
    targets: list[str],
    timeout: float,
    opened: Mapping[str, float],
    down: Mapping[str, str],
) -> dict[str, Any]:
    """`portcheck wait TARGET... --open --json`: each target, open or its last error."""
    return {
        "schema": SCHEMA,
        "kind": "wait",
        "condition": "open",
        "ok": not down,
        "timeout": timeout,
        "targets": [
            {
                "target": t,
                "open": t in opened,
                "elapsed": round(opened[t], 3) if t in opened else None,
                "last_error": down.get(t),
            }
            for t in targets
        ],
    }


def event_document(event: ListenerEvent, when: str) -> dict[str, Any]:
    """One line of `portcheck watch --json` (NDJSON): kind "event"; `when` in ISO 8601."""
    return {
        "schema": SCHEMA,
        "kind": "event",
        "time": when,
        "event": event.event.value,
        "exposed_dynamic": event.exposed_dynamic,
        "socket": socket_to_dict(event.socket),
    }
