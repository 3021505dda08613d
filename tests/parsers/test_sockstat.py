"""FreeBSD `sockstat`: hand-written assertions on real captures (not regenerated)."""

from __future__ import annotations

import portcheck
from portcheck import Endpoint, Family, Protocol
from tests.parsers._real import parse_fixture, row

OLD = "freebsd/idx9413281242--freebsd-sockstat.out"
NEW = "freebsd/idx53228465383--freebsd-14-sockstat-P-udp-p-53-853.out"
JAILS = "freebsd/idx49209458117--freebsd-11.1-bastille-jails-sockstat-4-x3.out"
LONG_USERS = "synthetic/freebsd/freebsd-13--sockstat-long-users.out"


def test_pid_user_and_unix_rows_skipped_in_the_default_listing() -> None:
    found = parse_fixture(OLD)
    assert len(found) == 12  # 14 rows, two of them unix (`stream`)
    ssh = row(found, 22, pid=45933)
    assert (ssh.user, ssh.process, ssh.protocol, ssh.family) == (
        "root",
        "sshd",
        Protocol.TCP,
        Family.IPV4,
    )
    assert ssh.remote == Endpoint(address="192.168.5.4", port=59217)
    assert ssh.state is None  # no -s: sockstat printed no state
    tor = row(found, 9050)
    assert (tor.pid, tor.user) == (1014, "_tor")
    six = [s for s in found if s.pid == 815 and s.family is Family.IPV6]
    assert [s.local for s in six] == [Endpoint(address="::", port=22)]


def test_freebsd_14_layout_right_aligned_pid() -> None:
    found = parse_fixture(NEW)
    assert [(s.pid, s.local.address, s.local.port) for s in found] == [
        (974, "192.168.5.71", 53),
        (974, "127.0.0.1", 53),
        (974, "192.168.5.71", 853),
    ]


def test_jail_sections_repeat_the_header() -> None:
    found = parse_fixture(JAILS)
    assert [s.pid for s in found] == [9639, 9639, 31590, 31590, 66761, 66761]


def test_long_user_command_runs_into_pid() -> None:
    # Synthetic (from the facts of issue 15): sockstat.c prints the pid right
    # after a command pushed past column 20; 781106 is no FreeBSD pid.
    found = parse_fixture(LONG_USERS)
    assert [(s.user, s.process, s.pid) for s in found] == [
        ("longusername", "python2.7", 81106),
        ("longusername", "python2.7", 81106),
        ("postgresadmin", "postgres", 9999),
        ("verylonguser", "python3.11", 12345),
        ("jenkins-agent", "java", 4242),
        ("www", "nginx", 1031),
    ]


def test_run_in_word_alone() -> None:
    line = "longusername python2.781106 3  tcp4   127.0.0.1:8000        *:*\n"
    [sock] = portcheck.parse(line, tool="sockstat", platform="freebsd")
    assert (sock.process, sock.pid) == ("python2.7", 81106)
