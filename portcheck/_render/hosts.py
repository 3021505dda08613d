"""`portcheck PORT --host H ...`: one section per host, its table or its error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .table import table

if TYPE_CHECKING:
    from .._fleet import HostResult


def printable(text: str) -> str:
    """`text` with control and other unprintable characters shown as escapes (`\\x1b`).

    Error messages quote what a remote host printed; a terminal must not
    receive its escape sequences.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def sections(results: dict[str, HostResult]) -> list[str]:
    """The lines of every host's section, a blank line between sections."""
    lines: list[str] = []
    for host, result in results.items():
        if lines:
            lines.append("")
        lines.append(f"== {host} ==")
        if isinstance(result, Exception):
            lines.append(f"error: {type(result).__name__}: {printable(str(result))}")
        else:
            lines.extend(table(result))
    return lines
