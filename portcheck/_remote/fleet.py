"""Many hosts at once: `who_owns_across`, and the per-host looks of `portcheck --host`.

Each host is looked at in a thread of a bounded pool (ssh does the waiting;
the threads only wait for it). A host that cannot be looked at gives its
error in place of its answer: one failing host never hides the others, and
never reads as a free port. That holds for every error, portcheck's own
(unreachable, no tool, a timeout, a bad reply) and any unexpected one
(`UnexpectedHostError`, wrapping it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Union

from .._errors import PortcheckError
from .._validate import check_port, check_seconds

if TYPE_CHECKING:
    from .._records import Socket
    from .._run import Runner

# What one host gave: the sockets of each port asked, or why it could not look.
HostResult = Union["dict[int, list[Socket]]", PortcheckError]


def who_owns_across(
    port: int,
    hosts: Iterable[str],
    *,
    max_workers: int = 8,
    timeout: float = 10.0,
) -> dict[str, list[Socket] | PortcheckError]:
    """`who_owns(port, host=h)` for every host `h`, at most `max_workers` at a time.

    Returns host -> its sockets on `port` (empty: free there), or the
    `PortcheckError` that host raised (unreachable, refused login, no tool,
    timeout...), in the order the hosts were given, each host once. `timeout`
    bounds the look at each host. Every host string is checked before any is
    looked at: one that is not a host raises ValueError.
    """
    found = look_across([port], hosts, max_workers=max_workers, timeout=timeout)
    return {h: r if isinstance(r, PortcheckError) else r[port] for h, r in found.items()}


def look_across(
    ports: Sequence[int],
    hosts: Iterable[str],
    *,
    max_workers: int = 8,
    timeout: float = 10.0,
    tool: str | None = None,
    runner: Runner | None = None,
) -> dict[str, HostResult]:
    """Each host's sockets on each of `ports` (one ssh connection per host), or its error."""
    from .hosts import parse_host

    ports = [check_port(p) for p in ports]
    check_seconds("timeout", timeout)
    if isinstance(hosts, str):
        raise TypeError("hosts must be a collection of host strings, not one string")
    if not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1:
        raise ValueError(f"max_workers must be a positive integer, not {max_workers!r}")
    unique = list(dict.fromkeys(hosts))
    for host in unique:
        parse_host(host)
    if not unique:
        return {}
    with ThreadPoolExecutor(max_workers=min(max_workers, len(unique))) as pool:
        futures = {h: pool.submit(_look, h, ports, timeout, tool, runner) for h in unique}
        return {h: f.result() for h, f in futures.items()}


def _look(
    host: str, ports: Sequence[int], timeout: float, tool: str | None, runner: Runner | None
) -> HostResult:
    from .._lookup import lookup
    from .probe import connect

    try:
        ctx = connect(host, timeout=timeout, runner=runner)
        return {port: lookup(port, tool=tool, context=ctx) for port in ports}
    except PortcheckError as exc:
        if exc.host is None:
            exc.host = host  # no ssh client here, say: still this host's answer
        return exc
    except Exception as exc:  # noqa: BLE001 - one host's bug is that host's answer
        return UnexpectedHostError(host, exc)


class UnexpectedHostError(PortcheckError):
    """Looking at `host` failed in a way portcheck did not foresee (a bug to report).

    Returned as that host's answer, so that the other hosts' answers are kept;
    `error` is the original exception.
    """

    def __init__(self, host: str, error: Exception) -> None:
        self.host = host
        self.error = error
        super().__init__(
            f"unexpected {type(error).__name__}: {error} (please report it, with --debug)"
        )
