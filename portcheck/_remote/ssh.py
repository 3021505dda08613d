"""`SshRunner`: a `Runner` whose tools run on another host, through the system ssh client.

It wraps a local runner (a `SystemRunner` passing on `SSH_AUTH_SOCK` and
`HOME`, so that the user's agent and config work) that starts `ssh` by its
absolute path:

    ssh -o BatchMode=yes -o ConnectTimeout=N -o ControlMaster=auto
        -o ControlPersist=60 -o ControlPath=DIR/%C -o ClearAllForwardings=yes
        -o LogLevel=ERROR -T -x -a [-F CONFIG] [-p PORT] [-l USER] -- HOST COMMAND

- BatchMode: never a password or host-key prompt; a key or agent must do.
  Host keys are checked as the user's ssh config says (never turned off here).
- One connection per host is kept for 60 s and reused by later runs
  (ControlMaster), in a directory of this user's only (mode 0700) whose
  socket paths fit the system's limit (`control_dir`); without such a
  directory each run connects anew (`ControlPath=none`).
- `-T -x -a` and ClearAllForwardings: no terminal, no X11 or agent
  forwarding, and no port forwarding from the user's config (a LocalForward
  would bind a port here).
- `PORTCHECK_SSH_CONFIG`, when set, names an ssh config file used instead of
  ~/.ssh/config (`-F`): fleet settings apart from the personal ones.

COMMAND is built here from the backend's argv, whose words are constant
flags, the port and integers: each word must match `_WORD` or the run is
refused. POSIX hosts get `env LC_ALL=C` and each word quoted with
`shlex.quote`; Windows hosts (cmd.exe) accept only the constant commands in
`_WINDOWS_COMMANDS`, sent unquoted.

ssh exits 255 when it could not run the command: stderr then tells an
unreachable host, a refused login and an untrusted host key apart, each its
own error naming the host. A run past the host's deadline raises
`RemoteTimeoutError`.
"""

from __future__ import annotations

import logging
import math
import os
import shlex
import stat
import tempfile
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from .._errors import (
    AuthenticationError,
    HostKeyError,
    HostUnreachableError,
    NoToolError,
    RemoteError,
    RemoteTimeoutError,
    ToolTimeoutError,
)
from .._records import Platform
from .._run import SSH_ENV, Completed, SystemRunner
from .commands import remote_command

if TYPE_CHECKING:
    from .._run import Runner
    from .hosts import Target

CONTROL_PERSIST = 60
CONFIG_VARIABLE = "PORTCHECK_SSH_CONFIG"
_HOST_KEY = ("Host key verification failed", "REMOTE HOST IDENTIFICATION HAS CHANGED")
_AUTH = ("Permission denied", "Too many authentication failures", "Authentication failed")
_UNREACHABLE = (
    "Connection refused",
    "Connection timed out",
    "timed out",
    "No route to host",
    "Could not resolve hostname",
    "Name or service not known",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Connection closed by",
    "Connection reset",
    "kex_exchange_identification",
    "banner exchange",
)


def find_ssh(runner: Runner | None) -> str:
    """Absolute path of this machine's ssh client; NoToolError when it is missing."""
    finder = runner if runner is not None else SystemRunner()
    path = finder.which("ssh") or finder.which("ssh.exe")
    if path is None:
        raise NoToolError("this machine", {"ssh": "ssh not found (install openssh-client)"})
    return path


# A unix socket's path must fit sun_path: 104 bytes on macOS and the BSDs,
# 108 on Linux, the NUL included; the smaller bound serves everywhere. ssh
# adds "/" and %C (40 hex digits) to the directory, and while it sets the
# master up, a temporary suffix of "." and 16 random characters.
SOCKET_PATH_MAX = 104
CONTROL_NAME_ROOM = 1 + 40 + 1 + 16 + 1
# Where the short fallback directory goes (every POSIX system has it).
SHORT_BASE = "/tmp"  # noqa: S108 - checked in _unusable: ours, 0700, not a symlink
_log = logging.getLogger("portcheck.ssh")


def control_dir() -> str | None:
    """This user's private directory for ssh's shared connections, or None.

    `<tmp>/portcheck-ssh-<uid>`, or, when that path is too long for a socket
    path (macOS's TMPDIR is about 48 characters), `/tmp/pc-<uid>`; created
    with mode 0700. A candidate is skipped when it cannot be made, or exists
    but is not a directory of this user's that only they can enter (another
    user could then hijack the sockets), or is a symlink. None (no sharing:
    `ControlPath=none`) when no candidate fits; the reason is logged at
    debug level (`--debug`).
    """
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return None  # Windows' OpenSSH client has no ControlMaster
    uid = getuid()
    candidates = [
        os.path.join(tempfile.gettempdir(), f"portcheck-ssh-{uid}"),
        os.path.join(SHORT_BASE, f"pc-{uid}"),
    ]
    for path in dict.fromkeys(candidates):
        why = _unusable(path, uid)
        if why is None:
            return path
        _log.debug("ssh connection sharing: not using %s: %s", path, why)
    _log.debug("ssh connection sharing is off (ControlPath=none): no directory fits")
    return None


def _unusable(path: str, uid: int) -> str | None:
    """Why `path` cannot hold ssh's control sockets, or None when it can (made if missing)."""
    if len(os.fsencode(path)) > SOCKET_PATH_MAX - CONTROL_NAME_ROOM:
        return f"too long for a socket path ({SOCKET_PATH_MAX} bytes at most with ssh's name)"
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        return f"cannot make it ({exc.strerror})"
    try:
        info = os.lstat(path)
    except OSError as exc:
        return f"cannot read it ({exc.strerror})"
    if not stat.S_ISDIR(info.st_mode):
        return "not a directory (a symlink?)"
    if info.st_uid != uid or info.st_mode & 0o077:
        return "not private to this user (owner or mode)"
    return None


def ssh_options(
    target: Target, *, timeout: float, reuse: bool = True, config: str | None = None
) -> list[str]:
    """The ssh flags for `target`, everything between `ssh` and `--`."""
    options = [
        "-o",
        "BatchMode=yes",
        "-o",
        f"ConnectTimeout={max(1, math.ceil(timeout))}",
    ]
    directory = control_dir() if reuse else None
    if directory is not None:
        options += [
            "-o",
            "ControlMaster=auto",
            "-o",
            f"ControlPersist={CONTROL_PERSIST}",
            "-o",
            f"ControlPath={directory}/%C",
        ]
    else:
        options += ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
    options += ["-o", "ClearAllForwardings=yes", "-o", "LogLevel=ERROR", "-T", "-x", "-a"]
    if config is not None:
        options += ["-F", config]
    if target.port is not None:
        options += ["-p", str(target.port)]
    if target.user is not None:
        options += ["-l", target.user]
    return options


def config_file() -> str | None:
    """The ssh config named by PORTCHECK_SSH_CONFIG, if set (an absolute path)."""
    path = os.environ.get(CONFIG_VARIABLE)
    if not path:
        return None
    if not os.path.isabs(path):
        raise ValueError(f"{CONFIG_VARIABLE} must be an absolute path, not {path!r}")
    return path


@attrs.define
class SshRunner:
    """A `Runner` that runs each tool on `target` over ssh (see the module docstring).

    `platform` and `tools` are the probe's answer (`portcheck._remote`):
    `which` answers from `tools`; before the probe only probes may run.
    `deadline` (time.monotonic) bounds every run together.
    """

    target: Target
    local: Runner
    ssh: str
    options: list[str]
    deadline: float
    timeout: float
    config: str | None = None
    platform: Platform | None = None
    tools: dict[str, str] = attrs.field(factory=dict)

    @classmethod
    def connect(
        cls,
        target: Target,
        *,
        local: Runner | None,
        ssh: str,
        timeout: float,
        reuse: bool = True,
    ) -> SshRunner:
        """A runner for `target`; `local` starts ssh (default: a SystemRunner passing SSH_ENV)."""
        config = config_file()
        return cls(
            target=target,
            local=local if local is not None else SystemRunner(pass_env=SSH_ENV),
            ssh=ssh,
            options=ssh_options(target, timeout=timeout, reuse=reuse, config=config),
            deadline=time.monotonic() + timeout,
            timeout=timeout,
            config=config,
        )

    def argv(self, command: str) -> list[str]:
        """The local argv that runs `command` on the host."""
        return [self.ssh, *self.options, "--", self.target.host, command]

    def which(self, name: str) -> str | None:
        return self.tools.get(name)

    def run(self, argv: Sequence[str], *, timeout: float) -> Completed:
        argv = tuple(argv)
        command = remote_command(self.platform, self.tools, argv, host=self.target.text)
        done = self._run(command, argv, timeout)
        return Completed(
            argv=argv, returncode=done.returncode, stdout=done.stdout, stderr=done.stderr
        )

    def run_probe(self, script: str, *, posix: bool) -> Completed:
        """Run one of the constant probes of `portcheck._remote`."""
        command = "/bin/sh -c " + shlex.quote(script) if posix else script
        return self._run(command, (command,), self.timeout)

    def _run(self, command: str, argv: tuple[str, ...], timeout: float) -> Completed:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise RemoteTimeoutError(self.target.text, argv, self.timeout)
        limit = min(timeout, remaining)
        try:
            done = self.local.run(self.argv(command), timeout=limit)
        except ToolTimeoutError:
            raise RemoteTimeoutError(self.target.text, argv, limit) from None
        if done.returncode == 255:
            raise ssh_failure(self.target.text, done.stderr.decode("utf-8", errors="replace"))
        return done


def ssh_failure(host: str, stderr: str) -> RemoteError:
    """The error for ssh's exit status 255, told apart by what ssh printed."""
    if any(text in stderr for text in _HOST_KEY):
        return HostKeyError(host, "ssh does not trust the host's key", stderr)
    if any(text in stderr for text in _AUTH):
        return AuthenticationError(host, "ssh could not log in (batch mode: key or agent)", stderr)
    if any(text in stderr for text in _UNREACHABLE):
        return HostUnreachableError(host, "ssh could not reach the host", stderr)
    return RemoteError(host, "ssh failed (exit status 255)", stderr)
