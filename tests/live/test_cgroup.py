"""Live: a socket holder moved into the cgroups systemd and container runtimes create.

As a real host would: a directory per unit or container in every mounted
hierarchy that names them (the v1 `name=systemd` one and the v2 one), and
the holder's pid written to each `cgroup.procs`. Every lookup backend must
then name the unit or the container on the holder's record. Names are random
(`pc-test-<hex>`) so that parallel runs never meet; every directory made is
moved out of and removed in the test's own `finally`, even on failure.
Root only, and skipped where the hierarchies do not accept new directories.
"""

from __future__ import annotations

import errno
import os
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import portcheck
from portcheck import Socket
from portcheck._records import Container
from portcheck._run import SystemRunner
from tests.support.hold import Holders

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux"),
]
TOOLS = [t for t in ("procfs", "ss", "lsof", "netstat") if t == "procfs" or SystemRunner().which(t)]


def _hierarchies() -> dict[str, Path]:
    """Mount points by kind: "systemd" (v1 name=systemd) and "v2", where mounted."""
    found: dict[str, Path] = {}
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        where, kind, options = Path(fields[1]), fields[2], fields[3].split(",")
        if kind == "cgroup2":
            found.setdefault("v2", where)
        elif kind == "cgroup" and "name=systemd" in options:
            found.setdefault("systemd", where)
    return found


def _why_not_writable(roots: dict[str, Path]) -> str | None:
    if os.geteuid() != 0:
        return "moving a process between cgroups needs root"
    if not roots:
        return "no cgroup hierarchy is mounted"
    for root in roots.values():
        probe = root / f"pc-probe-{secrets.token_hex(6)}"
        try:
            probe.mkdir()
            probe.rmdir()
        except OSError as exc:
            return f"{root} does not accept new directories ({exc.strerror})"
    return None


ROOTS = _hierarchies()
_NOT_WRITABLE = _why_not_writable(ROOTS) if sys.platform.startswith("linux") else "not Linux"
pytestmark.append(pytest.mark.skipif(_NOT_WRITABLE is not None, reason=str(_NOT_WRITABLE)))


def _makedirs(path: Path, made: list[Path]) -> None:
    """mkdir -p, recording each directory made here (parents first), in `made`."""
    missing = []
    for parent in [path, *path.parents]:
        if parent.exists():
            break
        missing.append(parent)
    for directory in reversed(missing):
        try:
            directory.mkdir()
        except FileExistsError:
            continue  # a parallel run made it: not ours to remove
        made.append(directory)


def _remove(made: list[Path]) -> None:
    """Remove what `_makedirs` made, innermost first; shared parents still in use stay."""
    for directory in reversed(made):
        for _ in range(50):
            try:
                directory.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and directory.name.endswith(
                    ".slice"
                ):
                    break  # a parallel run's children are in a shared slice: leave it
                time.sleep(0.02)  # EBUSY: the moved process is still leaving
        made.remove(directory)


def _origin(pid: int) -> dict[str, str]:
    """The holder's cgroup path in each hierarchy, to move it back to."""
    paths: dict[str, str] = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        number, controllers, path = line.split(":", 2)
        if controllers == "name=systemd":
            paths["systemd"] = path
        elif number == "0" and controllers == "":
            paths["v2"] = path
    return paths


@contextmanager
def moved_into(pid: int, relative: str) -> Iterator[None]:
    """`pid` inside `relative` in every hierarchy; moved back and everything removed after."""
    origin = _origin(pid)
    made: list[Path] = []
    try:
        for root in ROOTS.values():
            target = root / relative
            _makedirs(target, made)
            (target / "cgroup.procs").write_text(str(pid))
        yield
    finally:
        for kind, root in ROOTS.items():
            back = root / origin.get(kind, "/").lstrip("/")
            try:
                (back / "cgroup.procs").write_text(str(pid))
            except OSError:
                (root / "cgroup.procs").write_text(str(pid))
        _remove(made)


def _records(port: int, pid: int) -> dict[str, list[Socket]]:
    found = {tool: portcheck.who_owns(port, tool=tool) for tool in TOOLS}
    return {tool: [s for s in sockets if s.pid == pid] for tool, sockets in found.items()}


def _hex() -> str:
    return secrets.token_hex(32)


def test_a_service_unit(holders: Holders) -> None:
    held = holders.start([["tcp-listen", "127.0.0.1"]])
    unit = f"pc-test-{secrets.token_hex(6)}.service"
    with moved_into(held.pids[0], f"system.slice/{unit}"):
        for tool, records in _records(held.ports[0], held.pids[0]).items():
            assert [(r.units, r.container) for r in records] == [((unit,), None)], tool
            command = records[0].command
            assert command is not None, tool
            assert command[1].endswith("holder.py"), tool
    assert _records(held.ports[0], held.pids[0])["procfs"][0].units == ()


def test_a_forked_worker_outside_the_unit_is_not_named_by_it(holders: Holders) -> None:
    # The unit is read from each pid's own cgroup, never from a MainPID: the
    # parent is in the unit, its forked child (holding the same socket) is not.
    held = holders.start([["tcp-listen", "127.0.0.1"]], fork=True)
    parent, child = held.pids
    unit = f"pc-test-{secrets.token_hex(6)}.service"
    with moved_into(parent, f"system.slice/{unit}"):
        found = portcheck.who_owns(held.ports[0], tool="procfs")
        by_pid = {s.pid: s.units for s in found}
        assert by_pid == {parent: (unit,), child: ()}


@pytest.mark.parametrize(
    "form",
    ["docker", "kubepods-containerd", "podman"],
)
def test_a_container(holders: Holders, form: str) -> None:
    held = holders.start([["tcp-listen", "127.0.0.1"]])
    ident = _hex()
    if form == "docker":
        relative = f"system.slice/docker-{ident}.scope"
        expected = Container(runtime="docker", id=ident)
    elif form == "podman":
        relative = f"machine.slice/libpod-{ident}.scope"
        expected = Container(runtime="podman", id=ident)
    else:
        pod = "-".join(secrets.token_hex(n) for n in (4, 2, 2, 2, 6))
        escaped = pod.replace("-", "_")
        relative = (
            "kubepods.slice/kubepods-burstable.slice/"
            f"kubepods-burstable-pod{escaped}.slice/cri-containerd-{ident}.scope"
        )
        expected = Container(runtime="containerd", id=ident, pod=pod)
    with moved_into(held.pids[0], relative):
        for tool, records in _records(held.ports[0], held.pids[0]).items():
            assert [(r.units, r.container) for r in records] == [((), expected)], tool
