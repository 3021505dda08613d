"""Splitting tool output into lines, the one way every parser does it.

Only `\\n` ends a line (a `\\r` before it is dropped: Windows output and
pasted captures). `str.splitlines()` also breaks at `\\x0b`, `\\x0c`,
`\\x1c`-`\\x1e`, `\\x85` and `\\u2028`, all of which a process may put in its
own name: one process could then break the rows of another.
"""

from __future__ import annotations


def lines(text: str) -> list[str]:
    """The lines of `text`, split at `\\n` only, without their `\\r\\n` or `\\n`."""
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()  # the text's final newline ends the last line; it starts none
    return [p[:-1] if p.endswith("\r") else p for p in parts]
