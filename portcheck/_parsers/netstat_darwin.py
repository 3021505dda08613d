"""Parser for macOS `netstat`: `-an`, `-anv`, `-A`, `-b`, `-p tcp`, `-p udp`.

The backend runs `netstat -anv -p tcp` and `netstat -anv -p udp`. Rows are
the BSD ones (see `_netstat_bsd`); `-v` adds the owner, in one of three
layouts, found from the header line (never by counting columns):

- up to macOS 14: `(State) rhiwat shiwat pid epid state options ...`;
- macOS 15: `(state) rxbytes txbytes rhiwat shiwat pid epid ...` (parsers that
  counted columns read `rhiwat` as the pid and killed unrelated processes);
- macOS 26: `(state) rxbytes txbytes rhiwat shiwat process:pid state ...`,
  the name right-aligned, cut to 16 characters, and free to hold spaces and
  dots. A sample row (macOS 26, pid-port issue 14)::

    tcp4 0 0 127.0.0.1.49515 127.0.0.1.49472 ESTABLISHED 118268 40208 408008
        146988  Autodesk Fusion:22712  00002 ...      (one line, wrapped here)

`pid` is the socket's last user (`epid`, the effective pid, names the process
a socket was delegated for). Without `-v` there is no owner: pid None. The
non-Internet sections that follow (UNIX domain, kernel event and control
sockets, Multipath) are skipped. Cut IPv6 addresses: as in `_netstat_bsd`.
"""

from __future__ import annotations

import re

from .._errors import ParseError
from .._records import Socket
from .netstat_bsd import Row, rows

# Version of this parser's output, recorded in each golden file it produced
# (tests/support/golden.py). Raise it with any deliberate change of the records it
# returns, including one made in `netstat_bsd`, whose rows it reuses.
FORMAT_VERSION = 1

_ENDS_IN_PID = re.compile(r":\d+$")
_TOKEN = re.compile(r"\S+")


def parse(text: str) -> list[Socket]:
    """Every TCP/UDP socket in macOS netstat output, with the pid when `-v` shows it."""
    return [_with_owner(row) for row in rows(text)]


def _with_owner(row: Row) -> Socket:
    try:
        if "pid" in row.layout.tail:
            # pid 0 is no process: kill(0, ...) would signal the caller's own group.
            return row.socket(pid=_pid_column(row) or None)
        if "process:pid" in row.layout.tail:
            name, pid = _process_pid_column(row)
            return row.socket(pid=pid or None, process=name)
    except (ValueError, IndexError) as exc:
        raise ParseError("netstat", row.lineno, row.line, str(exc)) from None
    return row.socket()


def _pid_column(row: Row) -> int:
    text = row.tail[row.layout.tail.index("pid")]
    if not text.isdigit():
        raise ValueError(f"pid {text!r} is not a number")
    return int(text)


def _process_pid_column(row: Row) -> tuple[str | None, int]:
    """(name, pid) of a macOS 26 `process:pid` field, whose name may hold spaces.

    The field starts at its column's index among the columns after the state
    (the columns before it are single numbers) and ends at the first token
    ending in `:digits`; the name is taken from the line itself, so that the
    spaces inside it are kept as printed.
    """
    first = row.layout.tail.index("process:pid")
    # Where the words sit in the line (found here only: the other layouts need no spans).
    spans = [token.span() for token in _TOKEN.finditer(row.line)]
    offset = len(spans) - len(row.tail)  # the tail is the row's last words
    for end in range(first, len(row.tail)):
        if _ENDS_IN_PID.search(row.tail[end]):
            field = row.line[spans[offset + first][0] : spans[offset + end][1]]
            name, _, pid = field.rpartition(":")
            return name or None, int(pid)
    raise ValueError("no process:pid field")
