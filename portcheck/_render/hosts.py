"""`portcheck PORT --host H ...`: one section per host, its table or its error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .table import table
from .words import safe

if TYPE_CHECKING:
    from .._remote.fleet import HostResult


def sections(results: dict[str, HostResult]) -> list[str]:
    """The lines of every host's section, a blank line between sections."""
    lines: list[str] = []
    for host, result in results.items():
        if lines:
            lines.append("")
        lines.append(f"== {host} ==")
        if isinstance(result, Exception):
            lines.append(f"error: {type(result).__name__}: {safe(str(result))}")
        else:
            lines.extend(table(result))
    return lines
