"""`/proc/PID/stat`: the fields of a process's identity, whatever its name holds."""

from __future__ import annotations

import os

import pytest

from portcheck._parsers.proc_stat import ProcStat, parse_stat

# A real line of this machine's kernel (a sleeping python3), with the fields after
# starttime cut short: what matters is counting from the last ")".
REAL = (
    b"4242 (python3) S 4000 4242 4000 34816 4242 4194304 1221 0 0 0 5 1 0 0 20 0 1 0"
    b" 123456 17154048 2493 18446744073709551615 1 1 0 0 0 0 0 16781312 2 0 0 0 17 1 0 0\n"
)


def test_reads_state_parent_and_start_time() -> None:
    assert parse_stat(REAL) == ProcStat(state="S", ppid=4000, start_ticks=123456)


@pytest.mark.parametrize("name", [b"a) S 1 2 3", b"x y", b"))", b"(", b"\n"])
def test_a_hostile_name_does_not_shift_the_fields(name: bytes) -> None:
    line = REAL.replace(b"(python3)", b"(" + name + b")")
    assert parse_stat(line) == ProcStat(state="S", ppid=4000, start_ticks=123456)


@pytest.mark.parametrize("bad", [b"", b"4242 python3 S 1", b"4242 (x) S 1 2 3", b"1 (x) S a b"])
def test_what_is_not_a_stat_line_is_none(bad: bytes) -> None:
    assert parse_stat(bad) is None


def test_this_process_reads_itself() -> None:
    if not os.path.exists("/proc/self/stat"):
        pytest.skip("no /proc here")
    with open("/proc/self/stat", "rb") as f:
        found = parse_stat(f.read())
    assert found is not None
    assert (found.ppid, found.state) == (os.getppid(), "R")
    assert found.start_ticks > 0
