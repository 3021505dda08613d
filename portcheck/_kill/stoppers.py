"""How `stop_owners` stops a process on each OS, behind one small interface (`Stopper`).

The engine (`_free_port`) decides whom to stop; a stopper knows how this OS
names processes' parents, re-checks that a pid still holds the port right
before the signal, sends the signal and tells whether the process is gone.

Every stopper also tells each process's start time (`start_times`): with the
pid it names one process, and the engine compares it before the polite
signal and again before the forceful one, so a pid reused in between is
never signalled, pidfd or not.

- Linux (`LinuxStopper`): /proc must be this process's own (`foreign_proc`:
  `readlink /proc/self` is our pid), or its pids are another namespace's
  and nothing is signalled. A pidfd is opened first (`os.pidfd_open`), then
  `/proc/PID/fd` is read to confirm that the pid holds one of the port's
  sockets, then the signal goes through the pidfd
  (`signal.pidfd_send_signal`). A pidfd names one process, not a number: if
  that process exited and its pid was reused in between, the signal fails
  with ESRCH instead of reaching the newcomer. Without pidfds (Python 3.8, a
  kernel before 5.3, a seccomp filter) it falls back to `os.kill` right after
  the same re-check and the start time (field 22 of /proc/PID/stat).
- macOS and the BSDs (`PosixStopper`): `os.kill` right after one fresh lookup
  of the port and `ps -A -o pid= -o lstart=`. No handle can pin a process
  there; the window between that check and the signal (milliseconds) remains.
- Windows (`WindowsStopper`): `taskkill.exe /PID N` (with `/F` to force and
  `/T` for the tree) by absolute System32 path, through the runner, right
  after one fresh lookup; the same window remains. Parents, names and
  creation times come from one PowerShell query of Win32_Process
  (`_parsers/win_processes.py`): the whole ancestor chain is protected, and
  every descendant `/T` would reach is listed and judged first.

Handles are ints (the pid) plus, on Linux, the pidfd; a stopper never signals
a process group, only the pids it is given.
"""

from __future__ import annotations

import ntpath
import os
import select
import signal
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Callable, Protocol

import attrs

from .._errors import PortcheckError
from .._records import Platform, Socket

if TYPE_CHECKING:
    from .._parsers.win_processes import WinProcess
    from .._run import Runner
    from .results import Start

# The inode of the initial pid namespace (PROC_PID_INIT_INO in the kernel):
# pid 1 there is the machine's init.
INITIAL_PID_NS_INODE = 0xEFFFFFFC


@attrs.define(eq=False)
class Handle:
    """A process about to be signalled: its pid, and on Linux the pidfd naming it."""

    pid: int
    pidfd: int | None = None


class Stopper(Protocol):
    """What `stop_owners` needs from the OS to stop processes safely."""

    signal_names: tuple[str, str]
    """How the polite and the forceful stop are named in reports."""

    def foreign_proc(self) -> str | None:
        """Why the process table read here is not this process's own, or None when it is."""

    def start_times(self, pids: Iterable[int]) -> dict[int, Start] | None:
        """pid -> when it started, for those running; None when this OS cannot tell."""

    def name(self, pid: int) -> str | None:
        """The process's name, None when unknown or gone."""

    def ancestors(self) -> set[int]:
        """This process's pid and every ancestor's, as far as the OS lets us see."""

    def machine_init(self, pid: int) -> bool:
        """True when `pid` is the machine's init (never to be stopped)."""

    def namespace_init(self, pid: int) -> bool:
        """True when `pid` is pid 1 of a container's own pid namespace."""

    def descendants(self, pids: Iterable[int]) -> dict[int, int]:
        """child pid -> its parent, for every descendant of `pids` (for --tree)."""

    def grab(self, pid: int) -> Handle | None:
        """A handle on `pid`, or None when it is gone."""

    def holder_check(self, port: int, look: Callable[[], list[Socket]]) -> Callable[[int], bool]:
        """A test, valid right now, of "pid still holds a socket on `port`"."""

    def parent(self, handle: Handle) -> int | None:
        """The parent pid of the process, None when unknown or gone."""

    def signal(self, handle: Handle, *, force: bool) -> None:
        """Ask the process to stop (force: kill it). ProcessLookupError when gone,
        PermissionError when not allowed."""

    def alive(self, handle: Handle) -> bool:
        """True while the process runs (a zombie is not running)."""

    def close(self, handle: Handle) -> None:
        """Release the handle."""


# --- Linux ----------------------------------------------------------------------


class LinuxStopper:
    """Signals through pidfds, re-checking /proc/PID/fd right before each signal."""

    signal_names = ("SIGTERM", "SIGKILL")

    def __init__(
        self,
        proc: str = "/proc",
        *,
        use_pidfd: bool | None = None,
        kill: Callable[[int, int], None] = os.kill,
        getpid: Callable[[], int] = os.getpid,
    ) -> None:
        self.proc = proc
        if use_pidfd is None:
            use_pidfd = hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")
        self.use_pidfd = use_pidfd
        self.kill = kill
        self.getpid = getpid

    def foreign_proc(self) -> str | None:
        # After `unshare -p` without --mount-proc (or a host /proc bind-mounted
        # into a container), /proc describes another pid namespace: its pid N
        # is not the process kill(N) reaches here.
        try:
            seen = os.readlink(f"{self.proc}/self")
        except OSError as exc:
            return f"cannot tell whether {self.proc} is this process's own ({exc.strerror})"
        if seen != str(self.getpid()):
            return (
                f"{self.proc} belongs to another pid namespace ({self.proc}/self is {seen!r},"
                f" this process is pid {self.getpid()}): its pids name other processes here"
            )
        return None

    def start_times(self, pids: Iterable[int]) -> dict[int, Start] | None:
        from .._backends.procfs import process_stat

        found: dict[int, Start] = {}
        for pid in pids:
            stat = process_stat(pid, self.proc)
            if stat is not None:
                found[pid] = stat.start_ticks
        return found

    def name(self, pid: int) -> str | None:
        from .._backends.procfs import process_info

        info = process_info(pid, self.proc)
        return None if info is None else info[0]

    def _stat(self, pid: int) -> tuple[str, int] | None:
        """(state letter, ppid) from /proc/PID/stat, or None when gone."""
        from .._backends.procfs import process_stat

        found = process_stat(pid, self.proc)
        return None if found is None else (found.state, found.ppid)

    def ancestors(self) -> set[int]:
        seen: set[int] = set()
        pid = os.getpid()
        while pid > 0 and pid not in seen:
            seen.add(pid)
            stat = self._stat(pid)
            if stat is None:
                break
            pid = stat[1]
        return seen

    def _own_namespace_is_initial(self) -> bool | None:
        try:
            return os.stat(f"{self.proc}/self/ns/pid").st_ino == INITIAL_PID_NS_INODE
        except OSError:
            return None

    def machine_init(self, pid: int) -> bool:
        # When the namespace cannot be read, pid 1 is taken for the machine's init.
        return pid == 1 and self._own_namespace_is_initial() is not False

    def namespace_init(self, pid: int) -> bool:
        if pid == 1:
            return self._own_namespace_is_initial() is False
        try:
            with open(f"{self.proc}/{pid}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"NSpid:"):
                        ids = line.split()[1:]
                        return len(ids) > 1 and ids[-1] == b"1"
        except OSError:
            return False
        return False

    def descendants(self, pids: Iterable[int]) -> dict[int, int]:
        from .._backends.procfs import all_pids

        parents: dict[int, int] = {}
        for pid in all_pids(self.proc):
            stat = self._stat(pid)
            if stat is not None:
                parents[pid] = stat[1]
        return _descendants(parents, pids)

    def grab(self, pid: int) -> Handle | None:
        if not self.use_pidfd:
            return Handle(pid) if self._running(pid) else None
        try:
            return Handle(pid, os.pidfd_open(pid))  # type: ignore[attr-defined,unused-ignore]
        except ProcessLookupError:
            return None
        except OSError:
            # ENOSYS (kernel < 5.3) or a seccomp filter: fall back to plain pids.
            self.use_pidfd = False
            return Handle(pid) if self._running(pid) else None

    def holder_check(self, port: int, look: Callable[[], list[Socket]]) -> Callable[[int], bool]:
        from .._backends.procfs import held, socket_table

        targets = {f"socket:[{e.inode}]": e.inode for e in socket_table(port, self.proc) if e.inode}

        def holds(pid: int) -> bool:
            # PermissionError propagates: "cannot confirm" is not "does not hold".
            return bool(held(pid, targets, self.proc))

        return holds

    def parent(self, handle: Handle) -> int | None:
        stat = self._stat(handle.pid)
        return None if stat is None else stat[1]

    def signal(self, handle: Handle, *, force: bool) -> None:
        signum = signal.SIGKILL if force else signal.SIGTERM
        _check_one_process(handle.pid)
        if handle.pidfd is not None:
            signal.pidfd_send_signal(handle.pidfd, signum)  # type: ignore[attr-defined,unused-ignore]
        else:
            self.kill(handle.pid, signum)

    def alive(self, handle: Handle) -> bool:
        if handle.pidfd is not None:
            # A pidfd becomes readable when its process exits (zombie or reaped).
            ready, _, _ = select.select([handle.pidfd], [], [], 0)
            return not ready
        return self._running(handle.pid)

    def _running(self, pid: int) -> bool:
        stat = self._stat(pid)
        return stat is not None and stat[0] not in ("Z", "X")

    def close(self, handle: Handle) -> None:
        if handle.pidfd is not None:
            os.close(handle.pidfd)
            handle.pidfd = None


def _descendants(parents: Mapping[int, int], roots: Iterable[int]) -> dict[int, int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found: dict[int, int] = {}
    todo = list(roots)
    while todo:
        parent = todo.pop()
        for child in sorted(children.get(parent, ())):
            if child not in found and child != parent:
                found[child] = parent
                todo.append(child)
    return found


# --- macOS and the BSDs ------------------------------------------------------------


class _ByPidNumber:
    """What the stoppers without pidfds share: a handle is the pid number, and the
    re-check is a fresh look at the port (with the start time, in the engine)."""

    def grab(self, pid: int) -> Handle | None:
        return Handle(pid)

    def holder_check(self, port: int, look: Callable[[], list[Socket]]) -> Callable[[int], bool]:
        held = {s.pid for s in look() if s.pid is not None}
        return held.__contains__


class PosixStopper(_ByPidNumber):
    """`os.kill` right after a fresh lookup (macOS, FreeBSD, NetBSD, OpenBSD).

    Parents come from `ps -A -o pid= -o ppid=`, run through the runner.
    """

    signal_names = ("SIGTERM", "SIGKILL")

    def __init__(
        self,
        runner: Runner,
        *,
        kill: Callable[[int, int], None] = os.kill,
        timeout: float = 10.0,
    ) -> None:
        self.runner = runner
        self.kill = kill
        self.timeout = timeout

    def _parents(self) -> dict[int, int]:
        ps = self.runner.which("ps")
        if ps is None:
            return {}
        done = self.runner.run((ps, "-A", "-o", "pid=", "-o", "ppid="), timeout=self.timeout)
        parents: dict[int, int] = {}
        if done.returncode != 0:
            return parents
        for line in done.stdout.decode("ascii", "replace").splitlines():
            fields = line.split()
            if len(fields) == 2 and fields[0].isdigit() and fields[1].isdigit():
                parents[int(fields[0])] = int(fields[1])
        return parents

    def foreign_proc(self) -> str | None:
        return None  # no /proc: ps and kill(2) see the same pids

    def start_times(self, pids: Iterable[int]) -> dict[int, Start] | None:
        from .._parsers.owners import parse_ps_lstart

        ps = self.runner.which("ps")
        if ps is None:
            return None
        # Every process at once: one run, whatever the number of owners.
        try:
            done = self.runner.run((ps, "-A", "-o", "pid=", "-o", "lstart="), timeout=self.timeout)
        except (OSError, PortcheckError):
            return None
        if done.returncode != 0:
            return None
        table = parse_ps_lstart(done.stdout.decode("ascii", "replace"))
        return {pid: table[pid] for pid in pids if pid in table}

    def name(self, pid: int) -> str | None:
        return None

    def ancestors(self) -> set[int]:
        parents = self._parents()
        parents.setdefault(os.getpid(), os.getppid())
        return _chain(parents, os.getpid())

    def machine_init(self, pid: int) -> bool:
        return pid == 1  # launchd or init; jails share the host's pid numbering

    def namespace_init(self, pid: int) -> bool:
        return False

    def descendants(self, pids: Iterable[int]) -> dict[int, int]:
        return _descendants(self._parents(), pids)

    def parent(self, handle: Handle) -> int | None:
        return self._parents().get(handle.pid)

    def signal(self, handle: Handle, *, force: bool) -> None:
        _check_one_process(handle.pid)
        self.kill(handle.pid, signal.SIGKILL if force else signal.SIGTERM)

    def alive(self, handle: Handle) -> bool:
        _check_one_process(handle.pid)
        try:
            self.kill(handle.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def close(self, handle: Handle) -> None:
        pass


def _chain(parents: Mapping[int, int], start: int) -> set[int]:
    seen: set[int] = set()
    pid = start
    while pid > 0 and pid not in seen:
        seen.add(pid)
        pid = parents.get(pid, 0)
    return seen


# --- Windows -------------------------------------------------------------------


class WindowsStopper(_ByPidNumber):
    """`taskkill.exe /PID N [/T] [/F]` by absolute System32 path, through the runner.

    Without `/F`, taskkill asks the process to close (WM_CLOSE to its
    windows); a console program or a service without a window may refuse:
    it is then still alive after the grace period, and `force` uses `/F`.
    `/T` (with --tree) lets taskkill stop the children too: the planner has
    listed and judged each of them first (`descendants`). Parents, names and
    creation times come from PowerShell (`process_table`); liveness is asked
    of `tasklist /FI "PID eq N"`.
    """

    signal_names = ("taskkill", "taskkill /F")

    def __init__(
        self,
        runner: Runner,
        *,
        tree: bool = False,
        environ: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        from .._backends.windows import system32

        self.runner = runner
        self.tree = tree
        self.timeout = timeout
        self.system32 = system32(os.environ if environ is None else environ)

    def taskkill_argv(self, pid: int, *, force: bool) -> tuple[str, ...]:
        argv = [ntpath.join(self.system32, "taskkill.exe"), "/PID", str(int(pid))]
        if self.tree:
            argv.append("/T")
        if force:
            argv.append("/F")
        return tuple(argv)

    def tasklist_argv(self, pid: int) -> tuple[str, ...]:
        exe = ntpath.join(self.system32, "tasklist.exe")
        return (exe, "/FO", "CSV", "/NH", "/FI", f"PID eq {int(pid)}")

    def powershell_argv(self) -> tuple[str, ...]:
        from .._parsers.win_processes import PROCESS_TABLE_SCRIPT

        exe = ntpath.join(self.system32, "WindowsPowerShell", "v1.0", "powershell.exe")
        return (exe, "-NoProfile", "-NonInteractive", "-Command", PROCESS_TABLE_SCRIPT)

    def process_table(self) -> dict[int, WinProcess] | None:
        """pid -> (parent, creation time, name) of every process, or None when unreadable."""
        from .._parsers import win_processes

        try:
            done = self.runner.run(self.powershell_argv(), timeout=self.timeout)
        except (OSError, PortcheckError):
            return None
        if done.returncode != 0:
            return None
        table = win_processes.parse(done.stdout.decode("utf-8", "replace"))
        return table or None

    def foreign_proc(self) -> str | None:
        return None

    def start_times(self, pids: Iterable[int]) -> dict[int, Start] | None:
        table = self.process_table()
        if table is None:
            return None
        return {p: row.start for p in pids if (row := table.get(p)) and row.start is not None}

    def name(self, pid: int) -> str | None:
        table = self.process_table() or {}
        row = table.get(pid)
        return None if row is None else row.name

    def ancestors(self) -> set[int]:
        # The whole chain: pip's portcheck.exe launcher makes the shell a grandparent.
        table = self.process_table() or {}
        chain = [os.getpid()]
        while chain[-1] in table and chain[-1] > 0:
            row = table[chain[-1]]
            parent = table.get(row.ppid)
            if parent is None or row.ppid in chain:
                break
            # Windows keeps a dead parent's pid in its children: a "parent" that
            # started after its child is a newcomer with a reused pid.
            if parent.start is not None and row.start is not None and parent.start > row.start:
                break
            chain.append(row.ppid)
        return {*chain, os.getppid()}

    def machine_init(self, pid: int) -> bool:
        return pid in (0, 4)

    def namespace_init(self, pid: int) -> bool:
        return False

    def descendants(self, pids: Iterable[int]) -> dict[int, int]:
        # Listed so that each is judged before `taskkill /T` reaches it.
        table = self.process_table() or {}
        return _descendants({pid: row.ppid for pid, row in table.items()}, pids)

    def parent(self, handle: Handle) -> int | None:
        return None

    def signal(self, handle: Handle, *, force: bool) -> None:
        done = self.runner.run(self.taskkill_argv(handle.pid, force=force), timeout=self.timeout)
        if done.returncode == 0:
            return
        message = (done.stderr or done.stdout).decode("utf-8", "replace").strip()
        if done.returncode == 128:  # "The process ... not found."
            raise ProcessLookupError(message)
        if "denied" in message.lower():
            raise PermissionError(message)
        # Typically "can only be terminated forcefully": it is still alive, and
        # the grace period then tells (and `force` escalates with /F).

    def alive(self, handle: Handle) -> bool:
        from .._parsers import tasklist

        done = self.runner.run(self.tasklist_argv(handle.pid), timeout=self.timeout)
        if done.returncode != 0:
            return True  # cannot tell: never claim it is gone
        text = done.stdout.decode("utf-8", "replace")
        rows = "\n".join(line for line in text.splitlines() if line.startswith('"'))
        try:
            return handle.pid in tasklist.parse(rows)
        except ValueError:
            return True

    def close(self, handle: Handle) -> None:
        pass


def stopper_for(platform: Platform, runner: Runner, *, tree: bool, timeout: float) -> Stopper:
    """The stopper of `platform` (which must be this machine's)."""
    if platform is Platform.LINUX:
        return LinuxStopper()
    if platform is Platform.WINDOWS:
        return WindowsStopper(runner, tree=tree, timeout=timeout)
    return PosixStopper(runner, timeout=timeout)


def _check_one_process(pid: int) -> None:
    """Refuse pids that kill(2) reads as groups (0: the caller's; -N: group N; -1: all)."""
    if pid <= 0:
        raise ValueError(f"refusing to signal pid {pid}: it names a process group, not a process")
