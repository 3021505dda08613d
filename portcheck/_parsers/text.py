"""Splitting tool output into lines, the one way every parser does it.

Only `\\n` ends a line (a `\\r` before it is dropped: Windows output and
pasted captures). `str.splitlines()` also breaks at `\\x0b`, `\\x0c`,
`\\x1c`-`\\x1e`, `\\x85` and `\\u2028`, all of which a process may put in its
own name: one process could then break the rows of another.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Callable


def lines(text: str) -> list[str]:
    """The lines of `text`, split at `\\n` only, without their `\\r\\n` or `\\n`."""
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()  # the text's final newline ends the last line; it starts none
    return [p[:-1] if p.endswith("\r") else p for p in parts]


def joined_rows(text: str, continues: Callable[[str, str], bool]) -> Iterator[tuple[int, str]]:
    """(first line number, row) of each row, a line joined to the row before it (with a
    newline) when `continues(row, line)`: a process name that held a newline."""
    current: str | None = None
    start = 0
    for lineno, line in enumerate(lines(text), 1):
        if current is not None and continues(current, line):
            current += "\n" + line
            continue
        if current is not None:
            yield start, current
        current, start = line, lineno
    if current is not None:
        yield start, current
