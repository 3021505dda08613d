"""Windows: excluded port ranges through netsh, and `find_free_ports` skipping them.

Runs on any OS: netsh and netstat are replayed by the fake runner, and the bind
check is replaced (binding on this machine says nothing about a Windows one).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from portcheck._backends import windows as _windows
from portcheck._backends.context import local_context
from portcheck._backends.windows import powershell_argv
from portcheck._context import context_for
from portcheck._errors import ToolError
from portcheck._ports.describe import report
from portcheck._ports.find import Wanted, search
from portcheck._ports.reserved import ReservedRange, reserved_ranges
from portcheck._records import Family, Platform, Protocol
from tests.support import golden
from tests.support.fakes import FakeRunner, Reply

SYNTHETIC = golden.FIXTURES / "synthetic" / "windows"
NETSH = "C:\\Windows\\System32\\netsh.exe"
NETSTAT = ("C:\\Windows\\System32\\netstat.exe", "-ano")
DYNAMIC = (NETSH, "int", "ipv4", "show", "dynamicport", "tcp")
DYNAMIC_REPLY = b"Start Port      : 49152\r\nNumber of Ports : 16384\r\n"
EN_TCP = "windows-10-en--netsh-interface-ipv4-show-excludedportrange-protocol-tcp.out"
DE_TCP = "windows-10-de--netsh-interface-ipv4-show-excludedportrange-protocol-tcp.out"
EMPTY = "windows-10-en--netsh-interface-ipv6-show-excludedportrange-protocol-udp.out"
SOURCE_V4_TCP = "netsh interface ipv4 show excludedportrange protocol=tcp"


@pytest.fixture(autouse=True)
def _default_system_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SystemRoot", raising=False)
    monkeypatch.delenv("SYSTEMROOT", raising=False)


def excluded(family: str, protocol: str) -> tuple[str, ...]:
    return (NETSH, "interface", family, "show", "excludedportrange", f"protocol={protocol}")


def reply(name: str) -> tuple[int, bytes, bytes]:
    return (0, (SYNTHETIC / name).read_bytes(), b"")


TASKLIST = ("C:\\Windows\\System32\\tasklist.exe", "/SVC", "/FO", "CSV", "/NH")
POWERSHELL = powershell_argv({})


def windows_runner(**extra: tuple[int, bytes, bytes]) -> FakeRunner:
    replies: dict[tuple[str, ...], Reply] = {
        NETSTAT: reply("../../windows/windows-10-en--netstat-ano.out"),
        excluded("ipv4", "tcp"): reply(EN_TCP),
        excluded("ipv6", "tcp"): reply(EMPTY),
        excluded("ipv4", "udp"): reply(EMPTY),
        excluded("ipv6", "udp"): reply(EMPTY),
        DYNAMIC: (0, DYNAMIC_REPLY, b""),
        # The listing is `portcheck.sockets()`'s: names come with it.
        TASKLIST: (0, b'"svchost.exe","1100","N/A"\r\n', b""),
        POWERSHELL: FileNotFoundError(2, "PowerShell removed"),
    }
    return FakeRunner(replies=replies)


def test_argv_is_netsh_by_absolute_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SystemRoot", "D:\\Win")
    assert _windows.netsh_excluded_argv({"SystemRoot": "D:\\Win"}, Family.IPV6, Protocol.UDP) == (
        "D:\\Win\\System32\\netsh.exe",
        "interface",
        "ipv6",
        "show",
        "excludedportrange",
        "protocol=udp",
    )


def test_excluded_ranges_runs_netsh_once_and_labels_each_range() -> None:
    runner = windows_runner()
    ctx = local_context(Platform.WINDOWS, runner, 5.0)
    source, found = _windows.excluded_ranges(ctx, Family.IPV4, Protocol.TCP, code_page=lambda: 437)
    assert runner.calls == [excluded("ipv4", "tcp")]
    assert source == SOURCE_V4_TCP
    assert [(r.first, r.last, r.administered) for r in found] == [
        (1080, 1080, False),
        (5357, 5357, False),
        (49696, 49795, False),
        (49896, 49995, False),
        (50000, 50059, True),
        (55000, 55000, True),
    ]


def test_excluded_ranges_decodes_the_oem_code_page() -> None:
    data = (SYNTHETIC / "bytes" / (DE_TCP[: -len(".out")] + ".cp850.bin")).read_bytes()
    runner = FakeRunner(replies={excluded("ipv4", "tcp"): (0, data, b"")})
    ctx = local_context(Platform.WINDOWS, runner, 5.0)
    _source, found = _windows.excluded_ranges(ctx, Family.IPV4, Protocol.TCP, code_page=lambda: 850)
    assert [(r.first, r.last, r.administered) for r in found] == [
        (2869, 2869, False),
        (5357, 5357, False),
        (50000, 50059, True),
        (61000, 61099, False),
    ]


def test_a_failing_netsh_is_a_tool_error() -> None:
    runner = FakeRunner(replies={excluded("ipv4", "udp"): (1, b"", b"not found")})
    ctx = local_context(Platform.WINDOWS, runner, 5.0)
    with pytest.raises(ToolError, match="exited with status 1"):
        _windows.excluded_ranges(ctx, Family.IPV4, Protocol.UDP, code_page=lambda: 437)


def test_reserved_ranges_asks_ipv4_and_ipv6_of_each_protocol() -> None:
    runner = windows_runner()
    found = reserved_ranges(
        (Protocol.TCP, Protocol.UDP),
        context_for(platform=Platform.WINDOWS, runner=runner, timeout=5.0),
    )
    assert runner.calls == [
        excluded("ipv4", "tcp"),
        excluded("ipv6", "tcp"),
        excluded("ipv4", "udp"),
        excluded("ipv6", "udp"),
    ]
    assert len(found) == 6


def test_reserved_ranges_leaves_out_a_failing_netsh() -> None:
    runner = windows_runner()
    runner.replies[excluded("ipv4", "tcp")] = (1, b"", b"The following command was not found")
    assert (
        reserved_ranges(
            (Protocol.TCP,),
            context_for(platform=Platform.WINDOWS, runner=runner, timeout=5),
        )
        == []
    )


def _always(port: int, protocols: Sequence[Protocol]) -> bool:
    return True


def test_find_skips_excluded_ranges_and_used_ports() -> None:
    runner = windows_runner()
    # 49660-49700: TCP ports 49664-49668, 49673, 49674 and 49681 listen in the
    # real capture; 49696-49795 is excluded. All of it is ephemeral on Windows.
    found = search(
        Wanted.checked(49660, 49700, count=28, allow_ephemeral=True),
        context_for(platform="windows", runner=runner),
        can_bind=_always,
    )
    in_use = {49664, 49665, 49666, 49667, 49668, 49673, 49674, 49681}
    assert found.ports == tuple(
        p for p in range(49660, 49701) if p not in in_use and not 49696 <= p <= 49795
    )
    assert found.enough
    assert found.skipped == {
        "in_use": 8,
        "reserved": 5,
        "privileged": 0,
        "ephemeral": 0,
        "bind_refused": 0,
    }
    # One listing for the whole range (netstat, tasklist for its names and
    # PowerShell for command lines), then netsh for TCP on IPv4 and IPv6.
    assert runner.calls == [
        NETSTAT,
        TASKLIST,
        POWERSHELL,
        excluded("ipv4", "tcp"),
        excluded("ipv6", "tcp"),
        DYNAMIC,
    ]


def test_find_inside_an_excluded_range_finds_nothing() -> None:
    found = search(
        Wanted.checked(50000, 50010, allow_ephemeral=True),
        context_for(platform="windows", runner=windows_runner()),
        can_bind=_always,
    )
    assert (found.ports, found.skipped["reserved"]) == ((), 11)
    error = found.error()
    assert (error.found, error.wanted) == ([], 1)
    assert "found 0 free ports of 1 wanted in 50000-50010 (11 reserved)" in str(error)


def test_describe_names_the_excluded_range() -> None:
    runner = windows_runner()
    found = report(50010, context_for(platform="windows", runner=runner), sockets=[])
    assert found.reserved == ReservedRange(
        first=50000,
        last=50059,
        source=SOURCE_V4_TCP,
        protocol=Protocol.TCP,
        family=Family.IPV4,
        refuses_bind=True,
        administered=True,
    )
    assert found.privileged is False
    text = found.explain()
    assert "Windows excludes it from binding: excluded port range 50000-50059 (tcp/ipv4;" in text
    assert "an administrator added it" in text
    assert '"access forbidden" (WSAEACCES)' in text
    # Reserved: the ephemeral warning would be noise.
    assert "inside the ephemeral range: the kernel may hand it" not in text
