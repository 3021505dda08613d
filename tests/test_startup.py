"""The command's default lookup imports what it uses and nothing else (the start-up budget).

`portcheck PORT` must start in at most 1.5x the time of `python -c "import
attrs"` (bench/startup.py measures it). attrs' own imports are the floor, since
the records are attrs classes; every other module a lookup loads is named
below with the reason it is needed. A new import on the default path fails
here: make it lazy (import it where it is used), or add it with its reason.
No timing here: the count of modules is what a test can hold on a busy machine.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from portcheck._backends import sockdiag
from portcheck._records import Family, Protocol
from tests.support.ports import quiet_port

# The modules of the default lookup on Linux (procfs: sock_diag, then /proc).
PORTCHECK = {
    "portcheck",
    "portcheck._backends",
    "portcheck._backends.context",
    "portcheck._backends.linux",
    "portcheck._backends.procfs",
    "portcheck._backends.sockdiag",
    "portcheck._cli",
    "portcheck._context",
    "portcheck._errors",
    "portcheck._listing",  # the package of the next (its __init__ is a docstring)
    "portcheck._listing.allow",  # the one parser of port lists (80,443,8000-8100)
    "portcheck._lookup",
    "portcheck._parsers",  # the package of proc_net, cmdline and addr (its table, not its parsers)
    "portcheck._parsers.addr",  # canonical addresses (ipaddress only when called)
    "portcheck._parsers.cmdline",  # docker-proxy targets, read for each owner
    "portcheck._parsers.proc_net",  # `Entry` and the tables' names (the parser runs on fallback)
    "portcheck._parsers.states",
    "portcheck._parsers.text",
    "portcheck._records",
    "portcheck._render",
    "portcheck._render.table",
    "portcheck._render.words",
    "portcheck._run",  # SystemRunner, the context's runner (subprocess only when a tool runs)
    "portcheck._validate",
    "portcheck._version",
    "portcheck._words",
}

# Standard library modules beyond attrs' own, each with why the lookup needs it.
STDLIB = {
    "argparse": "the command line",
    "gettext": "argparse's messages",
    "locale": "gettext, choosing a catalogue",
    "_locale": "locale",
    "errno": "gettext, when no catalogue is installed",
    "_socket": "the sock_diag netlink socket (not `socket`, whose enums cost start-up time)",
    "struct": "sock_diag's messages",
    "_struct": "struct",
}

# What naming an owner adds: its user, its unit or container (/proc/PID/cgroup), and
# its identity: the start time from /proc/PID/stat, as a date (`Socket.started`).
OWNERS = {
    "pwd",
    "portcheck._backends.identity",
    "portcheck._parsers.cgroup",
    "portcheck._parsers.proc_stat",
    "datetime",
    "_datetime",
    "math",  # datetime's
}

CHILD = """
import json, sys
import attrs
before = set(sys.modules)
from portcheck._cli import main
status = main([sys.argv[1]])
print(json.dumps({"status": status, "modules": sorted(set(sys.modules) - before)}))
"""


def _lookup_imports(port: int) -> tuple[int, set[str]]:
    """(exit status, modules imported beyond attrs) of `portcheck PORT` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(port)], capture_output=True, text=True, check=True
    )
    report = json.loads(done.stdout.splitlines()[-1])
    return report["status"], set(report["modules"])


def _sock_diag_answers() -> bool:
    try:
        sockdiag.query(1, Family.IPV4, Protocol.TCP)
    except sockdiag.SockDiagUnavailable:
        return False
    return True


pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not _sock_diag_answers(),
    reason="the default lookup measured here is Linux's, over sock_diag netlink",
)


def test_lookup_of_a_free_port_imports_only_its_backend() -> None:
    status, imported = _lookup_imports(quiet_port())
    assert status == 1  # free (had another process taken it, the set below still holds)
    assert imported - OWNERS <= PORTCHECK | set(STDLIB), sorted(imported - PORTCHECK - set(STDLIB))


def test_lookup_of_a_port_in_use_adds_only_the_owner_readers() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        status, imported = _lookup_imports(listener.getsockname()[1])
    assert status == 0
    allowed = PORTCHECK | set(STDLIB) | OWNERS
    assert imported <= allowed, sorted(imported - allowed)


def test_no_heavy_module_on_the_default_path() -> None:
    # Named in the budget: none of these may load unless attrs itself loads it.
    _status, imported = _lookup_imports(quiet_port())
    heavy = {"re", "inspect", "pathlib", "ipaddress", "subprocess", "socket", "json", "shutil"}
    assert not imported & heavy
