"""Validation of the port a caller asks about, before anything runs."""

from __future__ import annotations

import operator


def check_port(port: object) -> int:
    """The port as an int, or TypeError/ValueError for anything else.

    `True` is refused although bool is an int subclass, and so are "80" and
    80.0: a script passing them has a bug worth hearing about. Port 0 is
    refused too: binding to 0 asks the kernel for any free port, so no socket
    "owns" it.
    """
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port must be an int, not {type(port).__name__} ({port!r})")
    port = operator.index(port)
    if not 1 <= port <= 65535:
        raise ValueError(f"port must be between 1 and 65535, not {port}")
    return port
