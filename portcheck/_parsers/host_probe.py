"""The answers of the remote probes (`_remote/probe.py`): what system a host is.

Pure: text in, `HostInfo` out. The POSIX probe prints `uname -s`, `id -u`
and `tool=/abs/path` lines; the Windows one `ver` and `chcp`.
"""

from __future__ import annotations

import re

import attrs

from .._errors import UnsupportedError
from .._records import Platform

# The tools the backends (and describe) may ask the runner for on a POSIX host.
REMOTE_TOOLS = (
    "ss", "lsof", "netstat", "sockstat", "ps", "getent", "sysctl", "cat", "env", "od",
    "launchctl",
)  # fmt: skip
_UNAMES = {
    "Linux": Platform.LINUX,
    "Darwin": Platform.DARWIN,
    "FreeBSD": Platform.FREEBSD,
    "NetBSD": Platform.NETBSD,
    "OpenBSD": Platform.OPENBSD,
}
# A path the probe reported: absolute, and only characters a tool path has.
_SAFE_PATH = re.compile(r"/[A-Za-z0-9_.+/-]{1,200}")


@attrs.frozen(kw_only=True)
class HostInfo:
    """What the probe learnt about a host: its platform, whether the ssh user is
    root, the tools found (POSIX) and the OEM code page (Windows)."""

    platform: Platform
    privileged: bool
    tools: dict[str, str] = attrs.field(factory=dict)
    code_page: int | None = None


def parse_posix_probe(host: str, text: str) -> HostInfo | None:
    """The answer of `POSIX_PROBE`, or None when the host did not run it (not POSIX).

    UnsupportedError for a POSIX system portcheck has no backends for.
    """
    lines = text.splitlines()
    if len(lines) < 2 or not lines[1].strip().isdigit():
        return None
    system = lines[0].strip()
    platform = _UNAMES.get(system)
    if platform is None:
        raise UnsupportedError(f"{host}: no backends for {system[:40]!r} (uname -s)")
    tools: dict[str, str] = {}
    for line in lines[2:]:
        name, _, path = line.strip().partition("=")
        if name in REMOTE_TOOLS and _SAFE_PATH.fullmatch(path) and ".." not in path:
            tools[name] = path
    return HostInfo(platform=platform, privileged=int(lines[1].strip()) == 0, tools=tools)


def parse_windows_probe(text: str) -> HostInfo | None:
    """The answer of `WINDOWS_PROBE` (`ver`, then `chcp`), or None when not Windows.

    `chcp` prints its label in the system's language ("Active code page: 850",
    "Aktive Codepage: 850."): the last number on its line is the code page.
    """
    if "Windows" not in text:
        return None
    page = None
    for line in text.splitlines():
        if "Windows" in line:
            continue
        numbers = re.findall(r"\d+", line)
        if numbers:
            page = int(numbers[-1])
    return HostInfo(platform=Platform.WINDOWS, privileged=False, code_page=page)
