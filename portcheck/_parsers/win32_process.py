"""Parser for the one PowerShell call that names Windows processes' command lines and parents.

    powershell.exe -NoProfile -NonInteractive -Command "Get-CimInstance Win32_Process |
        Select-Object ProcessId,ParentProcessId,CreationDate,CommandLine |
        ConvertTo-Csv -NoTypeInformation"

A sample (CSV, every field quoted, `""` for a quote inside one; a command
line may hold commas, quotes and even newlines, which the quotes keep)::

    "ProcessId","ParentProcessId","CreationDate","CommandLine"
    "1076","612","12/3/2026 6:33:35 PM","C:\\Windows\\system32\\svchost.exe -k netsvcs"

It arrives as UTF-8 or UTF-16 (PowerShell's choice depends on its version
and on how its output is redirected): `decode` tells them apart by the byte
order mark, or by the NULs of UTF-16 text. The command line is kept as one
string: Windows passes it whole and each program splits it its own way.
CreationDate is printed in the host's culture; it is read only in the forms
below (DMTF, ISO 8601, US English) and is otherwise None.

Pure: bytes in, records out. Rows without a numeric pid are skipped.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

import attrs

FORMAT_VERSION = 1
COMMAND = (
    "Get-CimInstance Win32_Process | "
    "Select-Object ProcessId,ParentProcessId,CreationDate,CommandLine | "
    "ConvertTo-Csv -NoTypeInformation"
)
_HEADER = ("ProcessId", "ParentProcessId", "CreationDate", "CommandLine")
_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M:%S %p")


@attrs.frozen(kw_only=True)
class Win32Process:
    """One row: `ppid`, `started` (naive, the host's local time; None when unreadable),
    and `command` (None when Windows hides it: another user's process without elevation)."""

    pid: int
    ppid: int | None
    started: datetime | None
    command: str | None


def decode(data: bytes) -> str:
    """UTF-16 (with a BOM, or NULs after ASCII bytes) or UTF-8; bad bytes replaced."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if len(data) >= 2 and data[1:2] == b"\0" and data[0:1] != b"\0":
        return data.decode("utf-16-le", errors="replace")
    return data.decode("utf-8-sig", errors="replace")


def parse(text: str) -> dict[int, Win32Process]:
    """pid -> Win32Process from the CSV; the header row and malformed rows are skipped."""
    found: dict[int, Win32Process] = {}
    # A NUL is never in a command line; Python 3.9's csv refuses a line holding one.
    clean = text.lstrip("\ufeff").replace("\0", "\ufffd")
    for row in csv.reader(io.StringIO(clean, newline="")):
        if len(row) != len(_HEADER) or tuple(row) == _HEADER:
            continue
        pid, ppid, created, command = row
        if not (pid.isascii() and pid.isdigit()):
            continue
        found.setdefault(
            int(pid),
            Win32Process(
                pid=int(pid),
                ppid=int(ppid) if ppid.isascii() and ppid.isdigit() else None,
                started=_date(created),
                command=command or None,
            ),
        )
    return found


def _date(text: str) -> datetime | None:
    text = text.strip()
    if len(text) >= 21 and text[:14].isdigit() and text[14:15] == ".":
        text = f"{text[:4]}-{text[4:6]}-{text[6:8]}T{text[8:10]}:{text[10:12]}:{text[12:14]}"
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(text.split(".")[0] if "T" in text else text, form)
        except ValueError:
            continue
    return None
