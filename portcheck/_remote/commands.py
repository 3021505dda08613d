"""The command lines sent to a host, shared by the ssh runner and the Ansible plugins.

Only constant words, absolute tool paths and validated numbers are ever sent:
each word is checked against a strict pattern and quoted for POSIX shells,
and Windows hosts get one of a fixed set of commands. The one program sent
through `sh -c` is constant text (`_parsers.proc_frames.SCRIPT`); its
arguments are checked words like any other.

A command that breaks these rules (a word too long, a character outside the
pattern) is never sent: it is a `RemoteError` naming the host, so one host's
odd answer (a port with hundreds of owners) is that host's failure, not a
crash. Backends keep their words short by sending pid lists in chunks
(`_backends.posix.pid_chunks`).
"""

from __future__ import annotations

import ntpath
import posixpath
import re
import shlex
from collections.abc import Mapping, Sequence

from .._errors import RemoteError
from .._parsers.proc_frames import NAME as _SCRIPT_NAME
from .._parsers.proc_frames import SCRIPT as _SCRIPT
from .._parsers.win32_process import COMMAND as _PS_COMMAND
from .._records import Platform

# Every word sent to a POSIX host: constant flags, paths the probe found,
# the port and integers. No quote, space, `$`, `;`, `*`, `~` or newline.
_WORD = re.compile(r"[A-Za-z0-9_@%+=:,./-]{1,200}")
MAX_WORD = 200
# The only programs sent through `/bin/sh -c`, with the $0 each runs as.
_SCRIPTS: dict[str, str] = {_SCRIPT: _SCRIPT_NAME}
# Programs that would run a word as code: never sent but with one of _SCRIPTS.
_SHELLS = frozenset({"sh", "bash", "dash", "ksh", "zsh", "ash", "env", "busybox"})
# The only commands sent to a Windows host, by executable and arguments.
_WINDOWS_COMMANDS: frozenset[tuple[str, ...]] = frozenset(
    {
        ("netstat.exe", "-ano"),
        ("tasklist.exe", "/SVC", "/FO", "CSV", "/NH"),
        ("netsh.exe", "int", "ipv4", "show", "dynamicport", "tcp"),
    }
)
# PowerShell, whose one command holds spaces and `|`: sent inside double quotes,
# where cmd.exe reads `|` as text.
_POWERSHELL = ("-NoProfile", "-NonInteractive", "-Command", _PS_COMMAND)


def posix_command(argv: Sequence[str], env: str = "/usr/bin/env") -> str:
    """The command line for a POSIX host: `env LC_ALL=C argv...`, each word checked and quoted."""
    words = [env, "LC_ALL=C", *argv]
    script = _script(argv)
    for index, word in enumerate(words):
        if script and index == 4:
            continue  # the constant program itself, checked by `_script`
        if len(word) > MAX_WORD:
            raise ValueError(f"refusing to send a word of {len(word)} characters: {word[:40]!r}...")
        if not _WORD.fullmatch(word):
            raise ValueError(f"refusing to send {word!r} to a remote host")
    if not argv or not argv[0].startswith("/"):
        raise ValueError("remote tools run by absolute path only")
    if not script and posixpath.basename(argv[0]) in _SHELLS:
        raise ValueError("only the constant owner program runs through a shell")
    return " ".join(shlex.quote(w) for w in words)


def _script(argv: Sequence[str]) -> bool:
    """True for `/bin/sh -c SCRIPT NAME ...` with one of the constant programs."""
    if len(argv) < 4 or tuple(argv[:2]) != ("/bin/sh", "-c") or argv[2] not in _SCRIPTS:
        return False
    return argv[3] == _SCRIPTS[argv[2]]


def windows_command(argv: Sequence[str]) -> str:
    """The command line for a Windows host (cmd.exe): one of the constant commands only."""
    words = (ntpath.basename(argv[0]).lower(), *argv[1:]) if argv else ()
    if words == ("powershell.exe", *_POWERSHELL):
        exe = "%SystemRoot%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
        return f'cmd /c {exe} {" ".join(_POWERSHELL[:-1])} "{_PS_COMMAND}"'
    if words not in _WINDOWS_COMMANDS:
        raise ValueError(f"refusing to send {' '.join(argv)!r} to a Windows host")
    # `cmd /c` so that %SystemRoot% is expanded under PowerShell too.
    return "cmd /c %SystemRoot%\\System32\\" + " ".join(words)


def remote_command(
    platform: Platform | None, tools: Mapping[str, str], argv: Sequence[str], *, host: str
) -> str:
    """The one command line sent to probed `host` for `argv` (POSIX or Windows form).

    A command the rules above refuse raises `RemoteError` naming the host.
    """
    if platform is None:
        raise ValueError("the host has not been probed yet")
    try:
        if platform is Platform.WINDOWS:
            return windows_command(argv)
        return posix_command(argv, tools.get("env", "/usr/bin/env"))
    except ValueError as exc:
        raise RemoteError(host, f"portcheck refused to send a command: {exc}") from None
