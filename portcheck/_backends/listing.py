"""Every socket of this machine from ONE listing, owners aside: which local ports are taken.

What `find_free_ports` needs: a search over 1,000 ports must not start 1,000
lookups. Per platform, in order, falling through only when a source cannot
look here (as the per-port lookup does):

- Linux: the kernel's socket table (one sock_diag dump per table without a
  port filter, or /proc/net/{tcp,tcp6,udp,udp6}), then `ss -t -u -a -n`,
  then `netstat -t -u -a -n -W`.
- macOS and the BSDs: `netstat -an`, which lists every user's sockets.
- Windows: `netstat.exe -ano`.

Owners are not looked up: that costs a scan of every process, and a taken
port is taken whoever holds it.
"""

from __future__ import annotations

from typing import Callable

from .._errors import NoToolError
from .._parsers import netstat_bsd as _netstat_bsd
from .._parsers import netstat_darwin as _netstat_darwin
from .._parsers import netstat_linux as _netstat_linux
from .._parsers import ss as _ss
from .._records import Platform, Socket
from .context import Context, ToolUnusableError, decode, run_checked, tool_path
from .posix import netstat_an

Listing = Callable[[Context], "list[Socket]"]


def every_socket(ctx: Context) -> list[Socket]:
    """Every TCP and UDP socket the platform's first usable source lists.

    NoToolError naming each source's reason when none can look; the errors
    of a source that looked and failed (ToolError, ParseError) pass through.
    """
    tried: dict[str, str] = {}
    for name, listing in _LISTINGS[ctx.platform]:
        try:
            return listing(ctx)
        except ToolUnusableError as exc:
            tried[name] = str(exc)
    raise NoToolError(ctx.platform.value, tried)


def _kernel_table(ctx: Context) -> list[Socket]:
    if not ctx.local_proc:
        raise ToolUnusableError("procfs reads this machine's /proc, which describes Linux only")
    from . import procfs as _procfs  # imports pwd: not at the top, which Windows imports too

    return [entry.socket for entry in _procfs.socket_table(None)]


def _ss_all(ctx: Context) -> list[Socket]:
    ss = tool_path(ctx, "ss", "iproute2")
    return _ss.parse(decode(run_checked(ctx, [ss, "-t", "-u", "-a", "-n"]).stdout))


def _netstat_linux_all(ctx: Context) -> list[Socket]:
    netstat = tool_path(ctx, "netstat", "net-tools")
    done = run_checked(ctx, [netstat, "-t", "-u", "-a", "-n", "-W"])
    return _netstat_linux.parse(decode(done.stdout))


def _netstat_darwin_all(ctx: Context) -> list[Socket]:
    return netstat_an(ctx, _netstat_darwin.parse)


def _netstat_bsd_all(ctx: Context) -> list[Socket]:
    return netstat_an(ctx, _netstat_bsd.parse)


def _netstat_windows_all(ctx: Context) -> list[Socket]:
    from . import windows as _windows

    return _windows.every_socket(ctx)


_BSD: tuple[tuple[str, Listing], ...] = (("netstat", _netstat_bsd_all),)
_LISTINGS: dict[Platform, tuple[tuple[str, Listing], ...]] = {
    Platform.LINUX: (("procfs", _kernel_table), ("ss", _ss_all), ("netstat", _netstat_linux_all)),
    Platform.DARWIN: (("netstat", _netstat_darwin_all),),
    Platform.FREEBSD: _BSD,
    Platform.NETBSD: _BSD,
    Platform.OPENBSD: _BSD,
    Platform.WINDOWS: (("netstat", _netstat_windows_all),),
}
