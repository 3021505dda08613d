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

import os

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

    def identity(self, pid: int, at: int | None = None) -> Identity:
        """The identity of `pid`; empty fields for what cannot be read (gone, not allowed).

        `at`, a descriptor of the process's /proc directory, reads its files
        there: the caller's other reads of the same process (`procfs.Seen`).
        """
        known = self._known.get(pid)
        if known is None:
            known = self._known[pid] = self._read(pid, at)
        return known

    def _read(self, pid: int, at: int | None) -> Identity:
        where = f"{self.proc}/{pid}/" if at is None else ""
        cmdline, text = read_file(f"{where}cmdline", at), read_file(f"{where}cgroup", at)
        command = split_cmdline(cmdline or b"")
        found = _cgroup.parse(text.decode("utf-8", "replace")) if text else _cgroup.CgroupIdentity()
        container = found.container
        if container is not None and container == self.here():
            container = None
        return Identity(command=command, units=found.units, container=container)

    def here(self) -> Container | None:
        """The container portcheck itself runs in (from /proc/self/cgroup), or None."""
        if not self._here:
            text = read_file(f"{self.proc}/self/cgroup")
            self._here.append(
                _cgroup.parse(text.decode("utf-8", "replace")).container if text else None
            )
        return self._here[0]


def identity(pid: int, proc: str = PROC) -> Identity:
    """The identity of one process (a fresh read; use a `Reader` for many)."""
    return Reader(proc).identity(pid)


def read_file(name: str, at: int | None = None) -> bytes | None:
    """The whole of file `name` (in directory descriptor `at`, if given); None when it
    cannot be read: gone, another user's hidepid=2 /proc, not allowed.

    `os.open`/`os.read`, not `open()`: a listing reads five files of each of
    dozens of processes, and a file object costs as much again as the reads.
    """
    try:
        fd = os.open(name, os.O_RDONLY, dir_fd=at)
    except OSError:
        return None
    try:
        chunks: list[bytes] = []
        while True:
            chunk = os.read(fd, 65536)
            chunks.append(chunk)
            if len(chunk) < 65536:  # a short read is the end, in /proc as in files
                return b"".join(chunks)
    except OSError:  # exited while read
        return None
    finally:
        os.close(fd)
