"""`/proc/PID/stat`: a process's state, parent and start time, the parts of its identity.

Pure: bytes in, `ProcStat` out. A pid alone does not name a process (pids are
reused); (pid, start time) does, for as long as the machine runs. The start
time is field 22, in clock ticks since boot. The name (field 2) is in
parentheses and may hold anything, ")" and spaces included, so the fields
are counted from the last ")".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import datetime

FORMAT_VERSION = 1


class ProcStat(NamedTuple):
    """`state` (one letter: R, S, Z...), `ppid`, and `start_ticks` (clock ticks after boot).

    A NamedTuple, not an attrs class: each attrs class costs about a millisecond
    to define, and a listing imports this module.
    """

    state: str
    ppid: int
    start_ticks: int


def parse_stat(data: bytes) -> ProcStat | None:
    """The fields of one `/proc/PID/stat`, or None for text that is not one."""
    close = data.rfind(b")")
    if close < 0:
        return None
    fields = data[close + 2 :].split()
    # After the name: state (3), ppid (4), ... starttime (22): index 19 here.
    if len(fields) < 20:
        return None
    try:
        return ProcStat(
            state=fields[0].decode("ascii", "replace"),
            ppid=int(fields[1]),
            start_ticks=int(fields[19]),
        )
    except ValueError:
        return None


# USER_HZ: the unit of `start_ticks` on every Linux architecture but alpha and
# ia64 (`sysconf(_SC_CLK_TCK)` locally; over ssh the host's cannot be asked
# without another tool, and this is its value).
USER_HZ = 100


def started_at(start_ticks: int, boot_time: float, hz: int = USER_HZ) -> datetime.datetime:
    """When a process started, from its `start_ticks` and the machine's boot time (epoch s)."""
    import datetime  # here: a lookup that names no owner needs no dates

    when = boot_time + start_ticks / hz
    return datetime.datetime.fromtimestamp(when, tz=datetime.timezone.utc)
