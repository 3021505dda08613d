"""Parsers for the owner details a remote host gives where no /proc is at hand.

- `ps -o pid=,uid=,comm= -p PID,PID,...` (procps and BSD ps): one line per
  live process, ``  812     0 nginx``; the name is last, so it may hold spaces.
- `getent passwd UID UID ...`: passwd lines, ``www-data:x:33:33:...``.

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
