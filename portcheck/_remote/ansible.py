"""What the Ansible collection's action plugins do, without importing Ansible.

The plugins (ansible/ansible_collections/portcheck/portcheck/plugins/action/)
run on the controller. They hand this module one function, `execute(command)
-> (status, stdout bytes, stderr bytes)`, that runs a command line on the
target over Ansible's own connection (`_low_level_execute_command`, with
become when the task asks for it). Everything else is portcheck's:

- the same probe as over ssh (`portcheck._remote`): platform, `id -u`, tools;
- the same backends, fallbacks and owner completion, through a
  `CommandRunner`, which builds each command line exactly as the ssh runner
  does (constant words, the port and integers; `env LC_ALL=C` and
  `shlex.quote` on POSIX, the constant commands on Windows);
- the same parsers.

So the target needs neither Python nor portcheck, and nothing is changed
there: every command is a read-only listing.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Callable

import attrs

from .._backends.context import Context, decode
from .._errors import PortcheckError, RemoteError
from .._records import NoOwner, Platform, Protocol, Socket
from .._run import Completed

if TYPE_CHECKING:
    from .._listing.allow import Allowed

# Runs one command line on the target: (exit status, stdout, stderr).
Execute = Callable[[str], "tuple[int, bytes, bytes]"]


@attrs.define
class CommandRunner:
    """A `Runner` over a plugin's `execute`; `which` answers from the probe's tools."""

    execute: Execute
    host: str
    platform: Platform | None = None
    tools: dict[str, str] = attrs.field(factory=dict)

    def which(self, name: str) -> str | None:
        return self.tools.get(name)

    def run(self, argv: Sequence[str], *, timeout: float) -> Completed:
        from .commands import remote_command

        argv = tuple(argv)
        status, stdout, stderr = self.execute(
            remote_command(self.platform, self.tools, argv, host=self.host)
        )
        return Completed(argv=argv, returncode=status, stdout=stdout, stderr=stderr)

    def run_probe(self, script: str, *, posix: bool) -> Completed:
        """Run a constant probe; Ansible already wraps POSIX commands in `/bin/sh -c`."""
        command = "/bin/sh -c " + shlex.quote(script) if posix else script
        status, stdout, stderr = self.execute(command)
        return Completed(argv=(command,), returncode=status, stdout=stdout, stderr=stderr)


def context(execute: Execute, host: str, timeout: float = 30.0) -> Context:
    """Probe the target through `execute` and return the context of a lookup there."""
    from .probe import host_context, probe

    runner = CommandRunner(execute=execute, host=host)
    return host_context(runner, probe(runner, host), host, timeout)


# --- who_owns ----------------------------------------------------------------------------


def who_owns_result(port: int, execute: Execute, host: str) -> dict[str, Any]:
    """The `portcheck.portcheck.who_owns` result: `sockets`, `in_use`, `hidden`."""
    from .._lookup import lookup
    from .._render.json import socket_to_dict

    found = lookup(port, context=context(execute, host))
    return {
        "changed": False,
        "port": port,
        "sockets": [socket_to_dict(s) for s in found],
        "in_use": bool(found),
        # TIME_WAIT remnants name no owner because no process holds them.
        "hidden": any(s.pid is None and s.no_owner is not NoOwner.TIME_WAIT for s in found),
    }


# --- listen_ports_facts ------------------------------------------------------------------


def listeners(ctx: Context) -> list[Socket]:
    """Every listening TCP socket and bound, unconnected UDP socket on the target.

    Through the same backends and the one fallback loop as `portcheck.listening()`.
    """
    from .._lookup import lookup
    from .._records import is_listening

    return [s for s in lookup(None, context=ctx, scope="listening") if is_listening(s)]


def start_times(ctx: Context, pids: Iterable[int]) -> dict[int, str]:
    """pid -> start time as the target's `ps -o lstart=` prints it; {} on Windows or without ps."""
    from .._backends.posix import pid_chunks
    from .._parsers.owners import parse_ps_lstart

    wanted = sorted(set(pids))
    ps = ctx.runner.which("ps")
    if not wanted or ps is None or ctx.platform is Platform.WINDOWS:
        return {}
    found: dict[int, str] = {}
    for chunk in pid_chunks(wanted):
        done = ctx.runner.run([ps, "-o", "pid=,lstart=", "-p", chunk], timeout=ctx.timeout)
        found.update(parse_ps_lstart(decode(done.stdout)) if done.returncode in (0, 1) else {})
    return found


def fact(sock: Socket, stime: str | None) -> dict[str, Any]:
    """One listener as `community.general.listen_ports_facts` names it, plus portcheck's fields."""
    from .._render.json import socket_to_dict

    return {
        **socket_to_dict(sock),
        "address": sock.local.address,
        "port": sock.local.port,
        "protocol": sock.protocol.value,
        "name": sock.process,
        "pid": sock.pid,
        "user": sock.user,
        "stime": stime,
    }


def listen_ports_result(
    execute: Execute,
    host: str,
    allowed: Allowed | None = None,  # see _listing.parse_allowed
) -> dict[str, Any]:
    """The `portcheck.portcheck.listen_ports_facts` result: facts, and `unexpected` if asked."""
    from .._listing.allow import is_allowed, parse_allowed

    ranges = parse_allowed(allowed) if allowed is not None else None
    ctx = context(execute, host)
    found = listeners(ctx)
    stimes = start_times(ctx, (s.pid for s in found if s.pid is not None))
    facts = [fact(s, stimes.get(s.pid) if s.pid is not None else None) for s in found]
    tcp = [f for f, s in zip(facts, found) if s.protocol is Protocol.TCP]
    udp = [f for f, s in zip(facts, found) if s.protocol is Protocol.UDP]
    result: dict[str, Any] = {
        "changed": False,
        "ansible_facts": {"tcp_listen": tcp, "udp_listen": udp},
    }
    if ranges is not None:
        result["unexpected"] = [f for f in tcp + udp if not is_allowed(f["port"], ranges)]
    return result


def failure(exc: Exception) -> str:
    """The task's failure message for any error (portcheck's already name the host).

    The plugins catch every exception and fail only the host's task with
    this message: Ansible goes on with the other hosts.
    """
    kind = type(exc).__name__
    if isinstance(exc, RemoteError):
        return f"{kind}: {exc}"
    if isinstance(exc, (PortcheckError, ValueError, TypeError)):
        return f"portcheck could not look: {kind}: {exc}"
    return f"portcheck failed unexpectedly: {kind}: {exc} (please report it)"
