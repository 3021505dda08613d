"""The one place that knows which tools each platform has, and in what order to try them.

Parsers and backends are named by module and function and imported on first
use, so that `import portcheck` stays cheap and every module imports on every OS.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Callable

from ._errors import UnsupportedError

if TYPE_CHECKING:
    from ._backend import Context
    from ._records import Socket

PLATFORMS = ("linux", "darwin", "freebsd", "netbsd", "openbsd", "windows")
TOOLS = ("lsof", "ss", "netstat", "sockstat")

# (platform, tool) -> "module:function" of the pure parser for that output.
_PARSERS: dict[tuple[str, str], str] = {
    ("linux", "lsof"): "_lsof:parse",
    ("linux", "ss"): "_ss:parse",
    ("linux", "netstat"): "_netstat_linux:parse",
    ("darwin", "lsof"): "_lsof:parse",
    ("freebsd", "lsof"): "_lsof:parse",
    ("darwin", "netstat"): "_netstat_darwin:parse",
    ("freebsd", "netstat"): "_netstat_bsd:parse",
    ("netbsd", "netstat"): "_netstat_bsd:parse",
    ("openbsd", "netstat"): "_netstat_bsd:parse",
    ("freebsd", "sockstat"): "_sockstat:parse",
    ("netbsd", "sockstat"): "_sockstat:parse",
    ("windows", "netstat"): "_netstat_windows:parse",
}

# platform -> backends in the order they are tried, each "name": "module:function".
# Linux: procfs first, because it answers from the same kernel tables as the
# tools without starting a process and was the fastest in bench/ (see README);
# the tools follow for systems where /proc is restricted.
_BACKENDS: dict[str, dict[str, str]] = {
    "linux": {
        "procfs": "_procfs:lookup",
        "ss": "_ss:lookup",
        "lsof": "_lsof:lookup",
        "netstat": "_netstat_linux:lookup",
    },
    "darwin": {"lsof": "_darwin:lookup_lsof", "netstat": "_darwin:lookup_netstat"},
    "freebsd": {
        "sockstat": "_bsd:lookup_sockstat",
        "lsof": "_bsd:lookup_lsof",
        "netstat": "_bsd:lookup_netstat",
    },
    "netbsd": {"sockstat": "_bsd:lookup_sockstat", "netstat": "_bsd:lookup_netstat"},
    "openbsd": {"netstat": "_bsd:lookup_netstat"},
    "windows": {"netstat": "_windows:lookup"},
}


def current_platform() -> str:
    """This system's platform name, as `parse` and `who_owns` spell it."""
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform.startswith("freebsd"):
        return "freebsd"
    if sys.platform.startswith("netbsd"):
        return "netbsd"
    if sys.platform.startswith("openbsd"):
        return "openbsd"
    if sys.platform == "win32":
        return "windows"
    return sys.platform  # "darwin", or an unknown system refused by check_platform


def check_platform(platform: str) -> str:
    if platform not in PLATFORMS:
        raise UnsupportedError(
            f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}"
        )
    return platform


def _load(spec: str) -> Callable[..., list[Socket]]:
    module, _, function = spec.partition(":")
    func: Callable[..., list[Socket]] = getattr(
        importlib.import_module(f"portcheck.{module}"), function
    )
    return func


def parser(tool: str, platform: str) -> Callable[[str], list[Socket]]:
    """The parser for `tool` output captured on `platform`, or UnsupportedError."""
    check_platform(platform)
    if tool not in TOOLS:
        raise UnsupportedError(f"unknown tool {tool!r}; expected one of {', '.join(TOOLS)}")
    spec = _PARSERS.get((platform, tool))
    if spec is None:
        supported = sorted(t for p, t in _PARSERS if p == platform)
        raise UnsupportedError(
            f"parsing {tool} output from {platform} is not supported yet"
            + (f" (supported there: {', '.join(supported)})" if supported else "")
        )
    return _load(spec)


def backend_names(platform: str) -> list[str]:
    """Names of the backends of `platform`, in the order they are tried."""
    check_platform(platform)
    specs = _BACKENDS.get(platform)
    if specs is None:
        raise UnsupportedError(f"looking up ports on {platform} is not supported yet")
    return list(specs)


def backend(platform: str, name: str) -> Callable[[int, Context], list[Socket]]:
    """The lookup function of backend `name` on `platform`, or UnsupportedError."""
    names = backend_names(platform)
    if name not in names:
        raise UnsupportedError(
            f"no backend {name!r} on {platform}; expected one of {', '.join(names)}"
        )
    return _load(_BACKENDS[platform][name])
