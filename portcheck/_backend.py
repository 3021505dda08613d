"""What every backend shares: the lookup context and the ways a tool can fail."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ._errors import PortcheckError, ToolError
from ._run import Completed, Runner


class ToolUnusableError(PortcheckError):
    """Internal: this backend cannot look here (tool missing, BusyBox build, no /proc).

    The dispatcher falls through to the next backend and names the reason in
    the `NoToolError` if none can look.
    """


@attrs.frozen(kw_only=True)
class Context:
    """What a backend needs to look: how to run tools, the time limit, the platform."""

    runner: Runner
    timeout: float
    platform: str


def tool_path(ctx: Context, name: str, package: str) -> str:
    """Absolute path of `name`, or ToolUnusableError naming the package that provides it."""
    path = ctx.runner.which(name)
    if path is None:
        raise ToolUnusableError(f"{name} not found (install {package})")
    return path


def run_checked(ctx: Context, argv: Sequence[str], ok: Sequence[int] = (0,)) -> Completed:
    """Run argv; an exit status outside `ok` raises ToolError with the tool's stderr."""
    done = ctx.runner.run(argv, timeout=ctx.timeout)
    if done.returncode not in ok:
        raise ToolError(argv, done.returncode, decode(done.stderr))
    return done


def decode(data: bytes) -> str:
    """Text of a POSIX tool run with LC_ALL=C: UTF-8, undecodable bytes kept visible.

    Process names are bytes on POSIX; a replacement character is better than
    a crash or a dropped row.
    """
    return data.decode("utf-8", errors="replace")
