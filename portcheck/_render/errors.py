"""Errors as people read them: `portcheck: web1: no answer over ssh within 3 s`.

No class names and no internal command lines (`--debug` prints those): the
tool's name, what went wrong and, for ssh, its own last meaningful line.
`kind()` is the short word the JSON documents carry beside the message.
"""

from __future__ import annotations

import os

from .. import _errors as e
from .words import safe

# Lines ssh prints that never say what went wrong.
_NOISE = ("Warning: Permanently added", "Pseudo-terminal will not be allocated")

_KINDS: tuple[tuple[type[Exception], str], ...] = (
    (e.HostKeyError, "host_key"),
    (e.AuthenticationError, "authentication"),
    (e.HostUnreachableError, "unreachable"),
    (e.RemoteTimeoutError, "timeout"),
    (e.RemoteError, "remote"),
    (e.NoToolError, "no_tool"),
    (e.ToolTimeoutError, "timeout"),
    (e.ToolError, "tool"),
    (e.ParseError, "parse"),
    (e.WaitTimeoutError, "wait_timeout"),
    (e.NoFreePortError, "no_free_port"),
    (e.UnsupportedError, "unsupported"),
    (e.PortcheckError, "error"),
)


def kind(exc: BaseException) -> str:
    """A short word for the error: `unreachable`, `timeout`, `tool`, ..., `unexpected`."""
    for cls, word in _KINDS:
        if isinstance(exc, cls):
            return word
    return "unexpected"


def seconds(value: float) -> str:
    """`3 s` for 2.99999: a limit as the user gave it, not as the clock left it."""
    return f"{round(value, 1):g} s"


def last_line(text: str) -> str:
    """The last line of `text` that says something (ssh's `\\r\\n` and noise dropped)."""
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n")]
    meaningful = [line for line in lines if line and not line.startswith(_NOISE)]
    return meaningful[-1] if meaningful else ""


def message(exc: BaseException) -> str:
    """What went wrong, without the host (see `line`) and without any escaping."""
    if isinstance(exc, e.RemoteTimeoutError):
        return f"no answer over ssh within {seconds(exc.timeout)}"
    if isinstance(exc, e.RemoteError):
        said, quoted = str(exc.args[0]), e._quote(exc.stderr)
        head = said[: -len(quoted) - 2] if quoted and said.endswith(": " + quoted) else said
        tail = last_line(exc.stderr)
        return f"{head}: {tail}" if tail else head
    if isinstance(exc, e.ToolTimeoutError):
        return _timeout(exc)
    if isinstance(exc, e.ToolError):
        tool = os.path.basename(exc.argv[0]) if exc.argv else "a tool"
        why = last_line(exc.stderr) or "(no message on stderr)"
        return f"{tool} exited with status {exc.returncode}: {why}"
    if isinstance(exc, e.PortcheckError):
        text = str(exc)
        host = exc.host
        return text[len(host) + 2 :] if host and text.startswith(f"{host}: ") else text
    detail = f"{type(exc).__name__}: {exc}"
    return f"unexpected {detail} (run with --debug for the traceback, and report it)"


def _timeout(exc: e.ToolTimeoutError) -> str:
    if exc.what is not None:
        # portcheck's own reading (of /proc): nothing was started, nothing killed.
        return f"{exc.what} {' '.join(exc.argv)} did not finish within {seconds(exc.timeout)}"
    tool = os.path.basename(exc.argv[0]) if exc.argv else "a tool"
    return f"{tool} did not finish within {seconds(exc.timeout)} and was killed"


def host_of(exc: BaseException) -> str | None:
    """The host the error happened on, None for this machine."""
    return exc.host if isinstance(exc, e.PortcheckError) else None


def line(exc: BaseException, host: str | None = None) -> str:
    """`portcheck: HOST: message`, every part escaped for a terminal."""
    where = host or host_of(exc)
    prefix = f"{safe(where)}: " if where else ""
    return f"portcheck: {prefix}{safe(message(exc))}"


def to_dict(exc: BaseException) -> dict[str, str]:
    """`{"kind", "message"}`, the error object of every JSON document."""
    return {"kind": kind(exc), "message": message(exc)}
