"""iproute2 `ss`: hand-written assertions on real captures (not regenerated)."""

from __future__ import annotations

import portcheck
from portcheck import Endpoint, Family, Protocol, State
from portcheck._records import NoOwner
from tests.parsers._real import parse_fixture, row

CENTOS_7 = "linux/idx1076382936--centos-7-docker-host-ss-ntlu-wide.out"
ROCKY_GREP = "linux/idx18163749073--rocky-9-sudo-ss-lnpt-grep-docker.out"
DEBIAN_9 = "linux/idx37968864337--debian-9-htb-stratosphere-ss-tuna.out"
NGINX = "linux/idx67591127578--linux-ss-tlnp-filtered-80-443-3000.out"
NOBODY = "linux/debian-12-as-nobody--ss-tuanpe.out"


def test_old_layout_star_is_ipv4_and_triple_colon_is_ipv6() -> None:
    found = parse_fixture(CENTOS_7)
    ssh = [s for s in found if s.local.port == 22]
    assert [(s.family, s.local.address) for s in ssh] == [
        (Family.IPV4, "0.0.0.0"),
        (Family.IPV6, "::"),
    ]
    assert row(found, 50001).protocol is Protocol.UDP


def test_rows_without_header_or_netid_column() -> None:
    found = parse_fixture(ROCKY_GREP)
    assert [(s.family, s.pid, s.process, s.state) for s in found] == [
        (Family.IPV4, 5538, "docker-proxy", State.LISTEN),
        (Family.IPV6, 5543, "docker-proxy", State.LISTEN),
    ]


def test_one_record_per_process_sharing_a_socket() -> None:
    found = parse_fixture(NGINX)
    https_v4 = [s.pid for s in found if s.local == Endpoint(address="0.0.0.0", port=443)]
    assert https_v4 == [1155941, 1155940, 1155939, 1155938, 523662]


def test_time_wait_has_no_owner_and_other_rows_are_hidden_without_p() -> None:
    found = parse_fixture(DEBIAN_9)
    waits = [s for s in found if s.state is State.TIME_WAIT]
    assert len(waits) == 3
    assert all(s.no_owner is NoOwner.TIME_WAIT for s in waits)
    established = [s for s in found if s.state is State.ESTABLISHED]
    assert [(s.remote, s.pid) for s in established] == [
        (Endpoint(address="10.10.14.38", port=58136), None)
    ]


def test_other_users_sockets_are_hidden_not_dropped() -> None:
    found = parse_fixture(NOBODY)
    mine = [s for s in found if s.pid is not None]
    hidden = [s for s in found if s.pid is None and s.state is not State.TIME_WAIT]
    assert mine
    assert hidden
    assert {s.process for s in mine} <= {"python"}
    assert all(s.no_owner is NoOwner.HIDDEN for s in hidden)


# Process names are printed raw by ss: a name may hold newlines and quotes.
HOSTILE_SS = (
    "State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\n"
    'LISTEN 0      128        127.0.0.1:34241      0.0.0.0:*    users:(("ev\n'
    'il\x1b[31mX",pid=27139,fd=3)) ino:269185 sk:1655 cgroup:/ <->\n'
    "LISTEN 0      128        127.0.0.1:34242      0.0.0.0:*    "
    'users:(("x",pid=1,fd=3)",pid=27140,fd=3)) ino:269186 sk:1656 cgroup:/ <->\n'
    "LISTEN 0      128        127.0.0.1:34243      0.0.0.0:*    "
    'users:(("a\n",pid=5,fd=3),("b",pid=6,fd=4)) ino:269187 sk:1657 cgroup:/ <->\n'
)


def test_ss_names_with_newlines_and_fake_entries_keep_every_row() -> None:
    found = [
        (s.local.port, s.pid, s.process)
        for s in portcheck.parse(HOSTILE_SS, tool="ss", platform="linux")
    ]
    assert found == [
        (34241, 27139, "ev\nil\x1b[31mX"),
        (34242, 27140, 'x",pid=1,fd=3)'),  # not pid 1
        (34243, 5, "a\n"),
        (34243, 6, "b"),
    ]
