"""Windows' process table as `stoppers.WindowsStopper` asks PowerShell for it: pid, parent,
creation time and image name, one process a line.

The command (constant; `PROCESS_TABLE_SCRIPT`), run by
`powershell.exe -NoProfile -NonInteractive -Command SCRIPT`, prints::

    4242,1076,133782912000000000,node.exe

pid, parent pid, creation time as a FILETIME (100 ns ticks since 1601, UTC;
empty for the System Idle Process, which has none) and the image name, which
comes last because it may hold commas. tasklist prints neither the parent
nor the creation time, so it cannot walk ancestors or tell a reused pid.
"""

from __future__ import annotations

import attrs

FORMAT_VERSION = 1

PROCESS_TABLE_SCRIPT = (
    "Get-CimInstance Win32_Process | ForEach-Object {"
    " '{0},{1},{2},{3}' -f $_.ProcessId,$_.ParentProcessId,"
    "$(if ($_.CreationDate) { $_.CreationDate.ToFileTimeUtc() } else { '' }),$_.Name }"
)


@attrs.frozen
class WinProcess:
    """One row: `ppid`, `start` (FILETIME, None when Windows gives none) and `name`."""

    ppid: int
    start: int | None
    name: str


def parse(text: str) -> dict[int, WinProcess]:
    """pid -> its row. Lines that are not rows (blank, PowerShell's warnings) are skipped."""
    table: dict[int, WinProcess] = {}
    for raw in text.splitlines():
        fields = raw.strip().split(",", 3)
        if len(fields) != 4 or not _number(fields[0]) or not _number(fields[1]):
            continue
        table[int(fields[0])] = WinProcess(
            ppid=int(fields[1]),
            start=int(fields[2]) if _number(fields[2]) else None,
            name=fields[3],
        )
    return table


def _number(text: str) -> bool:
    return text.isascii() and text.isdigit()
