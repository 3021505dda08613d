"""`portcheck wait TARGET... --open`: the progress line and the outcome in words."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from .progress import columns
from .words import safe


class ReachProgress:
    """One line on the terminal (stderr), rewritten while targets are down."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.width = 0

    def update(self, elapsed: float, opened: Mapping[str, float], down: Mapping[str, str]) -> None:
        waiting = ", ".join(f"{safe(t)} ({why})" for t, why in down.items())
        line = (
            f"waiting {elapsed:.1f} s of {self.timeout:g} s: "
            f"{len(opened)} of {len(opened) + len(down)} open; down: {waiting}"
        )
        line = truncate(line, columns() - 1)
        sys.stderr.write("\r" + line.ljust(self.width))
        sys.stderr.flush()
        self.width = len(line)

    def clear(self) -> None:
        if self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
            self.width = 0


def truncate(line: str, width: int) -> str:
    """`line` cut to `width` characters, the last one `…` when anything was cut."""
    if width < 1:
        return ""
    return line if len(line) <= width else line[: width - 1] + "…"


def open_lines(took: Mapping[str, float]) -> list[str]:
    """One line per target that answered: `db:5432 is open (after 1.2 s)`."""
    return [f"{safe(target)} is open (after {seconds:.1f} s)" for target, seconds in took.items()]


def down_lines(timeout: float, down: Mapping[str, str]) -> list[str]:
    """One line per target still down at the deadline, with its last error."""
    return [
        f"{safe(target)} is not open after {timeout:g} s (last try: {why})"
        for target, why in down.items()
    ]
