"""What every backend is given and shares: the lookup context and the ways a tool can fail.

A backend gets everything it needs from its `Context`, never from globals: the
runner that starts tools, the time limit, the platform it looks at, whether
this machine's /proc describes that system, and whether the caller is
privileged there. A lookup on a remote host over ssh is the same backends
with a different context (see `portcheck._remote`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import attrs

from .._errors import PortcheckError, ToolError
from .._records import Platform, Socket
from .._run import Completed, Runner

if TYPE_CHECKING:
    import datetime

    # Only the listing's filters need it: a lookup of one port never imports it.
    from .._listing.select import Selection
    from .._parsers.proc_net import Entry


class ToolUnusableError(PortcheckError):
    """Internal: this backend cannot look here (tool missing, BusyBox build, no /proc).

    The lookup falls through to the next backend and names the reason in the
    `NoToolError` if none can look.
    """


@attrs.frozen(kw_only=True)
class Context:
    """What a backend needs to look.

    `local_proc` is True when this machine's /proc describes the system looked
    at (Linux, looked at locally): backends then read owners, names and users
    there. `privileged` is True when the caller can see every process's
    sockets there (root on POSIX). `listening` is True when only listening
    sockets are wanted (`portcheck.listening()`): a backend may then ask its
    tool for listeners only (`ss -l`, a state filter); the lookup filters
    anyway, so a backend may ignore it. `remote` names the host looked at over
    ssh, None for this machine; `code_page` is a remote Windows host's OEM
    code page (read once with `chcp`), None when unknown or not Windows.
    `selection` holds the listing's filters (`listening(port=..., ...)`).
    """

    runner: Runner
    timeout: float
    platform: Platform
    local_proc: bool
    privileged: bool
    listening: bool = False
    remote: str | None = None
    code_page: int | None = None
    selection: Selection | None = None

    def wants(self, sock: Socket | Entry) -> bool:
        """False for a socket of the kernel's table that `selection` drops by port or state.

        Backends call it before reading owners, the costly part of a listing;
        the lookup applies the whole selection afterwards anyway.
        """
        return self.selection is None or self.selection.wants_table_entry(sock)


def local_context(
    platform: Platform, runner: Runner, timeout: float, *, listening: bool = False
) -> Context:
    """The context of a lookup on this machine, for `platform`'s tools."""
    return Context(
        runner=runner,
        timeout=timeout,
        platform=platform,
        local_proc=platform is Platform.LINUX and Platform.current() is Platform.LINUX,
        privileged=is_root(),
        listening=listening,
    )


def is_root() -> bool:
    """True when this process runs as root (never on Windows, which has no euid)."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


def tool_path(ctx: Context, name: str, package: str) -> str:
    """Absolute path of `name`, or ToolUnusableError naming the package that provides it."""
    path = ctx.runner.which(name)
    if path is None:
        raise ToolUnusableError(f"{name} not found (install {package})")
    return path


def run_checked(ctx: Context, argv: Sequence[str], ok: Sequence[int] = (0,)) -> Completed:
    """Run argv; an exit status outside `ok` raises ToolError with the tool's stderr."""
    done = ctx.runner.run(argv, timeout=ctx.timeout)
    if done.returncode not in ok:
        raise ToolError(argv, done.returncode, decode(done.stderr))
    return done


def started_here(naive: datetime.datetime | None, ctx: Context) -> datetime.datetime | None:
    """A start time a tool printed in the host's local time with no zone (macOS ps's
    lstart, PowerShell's CreationDate), made aware: on this machine that zone is
    ours; over ssh it is unknown, and the time is None rather than wrong."""
    return naive.astimezone() if naive is not None and ctx.remote is None else None


def decode(data: bytes) -> str:
    """Text of a POSIX tool run with LC_ALL=C: UTF-8, undecodable bytes kept visible.

    Process names are bytes on POSIX; a replacement character is better than
    a crash or a dropped row.
    """
    return data.decode("utf-8", errors="replace")


def on_port(sockets: Iterable[Socket], port: int | None) -> list[Socket]:
    """The sockets whose LOCAL port is `port` (every socket when None), in order.

    The one port filter: the lookup applies it to every backend's answer (a
    tool may list more, or match the remote port too); backends apply it early
    only before a costly step such as asking `ps` for names. A record is one
    (socket, process): repeats are dropped only when they carry the same
    `socket_id` (one socket on two descriptors of one process); records
    without one are each their own socket (two hidden owners stay two).
    """
    kept: dict[object, Socket] = {}
    for position, sock in enumerate(sockets):
        if port is None or sock.local.port == port:
            # The socket and its holder name the record (hashing a whole record,
            # 20 fields, cost more than the rest of this loop at 4,000 listeners).
            key = position if sock.socket_id is None else (sock.socket_id, sock.pid, sock.protocol)
            kept.setdefault(key, sock)
    return list(kept.values())
