"""The sample outputs in the docs, produced by the real command on a fixed machine.

A sample is a fenced block right after a `<!-- sample: NAME -->` line: its
first line is the command as shown (`$ portcheck list`), the rest is what
`portcheck._cli.main` prints for that command when the lookup answers with
the sockets of SAMPLES[NAME] (the machine is fixed, the command's code is the
real one). `python -m tools.doc_samples` rewrites the blocks;
tests/test_docs.py fails when one differs from what the command prints.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from portcheck import Container, Endpoint, Family, Protocol, Socket, State

ROOT = Path(__file__).resolve().parent.parent
PAGES = (
    "README.md",
    "docs/index.md",
    "docs/command.md",
    "docs/howto/audit.md",
    "docs/howto/fleet.md",
    "docs/howto/free-a-port.md",
)
MARK = re.compile(
    r"^<!-- sample: (?P<name>[\w-]+) -->\n```(?P<lang>\w*)\n(?P<body>.*?)^```$", re.M | re.S
)


def _tcp(
    port: int, pid: int, process: str, user: str, address: str = "0.0.0.0", **kw: Any
) -> Socket:
    family = Family.IPV6 if ":" in address else Family.IPV4
    return Socket(
        protocol=Protocol.TCP,
        family=family,
        local=Endpoint(address=address, port=port),
        state=State.LISTEN,
        pid=pid,
        process=process,
        user=user,
        **kw,
    )


SSHD = _tcp(22, 812, "sshd", "root", units=("ssh.service",))
RESOLVED = Socket(
    protocol=Protocol.UDP,
    family=Family.IPV4,
    local=Endpoint(address="127.0.0.53", port=53),
    pid=590,
    process="systemd-resolve",
    user="systemd-resolve",
    units=("systemd-resolved.service",),
)
NGINX = [_tcp(80, pid, "nginx", "www-data", units=("nginx.service",)) for pid in range(1201, 1210)]
POSTGRES = _tcp(
    5432, 944, "postgres", "postgres", "127.0.0.1", units=("postgresql@15-main.service",)
)
PROXY = _tcp(8080, 3310, "docker-proxy", "root", units=("docker.service",))
EXPORTER = _tcp(
    9100,
    2202,
    "node_exporter",
    "prometheus",
    "::",
    container=Container(runtime="docker", id="4f1c2a9b8e07d3c5a1b2"),
)
PYTHON = _tcp(8080, 4242, "python3", "alice", "127.0.0.1")
WEB1 = _tcp(8080, 812, "nginx", "root")


@contextlib.contextmanager
def _machine(name: str) -> Iterator[None]:
    """The lookup answering as the sample's machine would."""
    listening = [SSHD, RESOLVED, *NGINX, POSTGRES, PROXY, EXPORTER]
    with contextlib.ExitStack() as stack:
        patch: Callable[..., Any] = lambda target, value: stack.enter_context(  # noqa: E731
            mock.patch(target, value)
        )
        patch("portcheck._lookup.listening", lambda **_: list(listening))
        patch("portcheck._cli.who_owns", lambda port, **_: [PYTHON] if port == 8080 else [])
        patch("portcheck._backends.context.is_root", lambda: True)
        patch(
            "portcheck._remote.fleet.look_across",
            lambda ports, hosts, **_: {"web1": {8080: [WEB1]}, "deploy@web2:2222": {8080: []}},
        )
        patch("portcheck._kill.engine.run", lambda port, options, **_: _dry_run(port))
        del name
        yield


def _dry_run(port: int) -> Any:
    from portcheck import Outcome, OwnerOutcome, Refusal, StopResult

    node = OwnerOutcome(
        pid=4242,
        process="node",
        user="alice",
        outcome=Outcome.DRY_RUN,
        detail="with SIGTERM",
    )
    nginx = OwnerOutcome(
        pid=812,
        process="nginx",
        user="root",
        outcome=Outcome.REFUSED,
        refusal=Refusal.MANAGED,
        detail="the systemd unit nginx.service runs it (and may restart it)",
        hint="systemctl stop nginx.service",
    )
    return StopResult(port=port, free=False, dry_run=True, owners=(node, nginx))


def output(shown: str, name: str) -> str:
    """What the command shown (`$ [sudo] portcheck ARGS`) prints on the sample machine."""
    from portcheck._cli import main

    argv = shown.split("portcheck", 1)[1].split("#", 1)[0].split()
    out = io.StringIO()
    with _machine(name), contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(argv)
    return out.getvalue()


def render(text: str) -> str:
    """`text` with every sample block's output replaced by what the command prints."""

    def one(match: re.Match[str]) -> str:
        shown = match["body"].splitlines()[0]
        return (
            f"<!-- sample: {match['name']} -->\n```{match['lang']}\n"
            f"{shown}\n{output(shown, match['name'])}```"
        )

    return MARK.sub(one, text)


def stale() -> list[str]:
    """The pages whose samples differ from what the command prints."""
    return [p for p in PAGES if render((ROOT / p).read_text()) != (ROOT / p).read_text()]


def samples() -> list[str]:
    """Every sample's page and name."""
    return [f"{p}: {m['name']}" for p in PAGES for m in MARK.finditer((ROOT / p).read_text())]


if __name__ == "__main__":
    for page in PAGES:
        path = ROOT / page
        path.write_text(render(path.read_text()))
    print("\n".join(samples()))
    sys.exit(0)
