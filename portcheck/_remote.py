"""Looking at another host over ssh: the host string, and what the host is.

A remote lookup is the ordinary lookup with a different `Context`: its runner
is an `SshRunner` (`portcheck._ssh`) that runs each tool on the host through
the system OpenSSH client, and its platform and privileges are the host's,
read once by a probe:

- POSIX hosts: one constant `/bin/sh -c` script prints `uname -s`, `id -u`
  and the absolute path of each tool portcheck may run, searched on the
  host's PATH and then in the sbin/bin directories (a non-interactive ssh
  session often lacks /usr/sbin on PATH, where ss may live).
- Windows OpenSSH (cmd.exe or PowerShell as its shell): that script fails,
  and `cmd /c "ver & chcp"` names the system and the OEM code page in which
  the console tools print.

Nothing is copied to the host, and only constant words, the validated port
and validated integers (pids, uids) are ever sent there.

The host string is user input: `parse_host` accepts `[user@]name[:port]`,
`[user@][v6]:port` and a bare IPv6 literal, and refuses anything else before
ssh sees it.
"""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from typing import TYPE_CHECKING, Protocol

import attrs

from ._errors import RemoteError, UnsupportedError
from ._records import Platform
from ._run import Runner

if TYPE_CHECKING:
    from ._backends.context import Context
    from ._run import Completed
    from ._ssh import SshRunner

_USER = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]{0,63}")
# A host name, an ssh_config alias or an IPv4 address: letters, digits, `.`,
# `_` and `-`, not starting with `-` (ssh would read it as an option) or `.`.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}")
_PORT = re.compile(r"[0-9]{1,5}")
_ZONE = re.compile(r"[A-Za-z0-9_.-]{1,32}")

# The tools the backends (and describe) may ask the runner for on a POSIX host.
REMOTE_TOOLS = ("ss", "lsof", "netstat", "sockstat", "ps", "getent", "sysctl", "cat", "env")
_SEARCH = "/usr/sbin /sbin /usr/bin /bin /usr/local/sbin /usr/local/bin"
# The probe: the system's name, the user's uid, then `tool=/abs/path` (empty
# when not found) for each tool. Constant text: nothing in it comes from input.
POSIX_PROBE = (
    "uname -s; id -u; "
    f"for t in {' '.join(REMOTE_TOOLS)}; do p=; "
    f'for d in $(echo "$PATH" | tr : " ") {_SEARCH}; do '
    'case "$d" in /*) ;; *) continue;; esac; '
    'if [ -f "$d/$t" ] && [ -x "$d/$t" ]; then p="$d/$t"; break; fi; done; '
    'echo "$t=$p"; done'
)
WINDOWS_PROBE = 'cmd /c "ver & chcp"'
_UNAMES = {
    "Linux": Platform.LINUX,
    "Darwin": Platform.DARWIN,
    "FreeBSD": Platform.FREEBSD,
    "NetBSD": Platform.NETBSD,
    "OpenBSD": Platform.OPENBSD,
}
# A path the probe reported: absolute, and only characters a tool path has.
_SAFE_PATH = re.compile(r"/[A-Za-z0-9_.+/-]{1,200}")
# How long a probe's answer is reused: as long as ssh keeps the connection.
PROBE_TTL = 60.0


class Prober(Protocol):
    """What runs the probes: the ssh runner, or the Ansible plugins' runner."""

    def run_probe(self, script: str, *, posix: bool) -> Completed:
        """Run one of the constant probes below (POSIX ones through `/bin/sh -c`)."""


class HostRunner(Prober, Runner, Protocol):
    """A runner for one host that learns, from the probe, its platform and tools' paths."""

    platform: Platform | None
    tools: dict[str, str]


@attrs.frozen(kw_only=True)
class Target:
    """A validated host: `host` (name, IPv4 or IPv6 address without brackets),
    optional `user` and `port`, and `text`, the string as given."""

    text: str
    host: str
    user: str | None = None
    port: int | None = None


def parse_host(text: str) -> Target:
    """The `Target` named by `text`; ValueError for anything but the accepted forms.

    `[user@]name[:port]`, `[user@][v6addr]:port`, `[user@][v6addr]` or a bare
    IPv6 literal (`::1`). Refused: an empty string, anything starting with
    `-`, whitespace, control or shell characters, a port outside 1-65535.
    """
    if not isinstance(text, str):
        raise TypeError(f"host must be str, not {type(text).__name__}")
    if not text or text.startswith("-") or not text.isascii() or not text.isprintable():
        raise ValueError(f"not a host: {text!r}")
    user, at, rest = text.rpartition("@")
    if at and not _USER.fullmatch(user):
        raise ValueError(f"not a user name in host {text!r}: {user!r}")
    host, port = _split_port(rest, text)
    return Target(text=text, host=host, user=user or None, port=port)


def _split_port(rest: str, text: str) -> tuple[str, int | None]:
    if rest.startswith("["):
        address, bracket, after = rest[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            raise ValueError(f"not a host: {text!r} (expected [IPv6]:port)")
        return _ipv6(address, text), _port(after[1:], text) if after else None
    if rest.count(":") >= 2:
        return _ipv6(rest, text), None  # a bare IPv6 literal: no port
    name, colon, port = rest.partition(":")
    if not _NAME.fullmatch(name) or name.endswith("-"):
        raise ValueError(f"not a host name in {text!r}: {name!r}")
    return name, _port(port, text) if colon else None


def _ipv6(address: str, text: str) -> str:
    bare, percent, zone = address.partition("%")
    try:
        ipaddress.IPv6Address(bare)
    except ValueError:
        raise ValueError(f"not an IPv6 address in {text!r}: {address!r}") from None
    if percent and not _ZONE.fullmatch(zone):
        raise ValueError(f"not an interface zone in {text!r}: {zone!r}")
    return address


def _port(digits: str, text: str) -> int:
    if not _PORT.fullmatch(digits) or not 1 <= int(digits) <= 65535:
        raise ValueError(f"not a port (1-65535) in host {text!r}: {digits!r}")
    return int(digits)


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


_PROBED: dict[tuple[str, str | None], tuple[float, HostInfo]] = {}
_PROBED_LOCK = threading.Lock()


def connect(
    text: str, *, timeout: float, runner: Runner | None = None, reuse: bool = True
) -> Context:
    """The context of a lookup on host `text`: its platform, privileges and ssh runner.

    `timeout` bounds the whole look at the host (every ssh run together,
    connecting included). The probe's answer is reused for `PROBE_TTL`
    seconds when `runner` is None (the system's ssh) and `reuse` is True;
    `reuse=False` also opens a new ssh connection for every run.
    """
    from ._ssh import SshRunner, find_ssh

    target = parse_host(text)
    ssh = SshRunner.connect(
        target, local=runner, ssh=find_ssh(runner), timeout=timeout, reuse=reuse
    )
    info = _cached(target, ssh) if runner is None and reuse else probe(ssh, target.text)
    return host_context(ssh, info, target.text, timeout)


def host_context(runner: HostRunner, info: HostInfo, host: str, timeout: float) -> Context:
    """The context of a lookup on a probed host, whatever carries the commands there."""
    from ._backends.context import Context

    runner.platform = info.platform
    runner.tools = dict(info.tools)
    return Context(
        runner=runner,
        timeout=timeout,
        platform=info.platform,
        local_proc=False,
        privileged=info.privileged,
        remote=host,
        code_page=info.code_page,
    )


def _cached(target: Target, ssh: SshRunner) -> HostInfo:
    key = (target.text, ssh.config)
    now = time.monotonic()
    with _PROBED_LOCK:
        found = _PROBED.get(key)
    if found is not None and now - found[0] < PROBE_TTL:
        return found[1]
    info = probe(ssh, target.text)
    with _PROBED_LOCK:
        _PROBED[key] = (now, info)
    return info


def forget_hosts() -> None:
    """Drop every cached probe answer (tests; a host reinstalled meanwhile)."""
    with _PROBED_LOCK:
        _PROBED.clear()


def probe(runner: Prober, host: str) -> HostInfo:
    """Ask `host` what it is: the POSIX probe, then the Windows one."""
    done = runner.run_probe(POSIX_PROBE, posix=True)
    text = done.stdout.decode("utf-8", errors="replace")
    info = parse_posix_probe(host, text) if done.returncode == 0 else None
    if info is not None:
        return info
    windows = runner.run_probe(WINDOWS_PROBE, posix=False)
    info = parse_windows_probe(windows.stdout.decode("ascii", errors="replace"))
    if info is not None:
        return info
    raise RemoteError(
        host,
        "cannot tell what system this is (neither uname -s nor cmd /c ver answered)",
        (done.stderr + windows.stderr).decode("utf-8", errors="replace"),
    )
