"""Windows' excluded port ranges (`netsh interface ipv4 show excludedportrange protocol=tcp`).

The fixtures are synthetic (tests/fixtures/synthetic/windows/README.md): written
from the documented format, in English and in German.
"""

from __future__ import annotations

import pytest

from portcheck._errors import ParseError
from portcheck._parsers.netsh_excluded import ExcludedRange, parse
from tests.support import golden

SYNTHETIC = golden.FIXTURES / "synthetic" / "windows"
EN_TCP = "windows-10-en--netsh-interface-ipv4-show-excludedportrange-protocol-tcp.out"
DE_TCP = "windows-10-de--netsh-interface-ipv4-show-excludedportrange-protocol-tcp.out"
EN_UDP6 = "windows-10-en--netsh-interface-ipv6-show-excludedportrange-protocol-udp.out"


def text_of(name: str) -> str:
    return golden.read_capture(SYNTHETIC / name)


def test_english_table() -> None:
    assert parse(text_of(EN_TCP)) == [
        ExcludedRange(1080, 1080, administered=False),
        ExcludedRange(5357, 5357, administered=False),
        ExcludedRange(49696, 49795, administered=False),
        ExcludedRange(49896, 49995, administered=False),
        ExcludedRange(50000, 50059, administered=True),
        ExcludedRange(55000, 55000, administered=True),
    ]


def test_german_table_is_read_by_its_shape() -> None:
    assert parse(text_of(DE_TCP)) == [
        ExcludedRange(2869, 2869, administered=False),
        ExcludedRange(5357, 5357, administered=False),
        ExcludedRange(50000, 50059, administered=True),
        ExcludedRange(61000, 61099, administered=False),
    ]


def test_a_table_without_rows_excludes_nothing() -> None:
    assert parse(text_of(EN_UDP6)) == []


def test_line_endings_and_spacing_do_not_matter() -> None:
    text = "Start Port    End Port\n---------- --------\n1 2\n\t10\t20\t*\n"
    assert parse(text) == [ExcludedRange(1, 2, False), ExcludedRange(10, 20, True)]


@pytest.mark.parametrize(
    "text",
    [
        "",
        # An error message printed with exit status 0 must not read as "nothing excluded".
        "The following command was not found: interface ipv4 show excludedportrange.\r\n",
        "Start Port    End Port\r\n      5357        5357\r\n",  # rows without the rule
    ],
)
def test_no_table_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="no dashed rule"):
        parse(text)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("      5357", "two port numbers"),
        ("  1 2 3", "two port numbers"),
        ("  1 2 **", "two port numbers"),
        ("  5000 4000", "not a range of ports: 5000-4000"),
        ("  0 10", "not a range of ports: 0-10"),
        ("  1 65536", "not a range of ports: 1-65536"),
        ("  \u0663 \u0663", None),  # Arabic-Indic digits are not netsh's: skipped, not read
    ],
)
def test_bad_rows(row: str, reason: str | None) -> None:
    text = f"Start Port    End Port\n----------    --------\n{row}\n"
    if reason is None:
        assert parse(text) == []
        return
    with pytest.raises(ParseError, match=reason) as info:
        parse(text)
    assert (info.value.lineno, info.value.line) == (3, row)
