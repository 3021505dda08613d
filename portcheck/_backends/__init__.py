"""Backends: how to look on each OS. One module per OS family, plus shared POSIX helpers.

A backend is a function `(port, ctx) -> list[Socket]` that runs its tools
through `ctx.runner` and reads /proc only when `ctx.local_proc` says it
describes the system looked at. It raises `ToolUnusableError` when it cannot
look here (the lookup then tries the next one) and a `PortcheckError` when it
looked and failed. It may return sockets of other ports: the lookup keeps the
port's own, in one place. `port` None asks for every socket (the listing:
`portcheck.sockets()`, `portcheck.listening()`).

`BACKENDS` is the one place that orders the backends of each platform. Each
entry imports its module on first use; mypy checks every entry's signature
against `Lookup` (see the TYPE_CHECKING block).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple, Protocol

from .._errors import UnsupportedError
from .._records import Platform, Socket

if TYPE_CHECKING:
    from .context import Context


class Lookup(Protocol):
    """A backend's lookup: the sockets on `port` (every socket: None) as its tools show them."""

    def __call__(self, port: int | None, ctx: Context, /) -> list[Socket]: ...


class Backend(NamedTuple):
    """A named backend: function `function` of module `_backends.<module>`, loaded on use.

    A NamedTuple, not an attrs class: it is made at every start of the command,
    where each attrs class costs about ten times more (bench/startup.py).
    """

    name: str
    module: str
    function: str

    def __call__(self, port: int | None, ctx: Context, /) -> list[Socket]:
        lookup: Lookup = getattr(
            importlib.import_module(f"{__name__}.{self.module}"), self.function
        )
        return lookup(port, ctx)


# Linux: procfs first, because it answers from the same kernel tables as the
# tools without starting a process and was the fastest in bench/ (see README);
# the tools follow for systems where /proc is restricted.
BACKENDS: dict[Platform, tuple[Backend, ...]] = {
    Platform.LINUX: (
        Backend("procfs", "linux", "lookup_procfs"),
        Backend("ss", "linux", "lookup_ss"),
        Backend("lsof", "linux", "lookup_lsof"),
        Backend("netstat", "linux", "lookup_netstat"),
    ),
    Platform.DARWIN: (
        Backend("lsof", "darwin", "lookup_lsof"),
        Backend("netstat", "darwin", "lookup_netstat"),
    ),
    Platform.FREEBSD: (
        Backend("sockstat", "bsd", "lookup_sockstat"),
        Backend("lsof", "bsd", "lookup_lsof"),
        Backend("netstat", "bsd", "lookup_netstat"),
    ),
    Platform.NETBSD: (
        Backend("sockstat", "bsd", "lookup_sockstat"),
        Backend("netstat", "bsd", "lookup_netstat"),
    ),
    Platform.OPENBSD: (
        Backend("fstat", "bsd", "lookup_fstat"),
        Backend("netstat", "bsd", "lookup_netstat"),
    ),
    Platform.WINDOWS: (Backend("netstat", "windows", "lookup"),),
}

# Over ssh there is no local /proc describing the host: Linux starts with ss,
# which reads every process there (root) and so names complete owners. The
# one place that orders remote backends; the other platforms' are the same.
REMOTE_BACKENDS: dict[Platform, tuple[Backend, ...]] = {
    **BACKENDS,
    Platform.LINUX: tuple(b for b in BACKENDS[Platform.LINUX] if b.name != "procfs"),
}

if TYPE_CHECKING:  # mypy checks that every function named above is a `Lookup`.
    from . import bsd, darwin, linux, windows

    _CHECKED: tuple[Lookup, ...] = (
        linux.lookup_procfs,
        linux.lookup_ss,
        linux.lookup_lsof,
        linux.lookup_netstat,
        darwin.lookup_lsof,
        darwin.lookup_netstat,
        bsd.lookup_sockstat,
        bsd.lookup_lsof,
        bsd.lookup_netstat,
        bsd.lookup_fstat,
        windows.lookup,
    )


# Which owner fields each system's lookups fill (None: over ssh the same as
# locally). docs/platforms.md's matrix "Which fields each system fills" says
# the same in words, and tests/test_docs.py checks that the two agree. A
# field is filled when some backend of the system sets it where the system
# can tell (`units` on macOS: as root only; `command` on Windows: where
# PowerShell runs); "pid" stands for pid and process, "user" for user and uid.
OWNER_FIELDS = (
    "pid", "user", "command", "units", "container", "forwards_to", "started", "parent"
)  # fmt: skip
FILLS: dict[tuple[Platform, bool], frozenset[str]] = {
    (Platform.LINUX, False): frozenset(OWNER_FIELDS),
    # The owner script reads the host's /proc (`_parsers.proc_frames`).
    (Platform.LINUX, True): frozenset(OWNER_FIELDS),
    (Platform.DARWIN, False): frozenset({"pid", "user", "command", "units", "started", "parent"}),
    (Platform.FREEBSD, False): frozenset({"pid", "user", "command", "container"}),
    (Platform.NETBSD, False): frozenset({"pid", "user", "command"}),
    (Platform.OPENBSD, False): frozenset({"pid", "user"}),
    (Platform.WINDOWS, False): frozenset({"pid", "command", "units", "started", "parent"}),
}


def fills(platform: Platform, *, remote: bool = False) -> frozenset[str]:
    """The owner fields (`OWNER_FIELDS`) lookups on `platform` fill (over ssh when `remote`)."""
    return FILLS.get((platform, remote), FILLS[(platform, False)])


def backends(
    platform: Platform, tool: str | None = None, *, remote: bool = False
) -> tuple[Backend, ...]:
    """The backends to try on `platform` (over ssh when `remote`), in order; only `tool`'s."""
    known = (REMOTE_BACKENDS if remote else BACKENDS)[platform]
    if tool is None:
        return known
    chosen = tuple(b for b in known if b.name == tool)
    if not chosen:
        names = ", ".join(b.name for b in known)
        where = f"{platform.value} over ssh" if remote else platform.value
        raise UnsupportedError(f"no backend {tool!r} on {where}; expected one of {names}")
    return chosen
