"""Windows `netstat`: hand-written assertions on real captures (not regenerated)."""

from __future__ import annotations

import pytest

import portcheck
from portcheck import State
from portcheck._records import NoOwner
from tests.parsers._real import parse_fixture, row

WIN10 = "windows/windows-10-en--netstat-ano.out"
WIN10_AN = "windows/Ducatel-Visual-Studio-Linux-Build-Box-4--win10-netstat-an-partial.out"
WIN7_FIND = "windows/flipace-whoport-1--win7-netstat-aon-find-80-find-LISTENING.out"
MOJIBAKE = "synthetic/windows/windows-10-de-cp850-read-as-cp1252--netstat-ano.out"


def test_pid_is_the_last_column_and_system_pid_4() -> None:
    found = parse_fixture(WIN10)
    rpc = [s for s in found if s.local.port == 135]
    assert [(s.local.address, s.pid, s.state) for s in rpc] == [
        ("0.0.0.0", 1712, State.LISTEN),
        ("::", 1712, State.LISTEN),
    ]
    spotify = [(s.protocol.value, s.state, s.pid) for s in found if s.local.port == 57621]
    # The UDP row has no state: its pid is still the last column, not the fourth.
    assert spotify == [("tcp", State.LISTEN, 27696), ("udp", None, 27696)]
    smb = [s for s in found if s.local.port == 445]
    assert {(s.pid, s.process, s.system_process) for s in smb} == {(4, "System", True)}


def test_no_pid_column_is_not_shown() -> None:
    found = parse_fixture(WIN10_AN)
    assert len(found) == 20
    assert all(s.no_owner is NoOwner.NOT_SHOWN and s.state is State.LISTEN for s in found)


def test_find_filtered_rows_without_header() -> None:
    found = parse_fixture(WIN7_FIND)
    assert [(s.local.address, s.local.port, s.pid) for s in found] == [
        ("0.0.0.0", 8042, 8224),
        ("127.0.0.2", 80, 3040),
    ]


def test_states_mangled_by_the_wrong_code_page() -> None:
    # Synthetic (from the facts of issue 15): the German capture written in
    # cp850 and read as cp1252, so ABHÖREN arrives as ABH™REN.
    found = parse_fixture(MOJIBAKE)
    assert [s.state for s in found if s.local.port in (135, 445, 5939)] == [State.LISTEN] * 5
    assert row(found, 50441).state is State.UNKNOWN  # GEBUNDEN: a word no table knows


@pytest.mark.parametrize(
    "word",
    [
        "ABH™REN",
        "ABHÖREN".encode().decode("cp1252"),
        "ABHÍREN",
        "ABH?REN",
        "ABH\ufffdREN",
        "abh™ren",
    ],
    ids=["cp850-as-cp1252", "utf8-as-cp1252", "cp1252-as-cp850", "question-mark", "fffd", "lower"],
)
def test_mangled_listen_word(word: str) -> None:
    text = f"  TCP    0.0.0.0:135            0.0.0.0:0              {word}         1012\n"
    [sock] = portcheck.parse(text, tool="netstat", platform="windows")
    assert sock.state is State.LISTEN


@pytest.mark.parametrize("word", ["ABX™REN", "ABH™™REN", "LIST?N", "™"])
def test_words_too_far_gone_stay_unknown(word: str) -> None:
    text = f"  TCP    0.0.0.0:135            0.0.0.0:0              {word}         1012\n"
    [sock] = portcheck.parse(text, tool="netstat", platform="windows")
    assert sock.state is State.UNKNOWN
