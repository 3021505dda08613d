"""`portcheck PORT --raw`: what the lookup saw, verbatim, for a bug report or a new fixture.

A `RecordingRunner` wraps the real runner and keeps every tool found and every
command run with its exact output bytes; the backends are not changed. On
Linux the `/proc/net` table lines for the port are added, since the procfs
backend (the default there) runs no tool at all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from ._backends.context import Context, ToolUnusableError
from ._errors import PortcheckError
from ._parsers.proc_net import TABLES, is_row_of_port
from ._records import Platform

if TYPE_CHECKING:
    from ._backends import Backend
    from ._records import Socket
    from ._run import Completed, Runner

# Flags that print each tool's version (best effort: BSD netstat has none and
# simply fails, which is reported as "unknown").
_VERSION_FLAGS = {"ss": ("-V",), "lsof": ("-v",), "netstat": ("--version",)}


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
    platform: str | Platform | None = None,
    runner: Runner | None = None,
    proc: str = "/proc",
) -> Capture:
    """Look up `port` backend by backend, as `who_owns` would, recording everything."""
    import platform as pyplatform
    import sys

    from ._backends.context import is_root
    from ._context import context_for
    from ._lookup import lookup

    base = context_for(platform=platform, runner=runner, timeout=timeout)
    where = base.platform
    attempts: list[Attempt] = []
    recorders: list[RecordingRunner] = []

    def wrap(ctx: Context) -> Context:
        recorders.append(RecordingRunner(ctx.runner))
        return attrs.evolve(ctx, runner=recorders[-1])

    def observe(backend: Backend, ctx: Context, error: PortcheckError | None) -> None:
        recorder = recorders[-1]
        if error is None:
            status, detail = "answered", None
        elif isinstance(error, ToolUnusableError):
            status, detail = "unusable", str(error)
        else:
            status, detail = "error", str(error)
        attempts.append(
            Attempt(
                backend=backend.name,
                status=status,
                detail=detail,
                found=dict(recorder.found),
                calls=tuple(recorder.calls),
                versions=tool_versions(base.runner, recorder.calls, timeout),
            )
        )

    sockets: list[Socket] | None = None
    error: PortcheckError | None = None
    try:
        sockets = lookup(port, tool=tool, context=base, wrap=wrap, observe=observe)
    except PortcheckError as exc:
        error = exc
    privileges = "unknown (not POSIX)" if not hasattr(os, "geteuid") else (
        f"{'root' if is_root() else 'not root'} (euid {os.geteuid()})"
    )  # fmt: skip
    return Capture(
        port=port,
        platform=where.value,
        system=pyplatform.platform(),
        python=sys.version.split()[0],
        privileges=privileges,
        attempts=tuple(attempts),
        proc_net=read_proc_net(port, proc) if where is Platform.LINUX else {},
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
    rows = [ln for ln in lines[1:] if is_row_of_port(ln, port)]
    return lines[:1] + rows if rows else []


def read_proc_net(port: int, proc: str = "/proc") -> dict[str, list[str]]:
    """table name -> its lines for `port`, for every table that has any."""
    from ._backends.procfs import read_table

    tables: dict[str, list[str]] = {}
    for name in TABLES:
        try:
            text = read_table(name, proc)
        except ToolUnusableError:
            continue
        lines = proc_net_lines(text or "", port)
        if lines:
            tables[name] = lines
    return tables
