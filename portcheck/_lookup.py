"""`who_owns` and `parse`: the public entry points, dispatching to the platform's tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _platforms
from ._errors import NoToolError
from ._ports import check_port
from ._records import Socket

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ._run import Runner


def parse(text: str, *, tool: str, platform: str) -> list[Socket]:
    """Every TCP/UDP socket in `text`, the output of `tool` captured on `platform`.

    A pure function: it runs nothing and reads no file (service names aside,
    which come from the services database). Raises `ParseError` naming the line
    it cannot read, and `UnsupportedError` for a tool or platform it does not
    know. Lines of other socket kinds (unix, raw) and headers are skipped.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    return _platforms.parser(tool, platform)(text)


def who_owns(port: int, *, tool: str | None = None, timeout: float = 10.0) -> list[Socket]:
    """Every socket whose local port is `port`, one record per (socket, owning process).

    TCP and UDP, IPv4 and IPv6, in any state. An empty list means nothing uses
    the port. When the lookup cannot see, an error is raised instead: never an
    empty list. Sockets whose owner the tool could not see (another user's,
    without root) are returned with `pid=None`.

    `tool` forces one backend (on Linux: "procfs", "ss", "lsof", "netstat");
    without it the platform's backends are tried in order, falling through
    only when one is missing or unusable. `timeout` bounds each tool run, in
    seconds.
    """
    return lookup(port, tool=tool, timeout=timeout)


def lookup(
    port: int,
    *,
    tool: str | None = None,
    timeout: float = 10.0,
    platform: str | None = None,
    runner: Runner | None = None,
) -> list[Socket]:
    """`who_owns` with the platform and runner injectable, for tests and `--raw`."""
    port = check_port(port)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number, not {type(timeout).__name__}")
    if not timeout > 0:
        raise ValueError(f"timeout must be positive, not {timeout}")
    from ._backend import Context, ToolUnusableError

    if runner is None:
        from ._run import SystemRunner

        runner = SystemRunner()
    platform = _platforms.check_platform(platform or _platforms.current_platform())
    ctx = Context(runner=runner, timeout=float(timeout), platform=platform)
    names = [tool] if tool is not None else _platforms.backend_names(platform)
    tried: dict[str, str] = {}
    for name in names:
        backend = _platforms.backend(platform, name)
        try:
            found = backend(port, ctx)
        except ToolUnusableError as exc:
            tried[name] = str(exc)
            continue
        return _unique(s for s in found if s.local.port == port)
    raise NoToolError(platform, tried)


def _unique(sockets: Iterable[Socket]) -> list[Socket]:
    """Drop exact repeats (a process holding one socket on two descriptors), keep order."""
    return list(dict.fromkeys(sockets))
