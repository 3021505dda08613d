"""portcheck: who owns this port?

    >>> import portcheck
    >>> portcheck.who_owns(8080)        # doctest: +SKIP
    [Socket(protocol=<Protocol.TCP: 'tcp'>, ..., pid=4242, process='python3', user='alice', ...)]

An empty list means nothing uses the port; when the lookup cannot see, an
error derived from `PortcheckError` is raised instead. `describe(port)` adds
what the number is and each socket's role; `wait_until_free(port)` and
`wait_until_listening(port)` poll until the condition holds;
`wait_until_open(["db:5432"])` until a TCP connection succeeds;
`find_free_ports(start, end)` picks ports a server can bind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import (
    AuthenticationError,
    HostKeyError,
    HostUnreachableError,
    NoFreePortError,
    NoToolError,
    ParseError,
    PortcheckError,
    RemoteError,
    RemoteTimeoutError,
    ToolError,
    ToolTimeoutError,
    UnsupportedError,
    WaitTimeoutError,
)
from ._lookup import listening, parse, sockets, who_owns
from ._records import (
    Container,
    Endpoint,
    Family,
    IanaRange,
    NoOwner,
    Platform,
    Protocol,
    Role,
    Socket,
    State,
)
from ._version import __version__ as __version__

if TYPE_CHECKING:
    from ._kill.engine import stop_owners
    from ._kill.results import Outcome, OwnerOutcome, Refusal, StopResult
    from ._listing.watch import EventKind, ListenerEvent, watch
    from ._ports.describe import PortReport, PortRole, describe
    from ._ports.ephemeral import EphemeralRange, ephemeral_range
    from ._ports.find import find_free_ports
    from ._ports.reserved import ReservedRange
    from ._remote.fleet import who_owns_across
    from ._wait.connect import wait_until_open
    from ._wait.sockets import wait_until_free, wait_until_listening

# Loaded on first use (PEP 562), so that `import portcheck` costs no more than
# the lookup itself needs: each attrs class defined at import costs time.
_LAZY = {
    "EphemeralRange": "_ports.ephemeral",
    "ephemeral_range": "_ports.ephemeral",
    "PortReport": "_ports.describe",
    "PortRole": "_ports.describe",
    "describe": "_ports.describe",
    "wait_until_free": "_wait.sockets",
    "wait_until_listening": "_wait.sockets",
    "wait_until_open": "_wait.connect",
    "watch": "_listing.watch",
    "ListenerEvent": "_listing.watch",
    "EventKind": "_listing.watch",
    "find_free_ports": "_ports.find",
    "ReservedRange": "_ports.reserved",
    "StopResult": "_kill.results",
    "Outcome": "_kill.results",
    "OwnerOutcome": "_kill.results",
    "Refusal": "_kill.results",
    "stop_owners": "_kill.engine",
    "who_owns_across": "_remote.fleet",
}

__all__ = [
    "AuthenticationError",
    "Container",
    "Endpoint",
    "EphemeralRange",
    "EventKind",
    "Family",
    "HostKeyError",
    "HostUnreachableError",
    "IanaRange",
    "ListenerEvent",
    "NoFreePortError",
    "NoOwner",
    "NoToolError",
    "Outcome",
    "OwnerOutcome",
    "ParseError",
    "Platform",
    "PortReport",
    "PortRole",
    "PortcheckError",
    "Protocol",
    "Refusal",
    "RemoteError",
    "RemoteTimeoutError",
    "ReservedRange",
    "Role",
    "Socket",
    "State",
    "StopResult",
    "ToolError",
    "ToolTimeoutError",
    "UnsupportedError",
    "WaitTimeoutError",
    "describe",
    "ephemeral_range",
    "find_free_ports",
    "listening",
    "parse",
    "sockets",
    "stop_owners",
    "wait_until_free",
    "wait_until_listening",
    "wait_until_open",
    "watch",
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
    # The public names only: not the helpers this module imports for itself.
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
