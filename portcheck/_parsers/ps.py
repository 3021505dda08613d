"""Parsers for `ps` owner details on macOS and the BSDs.

`ps -ww -o pid= -o args= -p PID,PID,...` (the BSDs): pid -> argv.

A sample line (right-aligned pid, then the command line as ps joins it)::

      812 /usr/sbin/nginx -g daemon off;

ps joins the arguments with spaces, so the argv is split on whitespace: an
argument that held a space comes back as two. That is the most these systems
tell an unprivileged caller without a compiled helper (sysctl KERN_PROCARGS2).

`ps -ww -o pid=,ppid=,lstart=,args=` (macOS, `parse_identity`): parent,
start time and the command line kept whole. `ps -ww -o pid=,jid=,args=`
(FreeBSD, `parse_jails`): the jail each process runs in.
"""

from __future__ import annotations

from datetime import datetime

import attrs


def parse_args(text: str) -> dict[int, tuple[str, ...]]:
    """argv by pid; lines without a numeric pid or with an empty command are skipped."""
    commands: dict[int, tuple[str, ...]] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2 or not (fields[0].isascii() and fields[0].isdigit()):
            continue
        commands.setdefault(int(fields[0]), tuple(fields[1:]))
    return commands


@attrs.frozen(kw_only=True)
class PsProcess:
    """One process as `ps -ww -o pid=,ppid=,lstart=,args=` prints it (macOS).

    `started` is the start time as the host's local clock printed it (ps says
    no time zone), None when unreadable; `command` is the whole command line
    as ps joined it: the arguments cannot be told apart, so it stays one string.
    """

    pid: int
    ppid: int
    started: datetime | None
    command: str


def parse_identity(text: str) -> dict[int, PsProcess]:
    """pid -> PsProcess from `ps -ww -o pid=,ppid=,lstart=,args=` run with LC_ALL=C.

    A sample line: ``  812     1 Sun Nov 30 16:12:01 2025     /usr/sbin/nginx -g daemon off;``
    lstart is five words (`%a %b %e %T %Y`); lines of another shape are skipped.
    """
    found: dict[int, PsProcess] = {}
    for line in text.splitlines():
        fields = line.split(None, 7)
        if len(fields) < 8 or not all(_digits(f) for f in fields[:2]):
            continue
        command = fields[7].strip()
        if not command:
            continue
        found.setdefault(
            int(fields[0]),
            PsProcess(
                pid=int(fields[0]),
                ppid=int(fields[1]),
                started=_lstart(" ".join(fields[2:7])),
                command=command,
            ),
        )
    return found


def parse_jails(text: str) -> dict[int, tuple[int, tuple[str, ...]]]:
    """pid -> (jail id, argv) from FreeBSD `ps -ww -o pid=,jid=,args=` (jid 0: the host).

    A sample line: ``  812    3 /usr/local/sbin/nginx -g daemon off;``. The
    argv is split on whitespace as `parse_args` does.
    """
    found: dict[int, tuple[int, tuple[str, ...]]] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3 or not (_digits(fields[0]) and _digits(fields[1])):
            continue
        found.setdefault(int(fields[0]), (int(fields[1]), tuple(fields[2:])))
    return found


def _digits(word: str) -> bool:
    return word.isascii() and word.isdigit()


def _lstart(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None
