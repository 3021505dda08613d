"""portcheck: who owns this port?

    >>> import portcheck
    >>> portcheck.who_owns(8080)        # doctest: +SKIP
    [Socket(protocol=<Protocol.TCP: 'tcp'>, ..., pid=4242, process='python3', user='alice', ...)]

An empty list means nothing uses the port; when the lookup cannot see, an
error derived from `PortcheckError` is raised instead.
"""

from __future__ import annotations

from ._errors import (
    NoToolError,
    ParseError,
    PortcheckError,
    ToolError,
    ToolTimeoutError,
    UnsupportedError,
)
from ._lookup import parse, who_owns
from ._records import Endpoint, Family, Protocol, Socket, State

__all__ = [
    "Endpoint",
    "Family",
    "NoToolError",
    "ParseError",
    "PortcheckError",
    "Protocol",
    "Socket",
    "State",
    "ToolError",
    "ToolTimeoutError",
    "UnsupportedError",
    "parse",
    "who_owns",
]

__version__ = "0.1.0"
