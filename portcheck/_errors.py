"""The error tree. "Port is free" is data; "could not look" is always one of these."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._records import Socket

# Error messages quote at most this much of a tool's output, so that a tool
# printing megabytes of garbage cannot flood a log with it.
_QUOTE_LIMIT = 300


def _quote(text: str) -> str:
    text = text.strip()
    if len(text) > _QUOTE_LIMIT:
        return text[:_QUOTE_LIMIT] + f"... [{len(text) - _QUOTE_LIMIT} more characters]"
    return text


class PortcheckError(Exception):
    """Base class of every error portcheck raises on purpose.

    `host` names the host looked at over ssh, None for this machine; the
    message then starts with it.
    """

    host: str | None = None

    def __str__(self) -> str:
        return _on_host(self.host, super().__str__())


def _on_host(host: str | None, message: str) -> str:
    return message if host is None or message.startswith(f"{host}: ") else f"{host}: {message}"


class NoToolError(PortcheckError, LookupError):
    """No backend could look: every tool tried is missing or unusable.

    `tried` maps each backend name to why it could not be used.
    """

    def __init__(self, platform: str, tried: dict[str, str], *, host: str | None = None) -> None:
        self.platform = platform
        self.tried = dict(tried)
        self.host = host
        reasons = "; ".join(f"{name}: {why}" for name, why in self.tried.items())
        super().__init__(f"no usable tool to list sockets on {platform} ({reasons})")


class UnsupportedError(PortcheckError, ValueError):
    """A tool, platform or combination of both that portcheck does not handle (yet)."""


class ToolError(PortcheckError, OSError):
    """A tool ran and failed: exit status and stderr say how."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr
        detail = _quote(stderr) or "(no message on stderr)"
        super().__init__(f"{' '.join(self.argv)} exited with status {returncode}: {detail}")

    def __str__(self) -> str:
        # OSError's own __str__ formats errno pairs; we pass a single message.
        return _on_host(self.host, str(self.args[0]))


class ToolTimeoutError(PortcheckError, TimeoutError):
    """A tool ran past the timeout; it and its children were killed."""

    def __init__(self, argv: Sequence[str], timeout: float, *, what: str | None = None) -> None:
        self.argv = list(argv)
        self.timeout = timeout
        self.what = what
        # `what`: not a tool but portcheck's own reading (of /proc, say): nothing was killed.
        done = f"{what} {' '.join(self.argv)}" if what else " ".join(self.argv)
        ending = "" if what else " and was killed"
        super().__init__(f"{done} did not finish within {timeout:g} s{ending}")

    def __str__(self) -> str:
        return _on_host(self.host, str(self.args[0]))


class ParseError(PortcheckError, ValueError):
    """A line of a tool's output that the parser cannot read."""

    def __init__(self, tool: str, lineno: int, line: str, reason: str) -> None:
        self.tool = tool
        self.lineno = lineno
        self.line = line
        self.reason = reason
        # The reason may quote the offending token, as long as the line itself.
        super().__init__(
            f"cannot parse {tool} output, line {lineno}: {_quote(reason)}: {_quote(line)!r}"
        )


class RemoteError(PortcheckError):
    """ssh could not run a command on `host` (base of the remote errors below).

    Raised as itself when ssh failed for a reason none of the subclasses
    names; `stderr` is what ssh printed.
    """

    def __init__(self, host: str, message: str, stderr: str = "") -> None:
        self.host = host
        self.stderr = stderr
        detail = _quote(stderr)
        super().__init__(f"{message}: {detail}" if detail else message)

    def __str__(self) -> str:
        return _on_host(self.host, str(self.args[0]))


class HostUnreachableError(RemoteError, ConnectionError):
    """The host could not be reached: no such name, connection refused or timed out."""


class AuthenticationError(RemoteError, PermissionError):
    """The host refused to let us in (no key or agent it accepts; ssh runs in batch mode)."""


class HostKeyError(AuthenticationError):
    """The host's key is unknown or does not match known_hosts: ssh refused to trust it."""


class RemoteTimeoutError(ToolTimeoutError):
    """Looking at the host took longer than the timeout; the ssh client was killed."""

    def __init__(self, host: str, argv: Sequence[str], timeout: float) -> None:
        super().__init__(argv, timeout)
        self.host = host


class WaitTimeoutError(PortcheckError, TimeoutError):
    """A wait gave up: the condition never held.

    `port`, `condition` ("free", "listening" or "open"), `timeout` (seconds)
    and `owners`, the sockets seen on the port at the last look (for "free":
    what still holds it; for "listening": whatever was there instead of a
    listener, often nothing). `seen` names those owners in words, for the
    message.

    From `wait_until_open` (condition "open"): `last_errors` maps each target
    still down to its last error in words ("refused", "timed out", "no
    route", "name not resolved"), `opened` each target that answered to the
    seconds it took, and `port` is the first target still down's port;
    `owners` is empty. Both are empty for the other waits.
    """

    def __init__(
        self,
        port: int,
        condition: str,
        timeout: float,
        owners: Sequence[Socket],
        seen: str = "",
        *,
        last_errors: Mapping[str, str] | None = None,
        opened: Mapping[str, float] | None = None,
    ) -> None:
        self.port = port
        self.condition = condition
        self.timeout = timeout
        self.owners = list(owners)
        self.last_errors = dict(last_errors or {})
        self.opened = dict(opened or {})
        if self.last_errors:
            down = ", ".join(f"{t} ({why})" for t, why in self.last_errors.items())
            message = f"not open after {timeout:g} s: {down}"
        else:
            message = f"port {port} was not {condition} after {timeout:g} s" + (
                f"; last seen: {seen}" if seen else ""
            )
        super().__init__(message)

    @classmethod
    def not_open(
        cls, timeout: float, last_errors: Mapping[str, str], opened: Mapping[str, float]
    ) -> WaitTimeoutError:
        """The error of `wait_until_open`: `last_errors` of the targets still down (not empty)."""
        first = next(iter(last_errors))
        port = int(first.rpartition(":")[2])
        return cls(port, "open", timeout, [], last_errors=last_errors, opened=opened)

    def __str__(self) -> str:
        return str(self.args[0])


_SKIP_WORDS = {
    "in_use": "in use",
    "reserved": "reserved",
    "privileged": "privileged",
    "ephemeral": "in the ephemeral range",
    "bind_refused": "refused a bind",
}


class NoFreePortError(PortcheckError, LookupError):
    """The range holds fewer free ports than wanted.

    `found` are the free ports it does hold (fewer than `wanted`), `first`
    and `last` the range searched, and `skipped` counts the other ports of
    the range by the reason they were passed over: "in_use", "reserved",
    "privileged", "ephemeral", "bind_refused".
    """

    def __init__(
        self, first: int, last: int, wanted: int, found: Sequence[int], skipped: dict[str, int]
    ) -> None:
        self.first = first
        self.last = last
        self.wanted = wanted
        self.found = list(found)
        self.skipped = dict(skipped)
        why = ", ".join(f"{n} {_SKIP_WORDS[k]}" for k, n in self.skipped.items() if n)
        super().__init__(
            f"found {len(self.found)} free port{'s' if len(self.found) != 1 else ''} "
            f"of {wanted} wanted in {first}-{last}" + (f" ({why})" if why else "")
        )


class PortInUseError(PortcheckError, OSError):
    """`portcheck run --port P`: the port cannot be used, and `owners` hold it (maybe none).

    `reason` says why in words ("in use", "reserved", "privileged (needs
    root)", "refused by bind"...).
    """

    def __init__(self, port: int, owners: Sequence[Socket], *, reason: str = "in use") -> None:
        self.port = port
        self.owners = list(owners)
        self.reason = reason
        super().__init__(f"port {port} is {reason}")

    def __str__(self) -> str:
        return str(self.args[0])
