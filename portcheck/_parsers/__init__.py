"""Pure parsers: the text a tool printed in, `Socket` records out.

One module per output format. None of them runs a process, reads a file or
imports anything OS-specific (no pwd, grp, fcntl, subprocess, /proc), so that
`portcheck.parse()` works on every OS, Windows included
(tests/parsers/test_pure.py proves it with those modules blocked).

`PARSERS` is the one table from (platform, tool) to parser: `parse()`, the
golden tests, the fuzzer and the security checks all iterate it. Each entry
imports its module on first use, so `import portcheck` stays cheap; mypy still
checks every entry's signature against `Parse` (see the TYPE_CHECKING block).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple, Protocol

from .._errors import UnsupportedError
from .._records import Platform, Socket

TOOLS = ("lsof", "ss", "netstat", "sockstat", "fstat")


class Parse(Protocol):
    """A parser: every TCP/UDP socket in a tool's output; ParseError for a line it cannot read."""

    def __call__(self, text: str, /) -> list[Socket]: ...


class LazyParse(NamedTuple):
    """The `parse` function of module `_parsers.<module>`, imported on its first call.

    A NamedTuple, not an attrs class: this package is imported at every start
    of the command, where each attrs class costs about ten times more.
    """

    module: str

    def __call__(self, text: str, /) -> list[Socket]:
        parse: Parse = importlib.import_module(f"{__name__}.{self.module}").parse
        return parse(text)

    @property
    def format_version(self) -> int:
        """The module's FORMAT_VERSION: raised whenever its records change on purpose."""
        version: int = importlib.import_module(f"{__name__}.{self.module}").FORMAT_VERSION
        return version


PARSERS: dict[tuple[Platform, str], LazyParse] = {
    (Platform.LINUX, "lsof"): LazyParse("lsof"),
    (Platform.LINUX, "ss"): LazyParse("ss"),
    (Platform.LINUX, "netstat"): LazyParse("netstat_linux"),
    (Platform.DARWIN, "lsof"): LazyParse("lsof"),
    (Platform.DARWIN, "netstat"): LazyParse("netstat_darwin"),
    (Platform.FREEBSD, "lsof"): LazyParse("lsof"),
    (Platform.FREEBSD, "netstat"): LazyParse("netstat_bsd"),
    (Platform.FREEBSD, "sockstat"): LazyParse("sockstat"),
    (Platform.NETBSD, "netstat"): LazyParse("netstat_bsd"),
    (Platform.NETBSD, "sockstat"): LazyParse("sockstat"),
    (Platform.OPENBSD, "netstat"): LazyParse("netstat_bsd"),
    (Platform.OPENBSD, "fstat"): LazyParse("fstat"),
    (Platform.WINDOWS, "netstat"): LazyParse("netstat_windows"),
}

if TYPE_CHECKING:  # mypy checks that every module named above has a `Parse`.
    from . import (
        fstat,
        lsof,
        netstat_bsd,
        netstat_darwin,
        netstat_linux,
        netstat_windows,
        sockstat,
        ss,
    )

    _CHECKED: tuple[Parse, ...] = (
        fstat.parse,
        lsof.parse,
        ss.parse,
        netstat_linux.parse,
        netstat_darwin.parse,
        netstat_bsd.parse,
        sockstat.parse,
        netstat_windows.parse,
    )


def parser(tool: str, platform: str | Platform) -> LazyParse:
    """The parser for `tool` output captured on `platform` (its module named, for golden
    files), or UnsupportedError."""
    where = Platform.of(platform)
    if tool not in TOOLS:
        raise UnsupportedError(f"unknown tool {tool!r}; expected one of {', '.join(TOOLS)}")
    found = PARSERS.get((where, tool))
    if found is None:
        supported = sorted(t for p, t in PARSERS if p is where)
        raise UnsupportedError(
            f"parsing {tool} output from {where.value} is not supported yet"
            + (f" (supported there: {', '.join(supported)})" if supported else "")
        )
    return found
