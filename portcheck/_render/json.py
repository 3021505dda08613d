"""Every `--json` document, and records as plain JSON-ready dicts (the shape golden files hold).

The documents are described in docs/json.md. `SCHEMA` is their version, bumped
on any incompatible change; added fields are not one. The lookup document has
no "kind" (it predates the others); the explain, wait and raw documents say
which they are in "kind".
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

import attrs

from .._records import Socket

if TYPE_CHECKING:
    from .._describe import PortReport
    from .._fleet import HostResult

SCHEMA = 1


def _plain(_instance: object, _field: object, value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    return list(value) if isinstance(value, tuple) else value


def socket_to_dict(sock: Socket) -> dict[str, Any]:
    """A socket as a dict of str, int, bool and None (enums by their value)."""
    return attrs.asdict(sock, value_serializer=_plain)


def lookup_document(results: dict[int, list[Socket]]) -> dict[str, Any]:
    """`portcheck PORT ... --json`."""
    return {
        "schema": SCHEMA,
        "ports": [
            {
                "port": port,
                "in_use": bool(sockets),
                "sockets": [socket_to_dict(s) for s in sockets],
            }
            for port, sockets in results.items()
        ],
    }


def hosts_document(results: dict[str, HostResult]) -> dict[str, Any]:
    """`portcheck PORT ... --host H ... --json`: each host's ports, or its error."""
    return {"schema": SCHEMA, "kind": "hosts", "hosts": [_host(h, r) for h, r in results.items()]}


def _host(host: str, result: HostResult) -> dict[str, Any]:
    if isinstance(result, Exception):
        error = {"type": type(result).__name__, "message": str(result)}
        return {"host": host, "ok": False, "error": error}
    return {"host": host, "ok": True, "ports": lookup_document(result)["ports"]}


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
        "worth_a_look": report.worth_a_look,
        "reasons": list(report.reasons),
        "sockets": [
            {"role": item.role.value, **socket_to_dict(item.socket)} for item in report.sockets
        ],
    }


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


def raw_document(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """`portcheck PORT ... --raw --json`, from `_render.raw.to_dict` entries."""
    return {"schema": SCHEMA, "kind": "raw", "ports": entries}
