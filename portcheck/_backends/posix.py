"""What the POSIX backends share: lsof's flags and run, the socket key, `netstat -an`, `ps`,
and the owners of a remote Linux host's sockets (`remote_owners`).

Linux, macOS and FreeBSD all run the same lsof command::

    lsof -n -P -w -b -S 2 +c 0 -F pcuLftPnTd -i :PORT

-n -P: no DNS or service lookups; -w: no warnings; -b -S 2: avoid kernel calls
that block on dead network mounts; +c 0: full command names; -F: field output,
the stable format (parsed by `_parsers.lsof`); `d`, the device, is the socket's
kernel identity (its inode on Linux, its kernel address elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Callable

import attrs

from .._errors import ToolError
from .._parsers import cgroup as _cgroup
from .._parsers import lsof as _lsof
from .._parsers import proc_frames as _frames
from .._parsers import ps as _ps
from .._parsers.cmdline import forwards_to, split_cmdline
from .._parsers.owners import parse_passwd, parse_ps_owners
from .._parsers.proc_stat import parse_stat, started_at
from .._records import Container, NoOwner, Platform, Socket, socket_key
from .context import Context, ToolUnusableError, decode, run_checked, tool_path

LSOF_FLAGS = ("-n", "-P", "-w", "-b", "-S", "2", "+c", "0", "-F", "pcuLftPnTd", "-i")
LINUX_LSOF_FLAGS = LSOF_FLAGS

Lookup = Callable[["int | None", Context], "list[Socket]"]
# The longest word a remote command may hold (`_remote.commands`): pid lists
# joined with commas are cut to fit, however many owners a port has.
PID_LIST_WIDTH = 200
# Pids per run of the owner script: each is its own short word, so only the
# command line's length bounds them; this keeps it far below any ARG_MAX.
SCRIPT_PIDS = 1000


def pid_chunks(pids: Iterable[int], width: int = PID_LIST_WIDTH) -> Iterator[str]:
    """`pids` as comma-joined words of at most `width` characters (`ps -p a,b,c`)."""
    word = ""
    for pid in pids:
        text = str(int(pid))
        if word and len(word) + 1 + len(text) > width:
            yield word
            word = ""
        word = f"{word},{text}" if word else text
    if word:
        yield word


def lsof_argv(path: str, port: int | None, flags: Sequence[str] = LSOF_FLAGS) -> list[str]:
    """The lsof command for local or remote `port` (`-i :PORT` matches either end).

    Every TCP and UDP socket when `port` is None: `-i TCP -i UDP` (ORed).
    """
    if port is None:
        return [path, *flags, "TCP", "-i", "UDP"]
    return [path, *flags, f":{port}"]


def lsof_sockets(port: int | None, ctx: Context, *, confirm: Lookup) -> list[Socket]:
    """Run lsof for `port`; without root, add the sockets `confirm` sees that lsof did not.

    lsof run without root lists nothing of other users' processes (and exits
    1 when that leaves nothing, exactly as for a free port: platform-notes,
    "Every platform"); on macOS this is the normal case for system daemons.
    netstat sees every socket, owner or not: its sockets that lsof did not
    list are another user's, reported with the owner hidden, whether or not
    lsof found sockets of our own on the same port.
    """
    path = tool_path(ctx, "lsof", "lsof")
    argv = lsof_argv(path, port)
    done = ctx.runner.run(argv, timeout=ctx.timeout)
    # Listing, `-i TCP -i UDP`: status 1 with output means one of them matched nothing.
    partial = port is None and done.returncode == 1 and not done.stderr
    if done.returncode == 1 and not done.stdout and not done.stderr:
        found: list[Socket] = []  # lsof's "no file matched"
    elif done.returncode != 0 and not partial:
        raise ToolUnusableError(
            f"lsof failed: {ToolError(argv, done.returncode, decode(done.stderr))}"
        )
    else:
        found = _lsof.parse(decode(done.stdout))
    if ctx.privileged:
        return found
    seen = {socket_key(s) for s in found}
    # Listed by netstat, not by lsof: a process this user may not see holds it.
    others = [s for s in confirm(port, ctx) if socket_key(s) not in seen]
    return found + [_hidden(s) for s in others]


def _hidden(sock: Socket) -> Socket:
    if sock.no_owner is NoOwner.NOT_SHOWN:
        return attrs.evolve(sock, no_owner=NoOwner.HIDDEN)
    return sock


def netstat_an(ctx: Context, parse: Callable[[str], list[Socket]]) -> list[Socket]:
    """Every socket `netstat -an` lists, read by `parse` (the lookup keeps the port's)."""
    path = tool_path(ctx, "netstat", "the base system")
    done = run_checked(ctx, [path, "-an"])
    return parse(decode(done.stdout))


def full_names(sockets: Sequence[Socket], ctx: Context, width: int) -> list[Socket]:
    """`sockets` with names missing or cut at `width` characters replaced by `ps`'s.

    `ps` is optional: without it the names stay as the tool printed them.
    """
    ps = ctx.runner.which("ps")
    if ps is None:
        return list(sockets)
    names: dict[int, str | None] = {}
    for pid in {s.pid for s in sockets if s.pid is not None and _is_cut(s.process, width)}:
        names[pid] = ps_name(ps, pid, ctx)
    return [_renamed(s, names) for s in sockets]


def _is_cut(name: str | None, width: int) -> bool:
    return name is None or len(name) >= width


def _renamed(sock: Socket, names: dict[int, str | None]) -> Socket:
    full = names.get(sock.pid) if sock.pid is not None else None
    # The prefix check keeps a pid reused since the tool ran from renaming the row.
    if full is None or not full.startswith(sock.process or ""):
        return sock
    return attrs.evolve(sock, process=full)


def with_commands(sockets: Sequence[Socket], ctx: Context) -> list[Socket]:
    """`sockets` with each owner's command line, from one `ps -ww -o pid= -o args=` run.

    ps is optional and its failure is not the lookup's: without it, or when it
    fails, `command` stays None ("cannot tell"). Only integer pids reach argv.
    """
    pids = sorted({s.pid for s in sockets if isinstance(s.pid, int) and s.pid > 0})
    commands: dict[int, tuple[str, ...]] = {}
    for text in ps_outputs(ctx, ("-ww", "-o", "pid=", "-o", "args="), pids):
        commands.update(_ps.parse_args(text))
    return [attrs.evolve(s, command=commands[s.pid]) if s.pid in commands else s for s in sockets]


def ps_outputs(ctx: Context, flags: Sequence[str], pids: Sequence[int]) -> Iterator[str]:
    """What `ps FLAGS -p CHUNK` prints for each chunk of `pids` (constant flags only).

    ps is optional and its failure is not the lookup's: without ps, or at its
    first failure, there is no more text and the fields it would fill stay None.
    """
    ps = ctx.runner.which("ps") if pids else None
    if ps is None:
        return
    for chunk in pid_chunks(pids):
        try:
            done = ctx.runner.run([ps, *flags, "-p", chunk], timeout=ctx.timeout)
        except OSError:  # ToolError and ToolTimeoutError are OSErrors
            return
        yield decode(done.stdout)


def ps_name(ps: str, pid: int, ctx: Context) -> str | None:
    """The command name of `pid` from `ps -o comm= -p PID`, or None when it has exited.

    macOS `ps` prints the executable's full path there; the base name is the
    process name the other tools show.
    """
    done = ctx.runner.run([ps, "-o", "comm=", "-p", str(pid)], timeout=ctx.timeout)
    lines = decode(done.stdout).strip().splitlines()
    if done.returncode != 0 or not lines:
        return None
    return lines[0].strip().rsplit("/", 1)[-1] or None


def remote_owners(sockets: Sequence[Socket], ctx: Context) -> list[Socket]:
    """`sockets` with each owner's name, uid, user and identity, from the host's own files.

    Where no local /proc describes the host (over ssh). On Linux, one run of
    the constant owner script (`_parsers.proc_frames`) reads every owner's
    comm, uid, cmdline, cgroup and stat and names the uids with getent: the
    same files and parsers as a local lookup, so one host gives the same
    records both ways, in one round trip. Elsewhere, or without `od` there:
    one `ps` and one `getent passwd`. The process's own uid, not the
    socket's (a server that binds as root and then drops privileges holds a
    socket of uid 0). A pid gone by then keeps the tool's data; without the
    tools the tool's data stands. Pid lists are sent in chunks of bounded size.
    """
    pids = sorted({s.pid for s in sockets if s.pid is not None})
    od = ctx.runner.which("od")
    if pids and ctx.platform is Platform.LINUX and od is not None:
        # Hidden owners' sockets keep their uid: named in the same run.
        uids = sorted({s.uid for s in sockets if s.pid is None and s.uid is not None})
        return _from_frames(sockets, _read_frames(pids, uids, od, ctx))
    found: dict[int, tuple[str, int]] = {}
    ps = ctx.runner.which("ps")
    for chunk in pid_chunks(pids if ps is not None else ()):
        argv = [str(ps), "-o", "pid=,uid=,comm=", "-p", chunk]
        done = ctx.runner.run(argv, timeout=ctx.timeout)
        found.update(parse_ps_owners(decode(done.stdout)) if done.returncode in (0, 1) else {})
    named = [_owned(s, found) for s in sockets]
    return with_user_names(named, ctx)


def owner_script_argv(
    od: str, getent: str, pids: Sequence[int], uids: Sequence[int] = ()
) -> list[str]:
    """The argv of one run of the owner script for `pids`, naming `uids` too (integers only).

    getent `-`: none on the host.
    """
    words = [str(int(p)) for p in pids] + [f"u{int(u)}" for u in uids]
    return ["/bin/sh", "-c", _frames.SCRIPT, _frames.NAME, od, getent, *words]


def _read_frames(pids: Sequence[int], uids: Sequence[int], od: str, ctx: Context) -> _frames.Frames:
    getent = ctx.runner.which("getent") or "-"
    here: str | None = None
    boot: float | None = None
    procs: dict[int, _frames.ProcFrame] = {}
    users: dict[int, str] = {}
    for start in range(0, len(pids), SCRIPT_PIDS):
        argv = owner_script_argv(od, getent, pids[start : start + SCRIPT_PIDS], uids)
        done = run_checked(ctx, argv)
        frames = _frames.parse(done.stdout)
        here = frames.here if here is None else here
        boot = frames.boot_time if boot is None else boot
        procs.update(frames.procs)
        users.update(frames.users)
    return _frames.Frames(here=here, boot_time=boot, procs=procs, users=users)


def _from_frames(sockets: Sequence[Socket], frames: _frames.Frames) -> list[Socket]:
    here = _cgroup.parse(frames.here).container if frames.here else None
    records = []
    for sock in sockets:
        frame = frames.procs.get(sock.pid) if sock.pid is not None else None
        if frame is not None:
            records.append(_framed(sock, frame, frames, here))
        elif sock.user is None and sock.uid in frames.users:
            records.append(attrs.evolve(sock, user=frames.users[sock.uid]))
        else:
            records.append(sock)
    return records


def _framed(
    sock: Socket, frame: _frames.ProcFrame, frames: _frames.Frames, here: Container | None
) -> Socket:
    """`sock` with what the script read of its owner, the way procfs names a local one."""
    users = frames.users
    stat = parse_stat(frame.stat) if frame.stat is not None else None
    started = None
    if stat is not None and frames.boot_time is not None:
        started = started_at(stat.start_ticks, frames.boot_time)
    command = split_cmdline(frame.cmdline or b"")
    found = _cgroup.parse(frame.cgroup) if frame.cgroup else _cgroup.CgroupIdentity()
    container = None if found.container == here else found.container
    uid = frame.uid if frame.uid is not None else sock.uid
    return attrs.evolve(
        sock,
        process=frame.comm if frame.comm is not None else sock.process,
        uid=uid,
        user=users.get(uid) if uid is not None else None,
        command=command,
        units=found.units,
        container=container,
        forwards_to=forwards_to(command, sock),
        started=started,
        # cwd and exe are links the script does not read: None over ssh.
        parent=stat.ppid if stat is not None and stat.ppid > 0 else None,
    )


def _owned(sock: Socket, found: dict[int, tuple[str, int]]) -> Socket:
    info = found.get(sock.pid) if sock.pid is not None else None
    if info is None:
        return sock
    return attrs.evolve(sock, process=info[0], uid=info[1], user=None)


def with_user_names(sockets: Sequence[Socket], ctx: Context) -> list[Socket]:
    """`sockets` with `user` named from `uid` by the host's `getent passwd`, where missing."""
    uids = sorted({s.uid for s in sockets if s.uid is not None and s.user is None})
    getent = ctx.runner.which("getent")
    if not uids or getent is None:
        return list(sockets)
    done = ctx.runner.run([getent, "passwd", *(str(u) for u in uids)], timeout=ctx.timeout)
    # getent exits 2 when some key is unknown; the lines it printed still hold.
    names = parse_passwd(decode(done.stdout)) if done.returncode in (0, 2) else {}
    return [
        attrs.evolve(s, user=names[s.uid])
        if s.user is None and s.uid is not None and s.uid in names
        else s
        for s in sockets
    ]
