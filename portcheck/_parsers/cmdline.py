"""Command lines: `/proc/PID/cmdline` into argv, and where a docker-proxy forwards.

/proc/PID/cmdline holds the arguments each followed by a NUL byte; a kernel
thread's is empty. Docker publishes a container port through one
`docker-proxy` process per port and protocol, and says where it forwards on
that process's own command line::

    /usr/bin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080
        -container-ip 172.17.0.2 -container-port 80

Other forwarders (rootlessport, vpnkit, wslrelay) do not say, so their
sockets carry no `forwards_to`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._records import Endpoint, Protocol, Socket
from .addr import canonical_address

if TYPE_CHECKING:
    from .proc_net import Entry


def split_cmdline(data: bytes) -> tuple[str, ...] | None:
    """argv from the bytes of /proc/PID/cmdline; None when empty (a kernel thread, a zombie).

    A process may rewrite its own argument area (nginx, postgres set titles
    with spaces and no NULs): it is then one argument, as the kernel keeps it.
    Undecodable bytes become U+FFFD, as process names do elsewhere.
    """
    if not data:
        return None
    text = data.decode("utf-8", errors="replace")
    argv = text[:-1].split("\0") if text.endswith("\0") else text.split("\0")
    return tuple(argv)


def _flags(argv: tuple[str, ...]) -> dict[str, str]:
    """Go-style flags: `-name value`, `--name value`, `-name=value`."""
    flags: dict[str, str] = {}
    index = 1
    while index < len(argv):
        word = argv[index]
        index += 1
        if not word.startswith("-"):
            continue
        name, eq, value = word.lstrip("-").partition("=")
        if not eq:
            if index >= len(argv):
                break
            value = argv[index]
            index += 1
        flags[name] = value
    return flags


def is_docker_proxy(argv: tuple[str, ...] | None) -> bool:
    """True when argv runs Docker's port forwarder."""
    return argv is not None and len(argv) > 0 and argv[0].rsplit("/", 1)[-1] == "docker-proxy"


def forwards_to(argv: tuple[str, ...] | None, sock: Socket | Entry) -> Endpoint | None:
    """The container endpoint a docker-proxy forwards `sock` to; None for anything else.

    Only the proxy's own published socket forwards: `sock` must be on
    `-host-port` with the protocol of `-proto` when the command names them
    (the proxy's connections to the container are its other sockets).
    `-container-proto` (newer Docker) is not needed: `Endpoint` has no protocol.
    """
    if argv is None or not is_docker_proxy(argv):
        return None
    import ipaddress  # here: only a docker-proxy's command line needs it

    flags = _flags(argv)
    try:
        address = canonical_address(str(ipaddress.ip_address(flags["container-ip"])))
        port = int(flags["container-port"])
        host_port = int(flags.get("host-port", sock.local.port))
        proto = Protocol(flags.get("proto", sock.protocol.value))
        target = Endpoint(address=address, port=port)
    except (KeyError, ValueError):
        return None
    if host_port != sock.local.port or proto is not sock.protocol:
        return None
    return target
