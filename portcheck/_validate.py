"""Validation of what a caller passes, before anything runs: ports, seconds, protocols."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._records import Protocol


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


# The longest wait any function accepts: longer is a mistake (a timeout in
# milliseconds), and a deadline that far out overflows the clocks' arithmetic.
MAX_SECONDS = 86400.0


def check_seconds(name: str, value: object, *, allow_zero: bool = False) -> float:
    """Seconds, > 0 (or >= 0 with `allow_zero`) and at most one day; TypeError/ValueError else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    try:
        seconds = float(value)
    except OverflowError:  # an int too large for a float
        seconds = float("inf")  # not math.inf: math is a shared library to load at start-up
    low_ok = seconds >= 0 if allow_zero else seconds > 0
    if not low_ok or not seconds <= MAX_SECONDS:  # `not <=` also refuses NaN
        low = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"{name} must be {low} seconds and at most one day ({MAX_SECONDS:g}), not {value}"
        )
    return seconds


def check_protocol(protocol: object, *, allow_none: bool = True) -> tuple[Protocol, ...]:
    """The protocols `protocol` names: "tcp", "udp", "both" (or None) or a `Protocol`.

    Compared by value, so that `Protocol.TCP` and "tcp" mean the same; TypeError
    or ValueError for anything else.
    """
    from ._records import Protocol

    if protocol is None and allow_none:
        return (Protocol.TCP, Protocol.UDP)
    if not isinstance(protocol, str):
        raise TypeError(f"protocol must be 'tcp', 'udp' or 'both', not {type(protocol).__name__}")
    value = protocol.value if isinstance(protocol, Protocol) else protocol
    if value == "both":
        return (Protocol.TCP, Protocol.UDP)
    try:
        return (Protocol(value),)
    except ValueError:
        raise ValueError(f"protocol must be 'tcp', 'udp' or 'both', not {protocol!r}") from None
