"""`portcheck wait TARGET... --open`: the progress line and the outcome in words."""

from __future__ import annotations

from collections.abc import Mapping

from .progress import StatusLine
from .words import safe


class ReachProgress(StatusLine):
    """`portcheck wait TARGET... --open`'s line, rewritten while targets are down."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def update(self, elapsed: float, opened: Mapping[str, float], down: Mapping[str, str]) -> None:
        waiting = ", ".join(f"{safe(t)} ({why})" for t, why in down.items())
        self.show(
            f"waiting {elapsed:.1f} s of {self.timeout:g} s: "
            f"{len(opened)} of {len(opened) + len(down)} open; down: {waiting}"
        )


def open_lines(took: Mapping[str, float]) -> list[str]:
    """One line per target that answered: `db:5432 is open (after 1.2 s)`."""
    return [f"{safe(target)} is open (after {seconds:.1f} s)" for target, seconds in took.items()]


def down_lines(timeout: float, down: Mapping[str, str]) -> list[str]:
    """One line per target still down at the deadline, with its last error."""
    return [
        f"{safe(target)} is not open after {timeout:g} s (last try: {why})"
        for target, why in down.items()
    ]
