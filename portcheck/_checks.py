"""Validation of what a caller passes, before anything runs: ports and seconds."""

from __future__ import annotations

import math
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


def check_seconds(name: str, value: object, *, allow_zero: bool = False) -> float:
    """A finite number of seconds, > 0 (or >= 0 with `allow_zero`); TypeError/ValueError else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    seconds = float(value)
    low_ok = seconds >= 0 if allow_zero else seconds > 0
    if not low_ok or not math.isfinite(seconds):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} seconds, not {value}")
    return seconds
