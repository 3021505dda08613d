"""Windows backend: `netstat.exe -ano` for the sockets, `tasklist.exe` for the names.

Also `netsh.exe interface ipv4|ipv6 show excludedportrange protocol=tcp|udp`
for the port ranges Windows refuses to bind (`excluded_ranges`, used by
`find_free_ports` and `describe`), and every socket at once for
`find_free_ports` (`every_socket`).

Both run by absolute path under `%SystemRoot%\\System32`: a bare name would let
the current directory supply another `netstat.exe`. Their output is in the
console's OEM code page (cp437, cp850, cp866, cp932, cp936, ...), never UTF-8
unless the system was switched to it, so it is decoded here explicitly.

Process names and the services each hosts (`Socket.units`): one
`tasklist /SVC /FO CSV /NH` call listing every process, rather
than one `tasklist /FI "PID eq N"` per owner. Not measured here (no Windows
machine in CI), but reasoned from how tasklist works: a filter does not make it
cheaper, because tasklist enumerates every process and then applies the
filter, so each call costs a process start plus a full enumeration; filters
are ANDed, so several pids cannot share one call; and a pid that exited in
between prints a translated "INFO: No tasks..." line. One call costs the same
for one owner as for twenty (a dev server port with many worker processes),
and is skipped entirely when no ordinary process owns the port.

Command lines (one string each: Windows passes the line whole and each
program splits it its own way): one fixed PowerShell call, `powershell.exe
-NoProfile -NonInteractive -Command "Get-CimInstance Win32_Process | ...
ConvertTo-Csv"` (`_parsers.win32_process`), by its absolute path under
System32, decoded as UTF-8 or UTF-16 as it arrives. Where PowerShell is
missing or fails, `command` stays None; it is started only when an ordinary
process owns the port.

Users: left None. tasklist shows them only with `/V`, which queries every
process's window title and account and takes seconds, and still cannot name
other users' processes without elevation: no cheap source exists.
"""

from __future__ import annotations

import codecs
import ctypes
import locale
import ntpath
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Callable

import attrs

from .._errors import ParseError, PortcheckError, ToolError
from .._parsers import netsh_excluded as _netsh_excluded
from .._parsers import netstat_windows as _netstat_windows
from .._parsers import tasklist as _tasklist
from .._parsers import win32_process as _win32_process
from .._parsers.netsh_excluded import ExcludedRange
from .._records import Family, Protocol, Socket
from .context import Context, ToolUnusableError, on_port, started_here

_DEFAULT_SYSTEM_ROOT = "C:\\Windows"
# A drive-letter path; a relative or drive-relative %SystemRoot% would again let
# the current directory choose the executable.
_ABSOLUTE_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")
_NETSH_FAMILIES = {Family.IPV4: "ipv4", Family.IPV6: "ipv6"}


def oem_code_page() -> int | None:
    """The system's OEM code page (437, 850, 932, ...), or None off Windows.

    GetOEMCP, not the parent's GetConsoleOutputCP: the tools run with
    CREATE_NO_WINDOW in a console of their own, which starts in the OEM code
    page whatever `chcp` the caller's console was set to.
    """
    if sys.platform == "win32":
        try:
            return int(ctypes.windll.kernel32.GetOEMCP())
        except (AttributeError, OSError):
            return None
    return None


def decode_console(data: bytes, code_page: int | None) -> str:
    """Text of console output in `code_page`, never failing and never dropping a row.

    Tries the OEM page, then the locale's preferred encoding, each strictly;
    if none fits, decodes with the first of them replacing bad bytes. Rows are
    ASCII in every language, so they survive even a wrong guess; decoding as
    UTF-8 and giving up is what made other tools report "no listeners".
    """
    encodings = _candidate_encodings(code_page)
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode(encodings[0], errors="replace")


def _candidate_encodings(code_page: int | None) -> list[str]:
    names = [f"cp{code_page}"] if code_page is not None else []
    names.append(locale.getpreferredencoding(False))
    known: list[str] = []
    for name in names:
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            continue  # a code page Python has no codec for
        if codec not in known:
            known.append(codec)
    return known or ["utf-8"]


def system32(environ: Mapping[str, str]) -> str:
    """`%SystemRoot%\\System32`, or `C:\\Windows\\System32` when unset or not absolute."""
    root = environ.get("SystemRoot") or environ.get("SYSTEMROOT") or ""
    if not _ABSOLUTE_WINDOWS_PATH.match(root):
        root = _DEFAULT_SYSTEM_ROOT
    return ntpath.join(root, "System32")


def netstat_argv(environ: Mapping[str, str]) -> tuple[str, ...]:
    return (ntpath.join(system32(environ), "netstat.exe"), "-ano")


def tasklist_argv(environ: Mapping[str, str]) -> tuple[str, ...]:
    # /SVC: the services each process hosts, in the same single run as the names.
    return (ntpath.join(system32(environ), "tasklist.exe"), "/SVC", "/FO", "CSV", "/NH")


def powershell_argv(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The one PowerShell call: every process's parent, creation date and command line."""
    exe = ntpath.join(system32(environ), "WindowsPowerShell", "v1.0", "powershell.exe")
    return (exe, "-NoProfile", "-NonInteractive", "-Command", _win32_process.COMMAND)


def lookup(
    port: int | None, ctx: Context, *, code_page: Callable[[], int | None] | None = None
) -> list[Socket]:
    """Sockets on local `port`, with process names; `code_page` replaces GetOEMCP in tests.

    Over ssh (`ctx.remote`) the host's code page is the one its probe read
    with `chcp`, and the tools' paths do not depend on this machine's
    environment (the ssh runner sends them as `%SystemRoot%\\System32\\...`).
    """
    page = _page(ctx, code_page)
    return _add_commands(ctx, _add_names(ctx, on_port(_every_socket(ctx, page), port), page))


def every_socket(
    ctx: Context, *, code_page: Callable[[], int | None] | None = None
) -> list[Socket]:
    """Every socket `netstat -ano` lists, with pids but without names (one run)."""
    return _every_socket(ctx, _page(ctx, code_page))


def _page(ctx: Context, code_page: Callable[[], int | None] | None) -> int | None:
    if code_page is not None:
        return code_page()
    return ctx.code_page if ctx.remote is not None else oem_code_page()


def _environ(ctx: Context) -> Mapping[str, str]:
    """Where %SystemRoot% comes from: this machine's environment, or none over ssh."""
    return {} if ctx.remote is not None else os.environ


def _every_socket(ctx: Context, page: int | None) -> list[Socket]:
    argv = netstat_argv(_environ(ctx))
    text = _run_text(ctx, argv, page)
    everything = _netstat_windows.parse(text)
    if not everything:
        # Windows always has sockets (RPC listens on 135): no row at all means
        # the output was not understood, which must not read as "port free".
        raise ToolError(argv, 0, f"no socket rows in its output: {text[:200]!r}")
    return everything


def netsh_excluded_argv(
    environ: Mapping[str, str], family: Family, protocol: Protocol
) -> tuple[str, ...]:
    """`netsh interface ipv4 show excludedportrange protocol=tcp` (or ipv6, udp)."""
    return (
        ntpath.join(system32(environ), "netsh.exe"),
        "interface",
        _NETSH_FAMILIES[family],
        "show",
        "excludedportrange",
        f"protocol={protocol.value}",
    )


def excluded_ranges(
    ctx: Context,
    family: Family,
    protocol: Protocol,
    *,
    code_page: Callable[[], int | None] | None = None,
) -> tuple[str, list[ExcludedRange]]:
    """(source, ranges): the port ranges Windows excludes from binding for `family`, `protocol`.

    `source` is the command line that said so. ToolUnusableError when netsh
    cannot run, ToolError when it fails (the subcommand is missing before
    Windows Vista SP1), ParseError when its output is not the range table.
    """
    argv = netsh_excluded_argv(_environ(ctx), family, protocol)
    text = _run_text(ctx, argv, _page(ctx, code_page))
    return " ".join(("netsh", *argv[1:])), _netsh_excluded.parse(text)


def _run_text(ctx: Context, argv: Sequence[str], page: int | None) -> str:
    try:
        done = ctx.runner.run(argv, timeout=ctx.timeout)
    except PortcheckError:
        raise  # a timeout is an answer ("could not look"), not a missing tool
    except OSError as exc:
        # Missing file, access denied, not a Win32 program: this tool cannot run here.
        raise ToolUnusableError(f"{argv[0]} cannot run ({exc})") from None
    if done.returncode != 0:
        raise ToolError(argv, done.returncode, decode_console(done.stderr, page))
    return decode_console(done.stdout, page)


def _add_names(ctx: Context, sockets: list[Socket], page: int | None) -> list[Socket]:
    wanted = {s.pid for s in sockets if s.pid is not None and s.process is None}
    if not wanted:
        return sockets  # free port, or only PID 0/4: no need to start tasklist
    names, services = _process_names(ctx, page)
    return [_named(s, names, services) for s in sockets]


def _add_commands(ctx: Context, sockets: list[Socket]) -> list[Socket]:
    """Each owner's command line, parent and (on this machine) start time, from PowerShell."""
    wanted = {s.pid for s in sockets if s.pid is not None and not s.system_process}
    if not wanted:
        return sockets
    found = processes(ctx)
    return [
        _identified(s, found[s.pid], ctx) if s.pid in wanted and s.pid in found else s
        for s in sockets
    ]


def _identified(sock: Socket, process: _win32_process.Win32Process, ctx: Context) -> Socket:
    command = (process.command,) if process.command is not None else sock.command
    started = started_here(process.started, ctx)
    return attrs.evolve(sock, command=command, parent=process.ppid, started=started)


def processes(ctx: Context) -> dict[int, _win32_process.Win32Process]:
    """Every process's parent, start and command line; {} when PowerShell is absent or fails."""
    try:
        done = ctx.runner.run(powershell_argv(_environ(ctx)), timeout=ctx.timeout)
    except OSError:  # missing, not allowed, timed out (ToolTimeoutError is an OSError)
        return {}
    if done.returncode != 0:
        return {}
    return _win32_process.parse(_win32_process.decode(done.stdout))


def _named(
    sock: Socket, names: Mapping[int, str], services: Mapping[int, tuple[str, ...]]
) -> Socket:
    if sock.pid is None or sock.system_process:
        return sock
    name = names.get(sock.pid)
    units = services.get(sock.pid, ())
    if (name is None or sock.process is not None) and not units:
        return sock
    return attrs.evolve(sock, process=sock.process or name, units=units)


def _process_names(
    ctx: Context, page: int | None
) -> tuple[dict[int, str], dict[int, tuple[str, ...]]]:
    """Every process's name and services; empty when tasklist fails: the pids still answer."""
    try:
        text = _run_text(ctx, tasklist_argv(_environ(ctx)), page)
        return _tasklist.parse(text), _tasklist.parse_services(text)
    except (OSError, ToolUnusableError, ParseError):
        # ToolError and ToolTimeoutError are OSErrors. A missing name is shown
        # as process None, as for a process that exited before tasklist ran.
        return {}, {}
