"""This system's ephemeral port range: where the kernel picks ports for outgoing connections.

Read per platform, parsed apart from reading:

- Linux: the file `/proc/sys/net/ipv4/ip_local_port_range`, two numbers:
  ``32768	60999``
- macOS, FreeBSD: `sysctl -n net.inet.ip.portrange.first net.inet.ip.portrange.last`;
  NetBSD: `sysctl -n net.inet.ip.anonportmin net.inet.ip.anonportmax`;
  OpenBSD: `sysctl -n net.inet.ip.porthifirst net.inet.ip.porthilast`;
  one number a line: ``49152`` then ``65535``.
- Windows: `netsh int ipv4 show dynamicport tcp`, read by shape because the
  labels are translated: the first two `label : number` lines are the start
  port and the number of ports (``Start Port      : 49152``,
  ``Number of Ports : 16384``).

When the range cannot be read (no /proc, no sysctl, a locked-down sandbox) the
platform's documented default is used and marked as such.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import attrs

from .._parsers.port_ranges import parse_netsh, parse_pair
from .._records import Platform

if TYPE_CHECKING:
    from .._backends.context import Context
    from .._run import Runner

LINUX_PATH = "/proc/sys/net/ipv4/ip_local_port_range"

# Documented defaults: Linux since 2.6.x (Documentation/networking/ip-sysctl),
# the IANA dynamic range on macOS, NetBSD, OpenBSD and Windows (Vista and
# later), and FreeBSD's IPPORT_EPHEMERALFIRST/LAST (10000-65535 since 7.0).
DEFAULTS: dict[Platform, tuple[int, int]] = {
    Platform.LINUX: (32768, 60999),
    Platform.DARWIN: (49152, 65535),
    Platform.FREEBSD: (10000, 65535),
    Platform.NETBSD: (49152, 65535),
    Platform.OPENBSD: (49152, 65535),
    Platform.WINDOWS: (49152, 65535),
}

_SYSCTL_NAMES: dict[Platform, tuple[str, str]] = {
    Platform.DARWIN: ("net.inet.ip.portrange.first", "net.inet.ip.portrange.last"),
    Platform.FREEBSD: ("net.inet.ip.portrange.first", "net.inet.ip.portrange.last"),
    Platform.NETBSD: ("net.inet.ip.anonportmin", "net.inet.ip.anonportmax"),
    Platform.OPENBSD: ("net.inet.ip.porthifirst", "net.inet.ip.porthilast"),
}
_NETSH_ARGS = ("int", "ipv4", "show", "dynamicport", "tcp")


@attrs.frozen(kw_only=True)
class EphemeralRange:
    """The ports this system hands to outgoing connections, `first` to `last` inclusive.

    `source` says where the numbers come from (a file, a command line, or
    "default"); `default` is True when the range could not be read and the
    platform's documented default stands in for it.
    """

    first: int
    last: int
    source: str
    default: bool = False

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.first <= port <= self.last

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"


def ephemeral_range(*, timeout: float = 5.0, host: str | None = None) -> EphemeralRange:
    """The ephemeral port range of this system (or of `host`, over ssh).

    The platform's documented default stands in when it cannot be read
    (`default` is then True). `timeout` bounds the one tool run it may need
    (`sysctl`, `netsh`; the whole look at `host`), in seconds.
    """
    from .._context import context_for

    return read_range(context_for(host=host, timeout=timeout))


def read_range(ctx: Context) -> EphemeralRange:
    """The range of the system `ctx` looks at (a host over ssh when `ctx.remote`)."""
    found = _read(ctx.platform, ctx.runner, ctx.timeout, remote=ctx.remote is not None)
    if found is not None:
        return found
    first, last = DEFAULTS[ctx.platform]
    return EphemeralRange(first=first, last=last, source="default", default=True)


def _read(
    platform: Platform, runner: Runner, timeout: float, *, remote: bool = False
) -> EphemeralRange | None:
    from .._errors import PortcheckError

    try:
        if platform is Platform.LINUX and remote:
            return _read_remote_linux(runner, timeout)
        if platform is Platform.LINUX:
            return read_linux(LINUX_PATH)
        if platform is Platform.WINDOWS:
            return _read_tool(runner, netsh_argv(), parse_netsh, timeout)
        sysctl = runner.which("sysctl")
        if sysctl is None:
            return None
        return _read_tool(runner, sysctl_argv(sysctl, platform), parse_pair, timeout)
    except (OSError, ValueError, PortcheckError):
        return None  # unreadable here: the caller falls back to the documented default


def _read_remote_linux(runner: Runner, timeout: float) -> EphemeralRange | None:
    """The host's Linux file, through its `cat`: a fixed read-only command over ssh."""
    cat = runner.which("cat")
    if cat is None:
        return None
    found = _read_tool(runner, (cat, LINUX_PATH), parse_pair, timeout)
    return None if found is None else attrs.evolve(found, source=LINUX_PATH)


def read_linux(path: str = LINUX_PATH) -> EphemeralRange:
    """The Linux range from procfs; OSError or ValueError when it cannot be read."""
    with open(path, encoding="ascii") as f:
        first, last = parse_pair(f.read())
    return EphemeralRange(first=first, last=last, source=path)


def sysctl_argv(sysctl: str, platform: Platform) -> tuple[str, ...]:
    """The sysctl call that prints the range on a BSD or macOS: one number a line."""
    return (sysctl, "-n", *_SYSCTL_NAMES[platform])


def netsh_argv() -> tuple[str, ...]:
    """`%SystemRoot%\\System32\\netsh.exe int ipv4 show dynamicport tcp`."""
    import ntpath
    import os

    from .._backends.windows import system32

    return (ntpath.join(system32(os.environ), "netsh.exe"), *_NETSH_ARGS)


def _read_tool(
    runner: Runner,
    argv: tuple[str, ...],
    parse: Callable[[str], tuple[int, int]],
    timeout: float,
) -> EphemeralRange | None:
    done = runner.run(argv, timeout=timeout)
    if done.returncode != 0:
        return None
    # Only ASCII digits are read, so the console code page does not matter.
    first, last = parse(done.stdout.decode("utf-8", errors="replace"))
    name = argv[0].replace("\\", "/").rsplit("/", 1)[-1]
    return EphemeralRange(first=first, last=last, source=" ".join((name, *argv[1:])))
