"""The progress line `portcheck wait` keeps rewritten on a terminal."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .words import ERROR, owners

if TYPE_CHECKING:
    from .._wait.sockets import Poll


class Progress:
    """One line on the terminal (stderr), rewritten after every look."""

    def __init__(self, port: int, condition: str, timeout: float) -> None:
        self.port = port
        self.condition = condition
        self.timeout = timeout
        self.width = 0

    def update(self, poll: Poll) -> None:
        holders = "; ".join(owners(poll.sockets, ERROR)) if poll.sockets else "nothing"
        line = (
            f"waiting for port {self.port} to be {self.condition}: "
            f"{poll.elapsed:.1f} s of {self.timeout:g} s; on it: {holders}"
        )
        width = columns() - 1
        line = line[:width]
        sys.stderr.write("\r" + line.ljust(self.width))
        sys.stderr.flush()
        self.width = len(line)

    def clear(self) -> None:
        if self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
            self.width = 0


def columns() -> int:
    import shutil

    return shutil.get_terminal_size((80, 24)).columns
