"""Parser for Windows `tasklist /FO CSV /NH`: process id -> image name.

A sample row (English; German prints `"5.408 K"`, French `"5 408 Ko"` with a
no-break space: the thousands separator is localised, inside the quotes)::

    "svchost.exe","1076","Services","0","24,560 K"

Only the image name and the pid are read; the columns after them (session
name, session number, memory) are translated or localised and not needed.
"""

from __future__ import annotations

import csv

from .._errors import ParseError


def parse(text: str) -> dict[int, str]:
    """Image name by pid, from `tasklist /FO CSV /NH` (a header line, if any, is skipped).

    Lines that are not CSV rows (blank, or a message such as "INFO: No tasks
    are running...") are skipped; a quoted row without a numeric pid raises
    ParseError.
    """
    names: dict[int, str] = {}
    seen_row = False
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if not line.lstrip().startswith('"'):
            continue
        fields = _fields(line, lineno)
        pid_text = fields[1].strip() if len(fields) > 1 else ""
        if not (pid_text.isascii() and pid_text.isdigit()):  # int() refuses "²"
            if not seen_row and len(fields) > 1:
                seen_row = True  # the header of `tasklist /FO CSV` run without /NH
                continue
            raise ParseError("tasklist", lineno, line, "no process id in the second field")
        seen_row = True
        names.setdefault(int(pid_text), fields[0])
    return names


def _fields(line: str, lineno: int) -> list[str]:
    # csv copes with the commas and quotes a localised memory field holds.
    try:
        return next(csv.reader([line.strip()], strict=True))
    except csv.Error as exc:
        raise ParseError("tasklist", lineno, line, str(exc)) from None
