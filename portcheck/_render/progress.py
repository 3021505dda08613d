"""The progress line `portcheck wait` keeps rewritten on a terminal."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .words import ERROR, owners

if TYPE_CHECKING:
    from .._wait.sockets import Poll


class StatusLine:
    """One line on the terminal (stderr), rewritten in place and cleared at the end:
    cut to the terminal's width (the last character `…` when cut), so it never wraps."""

    def __init__(self) -> None:
        self.width = 0

    def show(self, line: str) -> None:
        line = truncate(line, columns() - 1)
        sys.stderr.write("\r" + line.ljust(self.width))
        sys.stderr.flush()
        self.width = len(line)

    def clear(self) -> None:
        if self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
            self.width = 0


class Progress(StatusLine):
    """`portcheck wait PORT`'s line, rewritten after every look."""

    def __init__(self, port: int, condition: str, timeout: float) -> None:
        super().__init__()
        self.port = port
        self.condition = condition
        self.timeout = timeout

    def update(self, poll: Poll) -> None:
        holders = "; ".join(owners(poll.sockets, ERROR)) if poll.sockets else "nothing"
        self.show(
            f"waiting for port {self.port} to be {self.condition}: "
            f"{poll.elapsed:.1f} s of {self.timeout:g} s; on it: {holders}"
        )


def truncate(line: str, width: int) -> str:
    """`line` cut to `width` characters, the last one `…` when anything was cut."""
    if width < 1:
        return ""
    return line if len(line) <= width else line[: width - 1] + "…"


def columns() -> int:
    import shutil

    return shutil.get_terminal_size((80, 24)).columns
