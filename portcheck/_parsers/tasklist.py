"""Parser for Windows `tasklist /SVC /FO CSV /NH` (and `/FO CSV /NH`): pid -> image name,
and pid -> the services it hosts (`parse_services`).

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


# What tasklist /SVC prints for a process hosting no service, where the row of
# PID 0 or 4 (which never host one) cannot tell: English and most languages.
_NO_SERVICE = "N/A"


def parse_services(text: str) -> dict[int, tuple[str, ...]]:
    """Service names by pid, from `tasklist /SVC /FO CSV /NH`; pids hosting none are left out.

    Each row is `"image","pid","Svc1,Svc2,..."`; one svchost.exe often hosts
    several. A process hosting none shows a placeholder that is translated
    (`N/A`, German `Nicht zutreffend`, ...): the placeholder is read from the
    row of PID 0 or 4 (the idle process and the kernel never host a
    service), so that any language is understood. Rows that do not have
    exactly three fields (the plain `/FO CSV` layout) name no services.
    """
    rows: list[tuple[int, str]] = []
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if not line.lstrip().startswith('"'):
            continue
        fields = _fields(line, lineno)
        pid_text = fields[1].strip() if len(fields) > 1 else ""
        if len(fields) == 3 and pid_text.isascii() and pid_text.isdigit():
            rows.append((int(pid_text), fields[2].strip()))
    none = {value for pid, value in rows if pid in (0, 4)} | {_NO_SERVICE}
    services: dict[int, tuple[str, ...]] = {}
    for pid, value in rows:
        names = tuple(n.strip() for n in value.split(",") if n.strip())
        if value not in none and names:
            services.setdefault(pid, names)
    return services
