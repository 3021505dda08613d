"""Parser for `/proc/PID/cgroup`: the systemd unit and the container a process runs in.

Each line is `ID:CONTROLLERS:PATH`. A pure cgroup v2 host has one line,
`0::/system.slice/nginx.service`; a hybrid host adds the v1 hierarchies, among
them `1:name=systemd:/system.slice/nginx.service` (the one systemd manages),
and a v1-only host has no `0::` line. A sample of a container's process on a
hybrid host (tests/fixtures/cgroup/, docker/for-linux issue 1293)::

    1:name=systemd:/docker/a2ffe0e97ac2...
    0::/system.slice/containerd.service

The rules (issue 12):

- The unit is the innermost `.service` on the path; failing that the
  innermost `.scope`, except a login session's `session-N.scope`. Below
  `user@UID.service` it is a user unit, written `user:x.service`.
- The unit is read from the `name=systemd` line where there is one (hybrid
  and v1 hosts), else from the `0::` line (pure v2 hosts).
- A container named by any line wins over a unit: the unit is then empty (the
  sample above: containerd.service in v2 is the runtime's shim, not the
  process's service). The lines are asked in the order name=systemd, `0::`,
  then the other v1 controllers.

Containers, from the path forms the runtimes write (innermost first):
`docker-<64 hex>.scope` and `/docker/<id>` (docker), `libpod-<id>.scope` and
`/libpod_parent/libpod-<id>` (podman), `cri-containerd-<id>.scope`
(containerd), `crio-<id>.scope` (cri-o), `/lxc/<name>` and
`/lxc.payload.<name>` (lxc); under a Kubernetes pod slice
(`kubepods-burstable-pod<uid>.slice`, or `/kubepods/burstable/pod<uid>/<id>`
with the cgroupfs driver) the pod uid is kept, and a bare id below a pod is
runtime "kubernetes". The runtimes' monitor scopes (`libpod-conmon-`,
`crio-conmon-`) are not containers.
"""

from __future__ import annotations

import functools
import re
from typing import Callable, NamedTuple

from .._records import Container

_HEX_ID = r"[0-9a-f]{64}"
# (runtime, pattern of one path component giving the id in group 1), innermost wins.
_COMPONENT_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("docker", re.compile(rf"docker-({_HEX_ID})\.scope")),
    ("podman", re.compile(rf"libpod-({_HEX_ID})(?:\.scope)?")),
    ("containerd", re.compile(rf"cri-containerd-({_HEX_ID})\.scope")),
    ("cri-o", re.compile(rf"crio-({_HEX_ID})\.scope")),
)
# Forms that need the parent component: /docker/<id>, /lxc/<name>.
_PARENT_FORMS: dict[str, tuple[str, re.Pattern[str]]] = {
    "docker": ("docker", re.compile(rf"({_HEX_ID})")),
    "lxc": ("lxc", re.compile(r"([^/]+)")),
}
_LXC_PAYLOAD = re.compile(r"lxc\.payload\.(.+)")
_UID = r"[0-9a-f]{8}[-_](?:[0-9a-f]{4}[-_]){3}[0-9a-f]{12}"
_POD = re.compile(rf"(?:kubepods(?:-[a-z]+)*-)?pod({_UID})(?:\.slice)?")
_BARE_ID = re.compile(_HEX_ID)
_SESSION = re.compile(r"session-[^/]*\.scope")
_USER_MANAGER = re.compile(r"user@\d+\.service")


class CgroupIdentity(NamedTuple):
    """What a process's cgroup file says: its unit (zero or one) and container.

    A NamedTuple, not an attrs class: a listing imports this module, and each
    attrs class costs about a millisecond to define at start-up.
    """

    units: tuple[str, ...] = ()
    container: Container | None = None


@functools.lru_cache(maxsize=256)
def parse(text: str) -> CgroupIdentity:
    """The unit and container named by the text of /proc/PID/cgroup.

    Lines that are not `ID:CONTROLLERS:PATH` are skipped: the file is the
    kernel's and never malformed, and a partial read must not raise.
    Cached: the processes of one service share one cgroup, and so its text
    (a listing reads the file of every owner).
    """
    systemd, unified, others = _paths(text)
    for path in (systemd, unified, *others):
        if path is not None:
            container = container_of(path)
            if container is not None:
                return CgroupIdentity(container=container)
    path = systemd if systemd is not None else unified
    unit = None if path is None else unit_of(path)
    return CgroupIdentity(units=() if unit is None else (unit,))


def _paths(text: str) -> tuple[str | None, str | None, list[str]]:
    """(name=systemd path, `0::` path, the other hierarchies' paths) of a cgroup file."""
    systemd = unified = None
    others: list[str] = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[2].startswith("/"):
            continue
        hierarchy, controllers, path = parts
        if controllers == "name=systemd":
            systemd = path
        elif hierarchy == "0" and controllers == "":
            unified = path
        else:
            others.append(path)
    return systemd, unified, others


def unit_of(path: str) -> str | None:
    """The unit a cgroup path names (`user:` prefixed below a user manager), or None."""
    parts = [p for p in path.split("/") if p]
    unit = _innermost(parts, lambda p: p.endswith(".service"))
    if unit is None:
        unit = _innermost(parts, lambda p: p.endswith(".scope") and not _SESSION.fullmatch(p))
    if unit is None:
        return None
    index, name = unit
    below_manager = any(_USER_MANAGER.fullmatch(p) for p in parts[:index])
    return f"user:{name}" if below_manager else name


def _innermost(parts: list[str], wanted: Callable[[str], bool]) -> tuple[int, str] | None:
    for index in range(len(parts) - 1, -1, -1):
        if wanted(parts[index]):
            return index, parts[index]
    return None


def container_of(path: str) -> Container | None:
    """The innermost container a cgroup path names, with its Kubernetes pod uid; or None."""
    parts = [p for p in path.split("/") if p]
    pod = _pod_uid(parts)
    for index in range(len(parts) - 1, -1, -1):
        found = _container_at(parts, index, pod)
        if found is not None:
            return found
    return None


def _container_at(parts: list[str], index: int, pod: str | None) -> Container | None:
    part = parts[index]
    if part.startswith(("libpod-conmon-", "crio-conmon-")):
        return None
    for runtime, form in _COMPONENT_FORMS:
        match = form.fullmatch(part)
        if match:
            return Container(runtime=runtime, id=match.group(1), pod=pod)
    payload = _LXC_PAYLOAD.fullmatch(part)
    if payload:
        return Container(runtime="lxc", id=payload.group(1))
    parent = parts[index - 1] if index > 0 else None
    if parent in _PARENT_FORMS:
        runtime, form = _PARENT_FORMS[parent]
        match = form.fullmatch(part)
        if match:
            return Container(runtime=runtime, id=match.group(1), pod=pod)
    below_pod = parent is not None and _POD.fullmatch(parent) is not None
    if pod is not None and below_pod and _BARE_ID.fullmatch(part):
        return Container(runtime="kubernetes", id=part, pod=pod)
    return None


def _pod_uid(parts: list[str]) -> str | None:
    for part in reversed(parts):
        match = _POD.fullmatch(part)
        if match:
            # systemd escapes `-` in a slice name's own words as `_`.
            return match.group(1).replace("_", "-")
    return None
