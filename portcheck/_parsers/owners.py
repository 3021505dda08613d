"""Parsers for the owner details a remote host gives where no /proc is at hand.

- `ps -o pid=,uid=,comm= -p PID,PID,...` (procps and BSD ps): one line per
  live process, ``  812     0 nginx``; the name is last, so it may hold spaces.
- `getent passwd UID UID ...`: passwd lines, ``www-data:x:33:33:...``.
- `ps -o pid=,lstart= -p PID,...`: ``  812 Sun Nov 30 16:12:01 2025`` (LC_ALL=C).

Pure: text in, mappings out. Lines that do not have the expected shape are
skipped, not guessed at: a missing name leaves the tool's own.
"""

from __future__ import annotations


def parse_ps_owners(text: str) -> dict[int, tuple[str, int]]:
    """pid -> (command name, effective uid) from `ps -o pid=,uid=,comm=`."""
    owners: dict[int, tuple[str, int]] = {}
    for line in text.splitlines():
        fields = line.strip().split(None, 2)
        if len(fields) == 3 and fields[0].isdigit() and fields[1].isdigit():
            name = fields[2].strip()
            if name and name.isprintable():
                owners[int(fields[0])] = (name, int(fields[1]))
    return owners


def parse_passwd(text: str) -> dict[int, str]:
    """uid -> login name from passwd lines (`getent passwd ...`)."""
    names: dict[int, str] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[0] and fields[2].isdigit() and fields[0].isprintable():
            names.setdefault(int(fields[2]), fields[0])
    return names


def parse_ps_lstart(text: str) -> dict[int, str]:
    """pid -> start time text from `ps -o pid=,lstart=` (kept as printed, spaces squeezed)."""
    starts: dict[int, str] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].isdigit():
            when = " ".join(fields[1:])
            if when.isprintable() and len(when) <= 64:
                starts[int(fields[0])] = when
    return starts
