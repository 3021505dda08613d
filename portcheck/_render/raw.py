"""`portcheck PORT --raw`: a capture as text, and as the JSON `raw` document entry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._parsers.text import lines
from .json import socket_to_dict
from .words import safe

if TYPE_CHECKING:
    from .._raw import Capture


def _text(data: bytes) -> str:
    # backslashreplace keeps every byte recoverable (a Windows console page,
    # a mangled process name) in text that can be pasted into an issue.
    return data.decode("utf-8", errors="backslashreplace")


def render(cap: Capture, version: str) -> str:
    """The capture as the text `--raw` prints."""
    import shlex

    out = [
        f"# portcheck --raw capture for port {cap.port}",
        f"portcheck: {version}",
        f"platform: {cap.platform} ({cap.system})",
        f"python: {cap.python}",
        f"privileges: {cap.privileges}",
    ]
    for attempt in cap.attempts:
        out.append(
            f"backend {attempt.backend}: {attempt.status}"
            + (f" ({attempt.detail})" if attempt.detail else "")
        )
        for name, path in attempt.found.items():
            out.append(f"tool {name}: {path or 'not found'}")
        for path, line in attempt.versions.items():
            out.append(f"version of {path}: {line}")
        for call in attempt.calls:
            out.append(f"$ {shlex.join(call.argv)}")
            status = call.error if call.error else f"exit status {call.returncode}"
            out.append(f"{status} ({call.seconds:.3f} s)")
            out.append(f"--- stdout ({len(call.stdout)} bytes) ---")
            out.extend(lines(_text(call.stdout)))
            out.append(f"--- stderr ({len(call.stderr)} bytes) ---")
            out.extend(lines(_text(call.stderr)))
    for table, rows in cap.proc_net.items():
        out.append(f"--- /proc/net/{table}, lines for port {cap.port} ---")
        out.extend(rows)
    if cap.platform == "linux" and not cap.proc_net:
        out.append(f"--- /proc/net: no line for port {cap.port} ---")
    if cap.sockets is not None:
        out.append(f"result: {len(cap.sockets)} socket(s)")
    # Tool output is attacker-controlled (process names): shown, never obeyed.
    return "\n".join(safe(line) for line in out)


def to_dict(cap: Capture, version: str) -> dict[str, Any]:
    """The capture as the JSON-ready `raw` document entry."""

    return {
        "port": cap.port,
        "portcheck": version,
        "platform": cap.platform,
        "system": cap.system,
        "python": cap.python,
        "privileges": cap.privileges,
        "backends": [
            {
                "backend": a.backend,
                "status": a.status,
                "detail": a.detail,
                "tools": a.found,
                "versions": a.versions,
                "calls": [
                    {
                        "argv": list(c.argv),
                        "returncode": c.returncode,
                        "error": c.error,
                        "seconds": round(c.seconds, 6),
                        "stdout": _text(c.stdout),
                        "stderr": _text(c.stderr),
                    }
                    for c in a.calls
                ],
            }
            for a in cap.attempts
        ],
        "proc_net": cap.proc_net,
        "sockets": None if cap.sockets is None else [socket_to_dict(s) for s in cap.sockets],
        "error": None if cap.error is None else str(cap.error),
    }
