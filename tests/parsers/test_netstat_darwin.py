"""macOS `netstat`: hand-written assertions on real captures (not regenerated)."""

from __future__ import annotations

from portcheck import Endpoint, Family, State
from portcheck._records import NoOwner
from tests.parsers._real import parse_fixture, row

PRE_SONOMA_AWK = "darwin/idx40811611501--macos-netstat-anvp-tcp-awk-LISTEN.out"
REDIS_MOCK = "darwin/idx829953135--macos-netstat-anv-p-tcp-redis-mock.out"
MACOS_26 = "darwin/idx69574366759--macos-26-netstat-anv-p-tcp-process-pid.out"
GREP_NO_HEADER = "darwin/pallets-flask-4382--macos-netstat-anlp-tcp-grep-5000.out"


def test_pid_column_after_rhiwat_shiwat() -> None:
    found = parse_fixture(PRE_SONOMA_AWK)
    assert len(found) == 13
    assert row(found, 35729).pid == 33784  # not rhiwat (131072), not epid (0)
    assert row(found, 8000).pid == 24811
    assert row(found, 6379).family is Family.IPV6  # tcp46


def test_bsd_state_spellings() -> None:
    found = parse_fixture(REDIS_MOCK)
    assert [s.state for s in found] == [
        State.FIN_WAIT2,
        State.CLOSE_WAIT,
        State.FIN_WAIT2,
        State.LISTEN,
        State.ESTABLISHED,
        State.ESTABLISHED,
    ]
    assert [s.pid for s in found] == [30555, 872, 24687, 31195, 31195, 31200]


def test_macos_26_process_pid_column() -> None:
    found = parse_fixture(MACOS_26)
    code = row(found, 62243)
    assert (code.process, code.pid) == ("Code Helper (Plu", 17120)  # cut at 16 by netstat
    rapportd = row(found, 53137)
    assert (rapportd.process, rapportd.pid, rapportd.local) == (
        "rapportd",
        645,
        Endpoint(address="::", port=53137),
    )
    # A `tcp4` row holding an IPv6 address in this (hand-trimmed) capture: the address wins.
    link_local = row(found, 48126)
    assert (link_local.family, link_local.local) == (
        Family.IPV6,
        Endpoint(address="fe80::1", port=48126, zone="lo0"),
    )


def test_rows_without_header_have_no_owner() -> None:
    found = parse_fixture(GREP_NO_HEADER)
    assert [(s.local.address, s.family) for s in found] == [
        ("127.0.0.1", Family.IPV4),
        ("::", Family.IPV6),
        ("0.0.0.0", Family.IPV4),
    ]
    assert all(s.no_owner is NoOwner.NOT_SHOWN for s in found)
