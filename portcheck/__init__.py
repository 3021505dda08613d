"""portcheck: who owns this port?

    >>> import portcheck
    >>> portcheck.who_owns(8080)        # doctest: +SKIP
    [Socket(protocol=<Protocol.TCP: 'tcp'>, ..., pid=4242, process='python3', user='alice', ...)]

An empty list means nothing uses the port; when the lookup cannot see, an
error derived from `PortcheckError` is raised instead. `describe(port)` adds
what the number is and each socket's role; `wait_until_free(port)` and
`wait_until_listening(port)` poll until the condition holds;
`find_free_ports(start, end)` picks ports a server can bind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import (
    AuthenticationError,
    HostKeyError,
    HostUnreachableError,
    NoToolError,
    ParseError,
    PortcheckError,
    RemoteError,
    RemoteTimeoutError,
    ToolError,
    ToolTimeoutError,
    UnsupportedError,
)
from ._lookup import listening, parse, sockets, who_owns
from ._records import Container, Endpoint, Family, IanaRange, Protocol, Role, Socket, State
from ._version import __version__ as __version__

if TYPE_CHECKING:
    from ._describe import PortReport, SocketRole, describe
    from ._ephemeral import EphemeralRange, ephemeral_range
    from ._fleet import who_owns_across
    from ._free import NoFreePortError, find_free_ports
    from ._free_port import FreePortResult, Outcome, OwnerOutcome, Refusal, free_port
    from ._reserved import ReservedRange
    from ._wait import WaitTimeoutError, wait_until_free, wait_until_listening

# Loaded on first use (PEP 562), so that `import portcheck` costs no more than
# the lookup itself needs: each attrs class defined at import costs time.
_LAZY = {
    "EphemeralRange": "_ephemeral",
    "ephemeral_range": "_ephemeral",
    "PortReport": "_describe",
    "SocketRole": "_describe",
    "describe": "_describe",
    "WaitTimeoutError": "_wait",
    "wait_until_free": "_wait",
    "wait_until_listening": "_wait",
    "NoFreePortError": "_free",
    "find_free_ports": "_free",
    "ReservedRange": "_reserved",
    "FreePortResult": "_free_port",
    "Outcome": "_free_port",
    "OwnerOutcome": "_free_port",
    "Refusal": "_free_port",
    "free_port": "_free_port",
    "who_owns_across": "_fleet",
}

__all__ = [
    "AuthenticationError",
    "Container",
    "Endpoint",
    "EphemeralRange",
    "Family",
    "FreePortResult",
    "HostKeyError",
    "HostUnreachableError",
    "IanaRange",
    "NoFreePortError",
    "NoToolError",
    "Outcome",
    "OwnerOutcome",
    "ParseError",
    "PortReport",
    "PortcheckError",
    "Protocol",
    "Refusal",
    "RemoteError",
    "RemoteTimeoutError",
    "ReservedRange",
    "Role",
    "Socket",
    "SocketRole",
    "State",
    "ToolError",
    "ToolTimeoutError",
    "UnsupportedError",
    "WaitTimeoutError",
    "describe",
    "ephemeral_range",
    "find_free_ports",
    "free_port",
    "listening",
    "parse",
    "sockets",
    "wait_until_free",
    "wait_until_listening",
    "who_owns",
    "who_owns_across",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'portcheck' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"portcheck.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
