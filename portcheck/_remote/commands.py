"""The command lines sent to a host, shared by the ssh runner and the Ansible plugins.

Only constant words, absolute tool paths and validated numbers are ever sent:
each word is checked against a strict pattern and quoted for POSIX shells,
and Windows hosts get one of a fixed set of commands.
"""

from __future__ import annotations

import ntpath
import re
import shlex
from collections.abc import Mapping, Sequence

from .._records import Platform

# Every word sent to a POSIX host: constant flags, paths the probe found,
# the port and integers. No quote, space, `$`, `;`, `*`, `~` or newline.
_WORD = re.compile(r"[A-Za-z0-9_@%+=:,./-]{1,200}")
# The only commands sent to a Windows host, by executable and arguments.
_WINDOWS_COMMANDS: frozenset[tuple[str, ...]] = frozenset(
    {
        ("netstat.exe", "-ano"),
        ("tasklist.exe", "/SVC", "/FO", "CSV", "/NH"),
        ("netsh.exe", "int", "ipv4", "show", "dynamicport", "tcp"),
    }
)


def posix_command(argv: Sequence[str], env: str = "/usr/bin/env") -> str:
    """The command line for a POSIX host: `env LC_ALL=C argv...`, each word checked and quoted."""
    words = [env, "LC_ALL=C", *argv]
    for word in words:
        if not _WORD.fullmatch(word):
            raise ValueError(f"refusing to send {word!r} to a remote host")
    if not argv or not argv[0].startswith("/"):
        raise ValueError("remote tools run by absolute path only")
    return " ".join(shlex.quote(w) for w in words)


def windows_command(argv: Sequence[str]) -> str:
    """The command line for a Windows host (cmd.exe): one of the constant commands only."""
    words = (ntpath.basename(argv[0]).lower(), *argv[1:]) if argv else ()
    if words not in _WINDOWS_COMMANDS:
        raise ValueError(f"refusing to send {' '.join(argv)!r} to a Windows host")
    # `cmd /c` so that %SystemRoot% is expanded under PowerShell too.
    return "cmd /c %SystemRoot%\\System32\\" + " ".join(words)


def remote_command(platform: Platform | None, tools: Mapping[str, str], argv: Sequence[str]) -> str:
    """The one command line sent to a probed host for `argv` (POSIX or Windows form)."""
    if platform is None:
        raise ValueError("the host has not been probed yet")
    if platform is Platform.WINDOWS:
        return windows_command(argv)
    return posix_command(argv, tools.get("env", "/usr/bin/env"))
