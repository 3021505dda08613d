"""The owners of a Linux host's sockets over ssh: one constant `sh -c` program and its output.

Where no local /proc describes the host, one run of `SCRIPT` reads, for every
owner pid given as an argument, what the local backends read from /proc:
`comm`, the effective uid (`status`), `cmdline`, `cgroup` and `stat`, and then
names the uids with `getent passwd`; the host's boot time (`btime` of
/proc/stat) dates the start times. One round trip for all the owners
together; the pids are arguments (checked to be digits by the controller and
again by the script), never part of the program's text.

    /bin/sh -c SCRIPT portcheck OD GETENT PID PID... uUID uUID...

OD and GETENT are the absolute paths the host's probe found (`-` when getent
is missing); `uUID` words name more uids for getent (the sockets' own, whose
owner is hidden). The output is framed by lines that start with `:`, which no
content line can: text files (comm, cgroup, stat, the script's own cgroup)
are printed one line at a time behind `|`, so a process name or a cgroup
holding a newline or a fake `:pid` line stays content; `cmdline`, which holds
NULs, is printed as hex by `od -An -v -tx1`. A sample::

    :here
    |0::/user.slice/user-0.slice/session-3.scope
    :btime
    |1764770000
    :pid 812
    :uid 33
    :comm
    |nginx
    :cmdline
     6e 67 69 6e 78 00
    :cgroup
    |0::/system.slice/nginx.service
    :stat
    |812 (nginx) S 1 812 812 0 -1 4194560 ...
    :passwd
    www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin

A pid gone by the time the script runs prints no frame; a file that cannot
be read prints no content (None here). Pure: bytes in, records out.
"""

from __future__ import annotations

import attrs

from .owners import parse_passwd

FORMAT_VERSION = 2

# Constant text: nothing in it comes from input (see _remote/commands.py,
# which sends it and nothing else through `sh -c`). Builtins only, except
# od once per pid (cmdline holds NULs that shell variables cannot) and one
# getent for every uid together. printf, not echo: dash's echo expands `\`.
SCRIPT = (
    "od=$1; getent=$2; shift 2; uids=; "
    'text() { while IFS= read -r l || [ -n "$l" ]; do printf "|%s\\n" "$l"; done; }; '
    "echo :here; text < /proc/$$/cgroup 2>/dev/null; "
    'echo :btime; { while read -r k v x; do [ "$k" = btime ] && printf "|%s\\n" "$v"; done; '
    "} < /proc/stat 2>/dev/null; "
    'for p in "$@"; do '
    'case $p in u*) q=${p#u}; case $q in ""|*[!0-9]*) ;; *) uids="$uids $q";; esac; '
    "continue;; "
    '""|*[!0-9]*) continue;; esac; '
    '[ -d "/proc/$p" ] || continue; '
    'u=; { while read -r k r e x; do if [ "$k" = Uid: ]; then u=$e; break; fi; done; '
    '} 2>/dev/null < "/proc/$p/status"; '
    'echo ":pid $p"; echo ":uid $u"; uids="$uids $u"; '
    'echo :comm; text 2>/dev/null < "/proc/$p/comm"; '
    'echo :cmdline; "$od" -An -v -tx1 "/proc/$p/cmdline" 2>/dev/null; '
    'echo :cgroup; text 2>/dev/null < "/proc/$p/cgroup"; '
    'echo :stat; text 2>/dev/null < "/proc/$p/stat"; '
    "done; "
    'if [ "$getent" != - ] && [ -n "${uids# }" ]; then echo :passwd; '
    '"$getent" passwd $uids 2>/dev/null; fi; exit 0'
)
NAME = "portcheck"  # $0 of the script: what `ps` on the host shows for it


@attrs.frozen(kw_only=True)
class ProcFrame:
    """What the script read of one live pid; None for what could not be read."""

    pid: int
    uid: int | None = None
    comm: str | None = None
    cmdline: bytes | None = None
    cgroup: str | None = None
    stat: bytes | None = None


@attrs.frozen(kw_only=True)
class Frames:
    """The script's answer: its own cgroup (`here`), the host's boot time (epoch seconds),
    each live pid's frame, uid -> login."""

    here: str | None = None
    boot_time: float | None = None
    procs: dict[int, ProcFrame] = attrs.field(factory=dict)
    users: dict[int, str] = attrs.field(factory=dict)


def parse(data: bytes) -> Frames:
    """The frames in the script's output; lines outside any frame are ignored.

    Through a terminal (Ansible's ssh connection asks for one with -tt) every
    newline arrives as CRLF: the first line says so, and CRLF is read as LF.
    """
    if b":here\r\n" in data[:64]:
        data = data.replace(b"\r\n", b"\n")
    sections: dict[str, list[bytes]] = {}
    frames: list[tuple[int, int | None, dict[str, list[bytes]]]] = []
    here: list[bytes] | None = None
    btime: list[bytes] | None = None
    passwd: list[bytes] = []
    section: list[bytes] | None = None
    for line in data.split(b"\n"):
        if not line.startswith(b":"):
            if section is not None:
                section.append(line)
            continue
        word, _, value = line[1:].partition(b" ")
        section = None
        if word == b"here":
            here = section = []
        elif word == b"btime":
            btime = section = []
        elif word == b"pid" and value.isdigit():
            sections = {}
            frames.append((int(value), None, sections))
        elif word == b"uid" and frames and value.isdigit():
            frames[-1] = (frames[-1][0], int(value), sections)
        elif word in (b"comm", b"cmdline", b"cgroup", b"stat") and frames:
            section = sections[word.decode()] = []
        elif word == b"passwd":
            frames.append((-1, None, {}))  # nothing after this belongs to a pid
            section = passwd
    procs = {pid: _frame(pid, uid, found) for pid, uid, found in frames if pid >= 0}
    users = parse_passwd(b"\n".join(passwd).decode("utf-8", "replace"))
    boot = _text(btime)
    boot_time = float(boot) if boot is not None and boot.isdigit() else None
    return Frames(here=_text(here), boot_time=boot_time, procs=procs, users=users)


def _frame(pid: int, uid: int | None, sections: dict[str, list[bytes]]) -> ProcFrame:
    return ProcFrame(
        pid=pid,
        uid=uid,
        comm=_text(sections.get("comm")),
        cmdline=_hex(sections.get("cmdline")),
        cgroup=_text(sections.get("cgroup")),
        stat=_raw(sections.get("stat")),
    )


def _raw(lines: list[bytes] | None) -> bytes | None:
    """The bytes of a text file printed behind `|`, one line at a time; None when empty."""
    if not lines:
        return None
    kept = [line[1:] for line in lines if line.startswith(b"|")]
    return b"\n".join(kept) + b"\n" if kept else None


def _text(lines: list[bytes] | None) -> str | None:
    raw = _raw(lines)
    return raw.rstrip(b"\n").decode("utf-8", "replace") if raw is not None else None


def _hex(lines: list[bytes] | None) -> bytes | None:
    """The bytes od printed as hex; b"" for an empty file (a kernel thread's cmdline)."""
    if lines is None:
        return None
    try:
        return bytes.fromhex(b"".join(lines).decode("ascii", "replace").replace("\n", " "))
    except ValueError:
        return None
