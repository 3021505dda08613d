"""`who_owns`, `listening`, `sockets` and `parse`: the public entry points, and the one
loop that tries backends."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Callable

from ._errors import NoToolError, PortcheckError
from ._records import Platform, Socket, State, is_listening, record_order
from ._validate import check_port

if TYPE_CHECKING:
    from ._backends import Backend
    from ._backends.context import Context
    from ._listing.allow import Allowed
    from ._listing.select import Selection
    from ._run import Runner

    # Called after each backend tried: the backend, the context it ran with,
    # and the error it raised (None when it answered).
    Observer = Callable[[Backend, Context, "PortcheckError | None"], None]


def parse(text: str, *, tool: str, platform: str | Platform) -> list[Socket]:
    """Every TCP/UDP socket in `text`, the output of `tool` captured on `platform`.

    A pure function: it runs nothing and reads no file (service names aside,
    which come from the services database). Raises `ParseError` naming the line
    it cannot read, and `UnsupportedError` for a tool or platform it does not
    know. Lines of other socket kinds (unix, raw) and headers are skipped.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    from ._parsers import parser

    return parser(tool, platform)(text)


def who_owns(
    port: int, *, tool: str | None = None, timeout: float = 10.0, host: str | None = None
) -> list[Socket]:
    """Every socket whose local port is `port`, one record per (socket, owning process).

    Records come in one order from every backend: by protocol (tcp, udp),
    family (ipv4, ipv6), local address, remote end (unconnected first), state,
    then owner pid ascending (hidden owners last).

    TCP and UDP, IPv4 and IPv6, in any state. An empty list means nothing uses
    the port. When the lookup cannot see, an error is raised instead: never an
    empty list. Sockets whose owner the tool could not see (another user's,
    without root) are returned with `pid=None`.

    `tool` forces one backend (on Linux: "procfs", "ss", "lsof", "netstat");
    without it the platform's backends are tried in order, falling through
    only when one is missing or unusable. `timeout` bounds each tool run, in
    seconds.

    `host` (`"[user@]name[:port]"`, `"[user@][v6addr]:port"`) looks at that
    host instead, over ssh with the system's OpenSSH client, using the host's
    own tools: nothing is installed there. Its platform and the ssh user's
    privileges there are read first; `timeout` then bounds the whole look at
    the host. Errors name the host: `HostUnreachableError`,
    `AuthenticationError` (`HostKeyError`), `RemoteTimeoutError`, and
    `NoToolError` when the host has none of the tools.
    """
    return lookup(port, tool=tool, timeout=timeout, host=host)


def listening(
    *,
    tool: str | None = None,
    timeout: float = 10.0,
    host: str | None = None,
    port: Allowed | int | None = None,
    name: str | None = None,
    pid: int | Iterable[int] | None = None,
    user: str | int | None = None,
    state: str | State | Iterable[str | State] | None = None,
    unit: str | None = None,
    container: str | None = None,
) -> list[Socket]:
    """Every listening socket of this machine (or of `host`, over ssh).

    TCP sockets in LISTEN and UDP sockets bound with no peer (UDP has no
    listen(); that is how UDP servers wait), IPv4 and IPv6, in the order of
    every lookup (`who_owns`). One record per (socket, owning process), with every owner, as
    `who_owns` gives them; sockets whose owner is hidden are kept with
    `pid=None`. When the lookup cannot see, an error is raised: never a
    partial list. `tool`, `timeout` and `host` as for `who_owns`.

    Filters keep only the sockets matching all those given: `port` (`8080`,
    `"22,8000-8100"` or a list of both), `name` (a glob on the process name
    or its executable's, any case), `pid` (one or several), `user` (login
    name or uid), `state` (TCP state names; UDP sockets have none), `unit`
    (a glob on its service-manager units) and `container` (an id prefix, a
    runtime or a pod uid). Port and state are applied before owners are
    read, where the backend allows, so that they make a listing cheaper.
    """
    from ._listing.select import select  # not imported by a lookup of one port

    chosen = select(
        port=port, name=name, pid=pid, user=user, state=state, unit=unit, container=container
    )
    found = lookup(None, tool=tool, timeout=timeout, host=host, scope="listening", selection=chosen)
    if chosen.empty:  # the whole listing: no filter to ask of each of thousands of records
        return [s for s in found if is_listening(s)]
    return [s for s in found if is_listening(s) and chosen.matches(s)]


def sockets(
    *,
    tool: str | None = None,
    timeout: float = 10.0,
    host: str | None = None,
    port: Allowed | int | None = None,
    name: str | None = None,
    pid: int | Iterable[int] | None = None,
    user: str | int | None = None,
    state: str | State | Iterable[str | State] | None = None,
    unit: str | None = None,
    container: str | None = None,
) -> list[Socket]:
    """Every TCP and UDP socket of this machine (or of `host`), in any state.

    The filters are those of `listening`.
    """
    from ._listing.select import select

    chosen = select(
        port=port, name=name, pid=pid, user=user, state=state, unit=unit, container=container
    )
    found = lookup(None, tool=tool, timeout=timeout, host=host, scope="all", selection=chosen)
    return [s for s in found if chosen.matches(s)]


def lookup(
    port: int | None,
    *,
    tool: str | None = None,
    timeout: float = 10.0,
    platform: str | Platform | None = None,
    runner: Runner | None = None,
    host: str | None = None,
    context: Context | None = None,
    wrap: Callable[[Context], Context] | None = None,
    observe: Observer | None = None,
    scope: str = "port",
    selection: Selection | None = None,
) -> list[Socket]:
    """`who_owns` with the platform and runner injectable, for tests and `--raw`.

    The one fallback loop: the platform's backends (or only `tool`) are tried
    in order until one answers; a backend that cannot look here is skipped
    and named in the `NoToolError` raised when none can. `wrap` replaces each
    backend's context (`--raw` records its runner) and `observe` hears how
    each backend fared. `selection` lets backends drop sockets by port and
    state before reading owners (the caller filters the answer). `scope`
    "all" lists every socket and "listening" tells backends only listeners
    are wanted; `port` is then None (the port filter
    keeps all). With the default scope "port", a `port` that is not a port
    number, None included, raises before anything runs.

    Where it looks is `context`, prepared by the caller, or else
    `context_for(host=..., platform=..., runner=..., timeout=...)`.
    """
    if scope == "port":
        port = check_port(port)
    elif scope not in ("all", "listening") or port is not None:
        raise ValueError(
            f"scope {scope!r} with port {port!r}: expected port None and all/listening"
        )
    if context is None:
        from ._context import context_for

        context = context_for(
            host=host, platform=platform, runner=runner, timeout=timeout, listening=False
        )
    elif host is not None or platform is not None:
        raise ValueError("give a context, or host/platform/runner, not both")
    if (scope == "listening" and not context.listening) or selection is not None:
        import attrs

        wanted = None if selection is None or selection.empty else selection
        listen = context.listening or scope == "listening"
        context = attrs.evolve(context, listening=listen, selection=wanted)
    try:
        return _first_answer(port, context, tool, wrap, observe)
    except PortcheckError as exc:
        if exc.host is None and context.remote is not None:
            exc.host = context.remote  # a tool's failure there: say where
        raise


def _first_answer(
    port: int | None,
    base: Context,
    tool: str | None,
    wrap: Callable[[Context], Context] | None,
    observe: Observer | None,
) -> list[Socket]:
    from ._backends import backends
    from ._backends.context import ToolUnusableError, on_port

    tried: dict[str, str] = {}
    for backend in backends(base.platform, tool, remote=base.remote is not None):
        ctx = base if wrap is None else wrap(base)
        try:
            found = backend(port, ctx)
        except ToolUnusableError as exc:
            tried[backend.name] = str(exc)
            if observe is not None:
                observe(backend, ctx, exc)
            continue
        except PortcheckError as exc:
            if observe is not None:
                observe(backend, ctx, exc)
            raise
        if observe is not None:
            observe(backend, ctx, None)
        # One documented order from every backend (tools list pre-fork pids either way).
        return sorted(on_port(found, port), key=record_order)
    raise NoToolError(base.platform.value, tried, host=base.remote)
