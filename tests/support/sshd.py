"""A throwaway OpenSSH server on a loopback port, for the tests that look over ssh.

`SshServer.start()` makes a temporary directory with a host key, a user key,
`known_hosts`, `authorized_keys` and an `sshd_config` of its own (listening
on 127.0.0.1 only, keys only, no PAM), starts `/usr/sbin/sshd -D` on a port
the kernel picked, and writes an ssh client config (`client_config`) that
the tests pass as PORTCHECK_SSH_CONFIG. `stop()` ends the shared ssh
connections, the server and removes the directory.

Two logins: root, and an unprivileged user with a login shell (an existing
one when there is one, else a user created here and removed by `stop()`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import attrs

from .ports import quiet_port

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
SSH = "/usr/bin/ssh"
_CREATED_USER = "pcktest"


def why_not() -> str | None:
    """Why the server cannot run here, or None."""
    for path in (SSHD, SSH_KEYGEN, SSH):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (apt-get install openssh-server openssh-client)"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "sshd must run as root to log users in"
    return None


def _login_user() -> tuple[str, bool]:
    """(name, created): a non-root user with a login shell, created if none exists."""
    shells = set()
    with contextlib.suppress(OSError):
        shells = {line.strip() for line in Path("/etc/shells").read_text().splitlines()}
    for entry in pwd.getpwall():
        if entry.pw_uid != 0 and entry.pw_shell in shells and os.path.isfile(entry.pw_shell):
            return entry.pw_name, False
    subprocess.run(
        ["/usr/sbin/useradd", "--no-create-home", "--shell", "/bin/sh", _CREATED_USER],
        check=True,
        capture_output=True,
    )
    return _CREATED_USER, True


def _keygen(path: Path) -> None:
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "portcheck-test", "-f", str(path)],
        check=True,
        capture_output=True,
    )


@attrs.define
class SshServer:
    """A running test sshd: its `port`, `directory`, the unprivileged `user`."""

    directory: Path
    port: int
    user: str
    created_user: bool
    pam: bool = True
    proc: subprocess.Popen[bytes] | None = None

    @property
    def client_config(self) -> Path:
        return self.directory / "ssh_config"

    @property
    def bad_key_config(self) -> Path:
        """A client config whose key the server does not accept."""
        return self.directory / "ssh_config_bad_key"

    @property
    def unknown_host_config(self) -> Path:
        """A client config whose known_hosts lacks the server's key."""
        return self.directory / "ssh_config_unknown_host"

    @property
    def hanging_tool(self) -> str:
        """A program on the server that prints nothing and sleeps for 20 s."""
        return str(self.directory / "hang")

    def host(self, user: str = "root") -> str:
        return f"{user}@127.0.0.1:{self.port}"

    @classmethod
    def start(cls, *, pam: bool = True) -> SshServer:
        """Start a server; `pam=False` skips PAM's session modules (faster, root only:
        without PAM sshd refuses accounts whose password is locked, as most system ones)."""
        directory = Path(tempfile.mkdtemp(prefix="portcheck-sshd-"))
        # sshd reads authorized_keys as the user logging in: the directory and
        # the file must be readable by the unprivileged user too.
        directory.chmod(0o755)
        user, created = _login_user()
        server = cls(
            directory=directory, port=quiet_port(), user=user, created_user=created, pam=pam
        )
        try:
            server._configure()
            server._run()
        except BaseException:
            server.stop()
            raise
        return server

    def _configure(self) -> None:
        d = self.directory
        _keygen(d / "host_key")
        _keygen(d / "user_key")
        _keygen(d / "other_key")
        (d / "authorized_keys").write_text((d / "user_key.pub").read_text())
        (d / "authorized_keys").chmod(0o644)
        host_key = (d / "host_key.pub").read_text().split()
        (d / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {host_key[0]} {host_key[1]}\n")
        (d / "sshd_config").write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {d / 'host_key'}\n"
            f"PidFile {d / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {d / 'authorized_keys'}\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\n"
            f"UsePAM {'yes' if self.pam else 'no'}\n"
            "StrictModes no\n"
            "MaxStartups 100:30:200\n"
            "MaxSessions 50\n"
            f"AllowUsers root {self.user}\n"
            "AcceptEnv LANG LC_*\n"
        )
        (d / "empty_known_hosts").write_text("")
        (d / "hang").write_text("#!/bin/sh\nexec sleep 20\n")
        (d / "hang").chmod(0o755)
        for name, key, known in (
            ("ssh_config", "user_key", "known_hosts"),
            ("ssh_config_bad_key", "other_key", "known_hosts"),
            ("ssh_config_unknown_host", "user_key", "empty_known_hosts"),
        ):
            (d / name).write_text(
                "Host *\n"
                f"  IdentityFile {d / key}\n"
                "  IdentitiesOnly yes\n"
                "  IdentityAgent none\n"
                f"  UserKnownHostsFile {d / known}\n"
                "  GlobalKnownHostsFile /dev/null\n"
                "  StrictHostKeyChecking yes\n"
            )

    def _run(self) -> None:
        # Debian's sshd refuses to start without its privilege separation directory.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        log = (self.directory / "sshd.log").open("wb")
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.directory / "sshd_config")],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.directory / 'sshd.log').read_text()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("sshd did not start listening within 10 s")

    def close_connections(self) -> None:
        """End ssh's shared connections to this server (ControlMaster), forget its probes."""
        from portcheck._remote.probe import forget_hosts
        from portcheck._remote.ssh import control_dir

        forget_hosts()
        directory = control_dir()
        if directory is None:
            return
        for user in ("root", self.user):
            subprocess.run(
                [SSH, "-F", str(self.client_config), "-o", f"ControlPath={directory}/%C",
                 "-O", "exit", "-p", str(self.port), "-l", user, "--", "127.0.0.1"],
                capture_output=True,
                timeout=10,
                check=False,
            )  # fmt: skip

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.close_connections()
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.created_user:
            subprocess.run(["/usr/sbin/userdel", self.user], capture_output=True, check=False)
        shutil.rmtree(self.directory, ignore_errors=True)
