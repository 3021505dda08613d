"""Parser for Windows' excluded port ranges: ports no program may bind although none uses them.

Reads what these print (ipv4 or ipv6, tcp or udp; one table each)::

    netsh interface ipv4 show excludedportrange protocol=tcp

Hyper-V, WSL2, Docker and `netsh ... add excludedportrange` reserve ranges
there; a bind inside one fails with WSAEACCES (10013, "An attempt was made to
access a socket in a way forbidden by its access permissions") while
`netstat -ano` shows nothing on the port. The documented English output::

    Protocol tcp Port Exclusion Ranges

    Start Port    End Port
    ----------    --------
          5357        5357
         50000       50059     *

    * - Administered port exclusions.

Title, column names and footnote are translated, so the table is read by
shape, in any display language: the dashed rule under the header, then rows
of two numbers, with a trailing `*` on the administered exclusions (added by
an administrator, as opposed to those a service reserved at boot). Returns
ranges, not sockets, so it is not in `PARSERS`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .._errors import ParseError

TOOL = "netsh show excludedportrange"

# re.ASCII: only 0-9 are digits here; "٣" is a digit to Python but not to netsh.
_RULE = re.compile(r"^\s*-+(\s+-+)+\s*$", re.ASCII)
_ROW = re.compile(r"^\s*(\d+)\s+(\d+)(\s+\*)?\s*$", re.ASCII)
_STARTS_WITH_DIGIT = re.compile(r"^\s*\d", re.ASCII)


class ExcludedRange(NamedTuple):
    """Ports `first` to `last` inclusive; `administered` for a row marked `*`."""

    first: int
    last: int
    administered: bool


def parse(text: str) -> list[ExcludedRange]:
    """Every excluded range in the table, in order; [] when the table has no row.

    ParseError when the dashed rule is missing (not this table: an error
    message, another command's output), for a row-like line after it that is
    not two numbers and an optional `*`, and for numbers that are not a range
    of ports. Lines that do not start with a digit (the translated footnote,
    blank lines) are skipped.
    """
    ranges: list[ExcludedRange] = []
    ruled = False
    for lineno, line in enumerate(text.splitlines(), 1):
        if not ruled:
            ruled = bool(_RULE.match(line))
            continue
        if not _STARTS_WITH_DIGIT.match(line):
            continue
        ranges.append(_row(line, lineno))
    if not ruled:
        raise ParseError(TOOL, 0, text[:80], "no dashed rule under a header: not a range table")
    return ranges


def _row(line: str, lineno: int) -> ExcludedRange:
    match = _ROW.match(line)
    if match is None:
        raise ParseError(TOOL, lineno, line, "expected two port numbers and an optional '*'")
    first, last = int(match.group(1)), int(match.group(2))
    if not 1 <= first <= last <= 65535:
        raise ParseError(TOOL, lineno, line, f"not a range of ports: {first}-{last}")
    return ExcludedRange(first=first, last=last, administered=match.group(3) is not None)
