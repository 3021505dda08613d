"""Who a process is, beyond its name: its command line, systemd unit and container (Linux).

Read from the process's own files only (`/proc/PID/cmdline` and
`/proc/PID/cgroup`, parsed by `_parsers.cmdline` and `_parsers.cgroup`), so
that naming the owners of a port costs two small reads per owner. A unit is
named only from the pid's own cgroup, never from a unit's MainPID: a forked
worker holding the socket is named by the cgroup it really is in.

A process in the same container as portcheck itself gets container None: it
is "here", and repeating the container on every row says nothing.
"""

from __future__ import annotations

import attrs

from .._parsers import cgroup as _cgroup
from .._parsers.cmdline import split_cmdline
from .._records import Container

PROC = "/proc"


@attrs.frozen(kw_only=True)
class Identity:
    """A process's argv (None when unreadable or empty), units, and container."""

    command: tuple[str, ...] | None = None
    units: tuple[str, ...] = ()
    container: Container | None = None


NOBODY = Identity()


class Reader:
    """Reads identities under `proc`, each pid once: make one per lookup.

    A pid's files are read on first ask and kept for the reader's life, so a
    process holding a thousand sockets costs two reads, not two thousand.
    """

    def __init__(self, proc: str = PROC) -> None:
        self.proc = proc
        self._known: dict[int, Identity] = {}
        self._here: list[Container | None] = []

    def identity(self, pid: int) -> Identity:
        """The identity of `pid`; empty fields for what cannot be read (gone, not allowed)."""
        known = self._known.get(pid)
        if known is None:
            known = self._known[pid] = self._read(pid)
        return known

    def _read(self, pid: int) -> Identity:
        command = split_cmdline(_read_bytes(f"{self.proc}/{pid}/cmdline") or b"")
        text = _read_bytes(f"{self.proc}/{pid}/cgroup")
        found = _cgroup.parse(text.decode("utf-8", "replace")) if text else _cgroup.CgroupIdentity()
        container = found.container
        if container is not None and container == self.here():
            container = None
        return Identity(command=command, units=found.units, container=container)

    def here(self) -> Container | None:
        """The container portcheck itself runs in (from /proc/self/cgroup), or None."""
        if not self._here:
            text = _read_bytes(f"{self.proc}/self/cgroup")
            self._here.append(
                _cgroup.parse(text.decode("utf-8", "replace")).container if text else None
            )
        return self._here[0]


def identity(pid: int, proc: str = PROC) -> Identity:
    """The identity of one process (a fresh read; use a `Reader` for many)."""
    return Reader(proc).identity(pid)


def _read_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:  # gone, another user's hidepid=2 /proc, not allowed
        return None
