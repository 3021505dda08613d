"""`/proc/PID/cgroup` into unit and container: real captures, then synthetic forms.

Synthetic cases are written from the path forms systemd and each runtime
create (issue 12 lists them); each says "synthetic" in its id.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from portcheck._parsers.cgroup import CgroupIdentity, container_of, parse, unit_of
from portcheck._records import Container

CGROUP = Path(__file__).parent.parent / "fixtures" / "cgroup"
DOCKER_ID = "a2ffe0e97ac22657a2a023ad628e9df837c38a03b1ebc904d3f6d644eb1a1a81"
PODMAN_ID = "2521e906f0a0c758c3a7dc4fd68c197e32e96abb4b36807d0b0ede6d014a7c24"
CRIO_ID = "5eed917563583925ffdbd40a64efb2aaffe58638e57add8becaf460fe74f5b1c"
HEX = "0123456789abcdef" * 4
POD = "a5c1f8d5-1919-434d-add7-4afaafdaef89"
POD_ESCAPED = POD.replace("-", "_")


def _capture(name: str) -> CgroupIdentity:
    return parse((CGROUP / name).read_text())


def test_docker_on_a_hybrid_host_wins_over_the_v2_unit() -> None:
    # v1 says /docker/<id>, 0:: says containerd.service: the container wins.
    found = _capture("docker-for-linux-1293--debian-10-docker-container-proc-self-cgroup-v1.out")
    assert found == CgroupIdentity(units=(), container=Container(runtime="docker", id=DOCKER_ID))


def test_podman_with_systemd_inside_is_the_podman_container() -> None:
    found = _capture(
        "containers-podman-10602--ubuntu-20.04-podman-systemd-container-proc-cgroup-v1-partial.out"
    )
    assert found == CgroupIdentity(container=Container(runtime="podman", id=PODMAN_ID))


def test_crio_in_a_kubernetes_pod_from_controller_lines_only() -> None:
    # No name=systemd and no 0:: line: the container is read from freezer/cpuset.
    found = _capture("opencontainers-runc-4620--k8s-crio-cgroupv1-proc-pid-cgroup-partial.out")
    assert found == CgroupIdentity(container=Container(runtime="cri-o", id=CRIO_ID, pod=POD))


def test_this_machine_is_no_container_and_no_unit() -> None:
    # memory:/process_api/<hex> is a sandbox's group, not a runtime's form.
    assert _capture("debian-12-sandbox-hybrid--proc-self-cgroup.out") == CgroupIdentity()


V2 = "0::{}\n"
HYBRID = "12:pids:/whatever\n1:name=systemd:{}\n0::{}\n"


@pytest.mark.parametrize(
    ("text", "units"),
    [
        pytest.param(
            V2.format("/system.slice/nginx.service"), ("nginx.service",), id="synthetic-v2"
        ),
        pytest.param(
            V2.format("/user.slice/user-1000.slice/user@1000.service/app.slice/x.service"),
            ("user:x.service",),
            id="synthetic-user-unit",
        ),
        pytest.param(
            V2.format("/user.slice/user-1000.slice/user@1000.service/init.scope"),
            ("user@1000.service",),
            id="synthetic-user-manager-itself",
        ),
        pytest.param(
            V2.format("/user.slice/user-1000.slice/session-3.scope"), (), id="synthetic-session"
        ),
        pytest.param(V2.format("/init.scope"), ("init.scope",), id="synthetic-pid1"),
        pytest.param(
            V2.format("/system.slice/run-r0123.scope"),
            ("run-r0123.scope",),
            id="synthetic-run-scope",
        ),
        pytest.param(
            V2.format("/system.slice/foo.service/sub/worker.scope"),
            ("foo.service",),
            id="synthetic-service-beats-inner-scope",
        ),
        pytest.param(V2.format("/"), (), id="synthetic-root"),
        pytest.param(
            HYBRID.format("/system.slice/ssh.service", "/system.slice/other.service"),
            ("ssh.service",),
            id="synthetic-hybrid-name-systemd-wins",
        ),
        pytest.param(
            "1:name=systemd:/system.slice/cron.service\n",
            ("cron.service",),
            id="synthetic-v1-only",
        ),
        pytest.param(
            "garbage\n\n0::/system.slice/a.service\n", ("a.service",), id="synthetic-junk-lines"
        ),
        pytest.param("", (), id="synthetic-empty"),
    ],
)
def test_units(text: str, units: tuple[str, ...]) -> None:
    assert parse(text) == CgroupIdentity(units=units)


@pytest.mark.parametrize(
    ("path", "container"),
    [
        pytest.param(
            f"/system.slice/docker-{HEX}.scope",
            Container(runtime="docker", id=HEX),
            id="synthetic-docker-scope",
        ),
        pytest.param(
            f"/docker/{HEX}", Container(runtime="docker", id=HEX), id="synthetic-docker-cgroupfs"
        ),
        pytest.param(
            f"/docker/{DOCKER_ID}/docker/{HEX}",
            Container(runtime="docker", id=HEX),
            id="synthetic-docker-in-docker",
        ),
        pytest.param(
            f"/machine.slice/libpod-{HEX}.scope",
            Container(runtime="podman", id=HEX),
            id="synthetic-libpod-scope",
        ),
        pytest.param(
            f"/machine.slice/libpod-{HEX}.scope/container",
            Container(runtime="podman", id=HEX),
            id="synthetic-libpod-inner",
        ),
        pytest.param(
            f"/libpod_parent/libpod-{HEX}",
            Container(runtime="podman", id=HEX),
            id="synthetic-libpod-cgroupfs",
        ),
        pytest.param(
            f"/machine.slice/libpod-conmon-{HEX}.scope",
            None,
            id="synthetic-conmon-is-not-a-container",
        ),
        pytest.param(
            "/kubepods.slice/kubepods-burstable.slice/"
            f"kubepods-burstable-pod{POD_ESCAPED}.slice/cri-containerd-{HEX}.scope",
            Container(runtime="containerd", id=HEX, pod=POD),
            id="synthetic-kubepods-containerd",
        ),
        pytest.param(
            f"/kubepods.slice/kubepods-pod{POD_ESCAPED}.slice/cri-containerd-{HEX}.scope",
            Container(runtime="containerd", id=HEX, pod=POD),
            id="synthetic-kubepods-guaranteed",
        ),
        pytest.param(
            f"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{POD_ESCAPED}.slice/crio-{HEX}.scope",
            Container(runtime="cri-o", id=HEX, pod=POD),
            id="synthetic-kubepods-crio",
        ),
        pytest.param(
            f"/kubepods/burstable/pod{POD}/{HEX}",
            Container(runtime="kubernetes", id=HEX, pod=POD),
            id="synthetic-kubepods-cgroupfs",
        ),
        pytest.param(
            f"/system.slice/containerd.service/cri-containerd-{HEX}.scope",
            Container(runtime="containerd", id=HEX),
            id="synthetic-containerd-without-pod",
        ),
        pytest.param(f"/system.slice/crio-conmon-{HEX}.scope", None, id="synthetic-crio-conmon"),
        pytest.param("/lxc/web01", Container(runtime="lxc", id="web01"), id="synthetic-lxc"),
        pytest.param(
            "/lxc.payload.web01/system.slice/nginx.service",
            Container(runtime="lxc", id="web01"),
            id="synthetic-lxc-payload",
        ),
        pytest.param("/system.slice/docker-short.scope", None, id="synthetic-docker-not-an-id"),
        pytest.param(f"/docker/{HEX[:12]}", None, id="synthetic-docker-short-id"),
        pytest.param("/system.slice/nginx.service", None, id="synthetic-no-container"),
    ],
)
def test_containers(path: str, container: Container | None) -> None:
    assert container_of(path) == container
    found = parse(V2.format(path))
    assert found.container == container
    if container is not None:
        assert found.units == ()


def test_a_container_on_any_line_wins_over_the_units() -> None:
    # synthetic: name=systemd names a unit, a controller line names a container.
    text = f"4:memory:/system.slice/docker-{HEX}.scope\n1:name=systemd:/system.slice/x.service\n"
    assert parse(text) == CgroupIdentity(container=Container(runtime="docker", id=HEX))


def test_the_name_systemd_container_is_preferred_to_the_others() -> None:
    # synthetic: two lines disagree on the container; name=systemd is asked first.
    text = f"4:memory:/docker/{DOCKER_ID}\n1:name=systemd:/machine.slice/libpod-{HEX}.scope\n"
    assert parse(text).container == Container(runtime="podman", id=HEX)


def test_unit_of_marks_only_units_below_a_user_manager() -> None:
    assert (
        unit_of("/user.slice/user-1000.slice/user@1000.service/app.slice/x.service")
        == "user:x.service"
    )
    assert unit_of("/system.slice/user-runtime-dir@1000.service") == "user-runtime-dir@1000.service"
    assert unit_of("/user.slice") is None
