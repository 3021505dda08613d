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

import threading
import time
from typing import TYPE_CHECKING, Protocol

from .._errors import RemoteError
from .._parsers.host_probe import REMOTE_TOOLS, HostInfo, parse_posix_probe, parse_windows_probe
from .._records import Platform
from .._run import Runner
from .hosts import Target, parse_host

if TYPE_CHECKING:
    from .._backends.context import Context
    from .._run import Completed
    from .ssh import SshRunner

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
    from .ssh import SshRunner, find_ssh

    target = parse_host(text)
    ssh = SshRunner.connect(
        target, local=runner, ssh=find_ssh(runner), timeout=timeout, reuse=reuse
    )
    info = _cached(target, ssh) if runner is None and reuse else probe(ssh, target.text)
    return host_context(ssh, info, target.text, timeout)


def host_context(runner: HostRunner, info: HostInfo, host: str, timeout: float) -> Context:
    """The context of a lookup on a probed host, whatever carries the commands there."""
    from .._backends.context import Context

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
