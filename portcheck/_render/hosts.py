"""`portcheck PORT --host H ...`: one section per host, its table or its error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .table import table
from .words import safe

if TYPE_CHECKING:
    from .._remote.fleet import HostResult


def sections(results: dict[str, HostResult], *, strict: bool = False) -> list[str]:
    """The lines of every host that answered, a blank line between sections.

    A host's error is not here: it goes to stderr, as every error does.
    """
    lines: list[str] = []
    for host, result in results.items():
        if isinstance(result, Exception):
            continue
        if lines:
            lines.append("")
        lines.append(f"== {safe(host)} ==")
        lines.extend(table(result, strict=strict))
    return lines
