"""`portcheck PORT --raw`: what the lookup saw, verbatim, for a bug report or a new fixture.

A `RecordingRunner` wraps the real runner and keeps every tool found and every
command run with its exact output bytes; the backends are not changed. On
Linux the `/proc/net` table lines for the port are added, since the procfs
backend (the default there) runs no tool at all.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._errors import NoToolError, PortcheckError

if TYPE_CHECKING:
    from ._records import Socket
    from ._run import Completed, Runner

# Flags that print each tool's version (best effort: BSD netstat has none and
# simply fails, which is reported as "unknown").
_VERSION_FLAGS = {"ss": ("-V",), "lsof": ("-v",), "netstat": ("--version",)}
_PROC_TABLES = ("tcp", "tcp6", "udp", "udp6")


@attrs.frozen(kw_only=True)
class Call:
    """One command run through the recorder: argv, exit status (None if it never
    finished), output bytes, wall time and the error it raised, if any."""

    argv: tuple[str, ...]
    returncode: int | None
    stdout: bytes
    stderr: bytes
    seconds: float
    error: str | None = None


@attrs.define
class RecordingRunner:
    """A `Runner` that passes every call to `inner` and records it."""

    inner: Runner
    found: dict[str, str | None] = attrs.field(factory=dict)
    calls: list[Call] = attrs.field(factory=list)

    def which(self, name: str) -> str | None:
        path = self.inner.which(name)
        self.found[name] = path
        return path

    def run(self, argv: Sequence[str], *, timeout: float) -> Completed:
        start = time.monotonic()
        try:
            done = self.inner.run(argv, timeout=timeout)
        except (OSError, PortcheckError) as exc:
            seconds = time.monotonic() - start
            self.calls.append(
                Call(
                    argv=tuple(argv),
                    returncode=None,
                    stdout=b"",
                    stderr=b"",
                    seconds=seconds,
                    error=str(exc),
                )
            )
            raise
        seconds = time.monotonic() - start
        self.calls.append(
            Call(
                argv=done.argv,
                returncode=done.returncode,
                stdout=done.stdout,
                stderr=done.stderr,
                seconds=seconds,
            )
        )
        return done


@attrs.frozen(kw_only=True)
class Attempt:
    """One backend tried: `status` is "answered", "unusable" or "error"."""

    backend: str
    status: str
    detail: str | None
    found: dict[str, str | None]
    calls: tuple[Call, ...]
    versions: dict[str, str]


@attrs.frozen(kw_only=True)
class Capture:
    """Everything `--raw` prints for one port."""

    port: int
    platform: str
    system: str
    python: str
    privileges: str
    attempts: tuple[Attempt, ...]
    proc_net: dict[str, list[str]]
    sockets: list[Socket] | None
    error: PortcheckError | None


def capture(
    port: int,
    *,
    tool: str | None = None,
    timeout: float = 10.0,
    platform: str | None = None,
    runner: Runner | None = None,
    proc: str = "/proc",
) -> Capture:
    """Look up `port` backend by backend, as `who_owns` would, recording everything."""
    import platform as pyplatform
    import sys

    from . import _platforms
    from ._lookup import lookup

    if runner is None:
        from ._run import SystemRunner

        runner = SystemRunner()
    platform = _platforms.check_platform(platform or _platforms.current_platform())
    names = [tool] if tool is not None else _platforms.backend_names(platform)
    attempts: list[Attempt] = []
    sockets: list[Socket] | None = None
    error: PortcheckError | None = None
    for name in names:
        recorder = RecordingRunner(runner)
        try:
            sockets = lookup(port, tool=name, timeout=timeout, platform=platform, runner=recorder)
            status, detail = "answered", None
        except NoToolError as exc:
            status, detail, error = "unusable", exc.tried.get(name, str(exc)), exc
        except PortcheckError as exc:
            status, detail, error = "error", str(exc), exc
        versions = tool_versions(runner, recorder.calls, timeout)
        attempts.append(
            Attempt(
                backend=name,
                status=status,
                detail=detail,
                found=dict(recorder.found),
                calls=tuple(recorder.calls),
                versions=versions,
            )
        )
        if status != "unusable":
            break
    if sockets is not None:
        error = None
    if error is not None and all(a.status == "unusable" for a in attempts):
        error = NoToolError(platform, {a.backend: a.detail or "" for a in attempts})
    return Capture(
        port=port,
        platform=platform,
        system=pyplatform.platform(),
        python=sys.version.split()[0],
        privileges=_privileges(),
        attempts=tuple(attempts),
        proc_net=read_proc_net(port, proc) if platform == "linux" else {},
        sockets=sockets,
        error=error,
    )


def tool_versions(runner: Runner, calls: Sequence[Call], timeout: float) -> dict[str, str]:
    """path -> version line of each distinct tool run, "unknown" when it will not say."""
    versions: dict[str, str] = {}
    for call in calls:
        path = call.argv[0]
        if path not in versions:
            versions[path] = tool_version(runner, path, timeout)
    return versions


def tool_version(runner: Runner, path: str, timeout: float) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
    flags = _VERSION_FLAGS.get(name)
    if flags is None:
        return "unknown"
    try:
        done = runner.run([path, *flags], timeout=timeout)
    except (OSError, PortcheckError):
        return "unknown"
    return version_line((done.stdout + b"\n" + done.stderr).decode("utf-8", "replace"))


def version_line(text: str) -> str:
    """The first line of a version message that holds a digit (`ss utility, iproute2-6.1.0`)."""
    for line in text.splitlines():
        if any(c.isdigit() for c in line):
            return line.strip()
    return "unknown"


def proc_net_lines(text: str, port: int) -> list[str]:
    """The header and the rows of one /proc/net table whose LOCAL port is `port`."""
    lines = text.splitlines()
    needle = f":{port:04X}"
    rows = [ln for ln in lines[1:] if len(ln.split()) > 1 and ln.split()[1].endswith(needle)]
    return lines[:1] + rows if rows else []


def read_proc_net(port: int, proc: str = "/proc") -> dict[str, list[str]]:
    """table name -> its lines for `port`, for every table that has any."""
    tables: dict[str, list[str]] = {}
    for name in _PROC_TABLES:
        try:
            with open(f"{proc}/net/{name}", encoding="ascii", errors="replace") as f:
                lines = proc_net_lines(f.read(), port)
        except OSError:
            continue
        if lines:
            tables[name] = lines
    return tables


def _privileges() -> str:
    import os

    geteuid = getattr(os, "geteuid", None)
    if geteuid is None:
        return "unknown (not POSIX)"
    euid = geteuid()
    return f"root (euid {euid})" if euid == 0 else f"not root (euid {euid})"


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
            out.extend(_text(call.stdout).splitlines())
            out.append(f"--- stderr ({len(call.stderr)} bytes) ---")
            out.extend(_text(call.stderr).splitlines())
    for table, lines in cap.proc_net.items():
        out.append(f"--- /proc/net/{table}, lines for port {cap.port} ---")
        out.extend(lines)
    if cap.platform == "linux" and not cap.proc_net:
        out.append(f"--- /proc/net: no line for port {cap.port} ---")
    if cap.sockets is not None:
        out.append(f"result: {len(cap.sockets)} socket(s)")
    return "\n".join(out)


def to_dict(cap: Capture, version: str) -> dict[str, Any]:
    """The capture as the JSON-ready `raw` document entry."""
    from ._json import socket_to_dict

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
