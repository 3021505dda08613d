"""Windows: the netstat parser in every language, tasklist, console decoding, end to end.

The golden files (tests/parsers/test_golden.py) pin every field of every row; the
tests here pin the behaviours the issue names, so that a regenerated golden
file cannot quietly accept a regression in them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import pytest

from portcheck._backends import windows as _windows
from portcheck._backends.context import Context
from portcheck._errors import NoToolError, ParseError, ToolError, ToolTimeoutError
from portcheck._lookup import lookup
from portcheck._parsers.netstat_windows import parse
from portcheck._parsers.tasklist import parse as parse_tasklist
from portcheck._parsers.tasklist import parse_services
from portcheck._records import Family, NoOwner, Platform, Protocol, Socket, State
from portcheck._run import Completed
from tests.support import golden
from tests.support.fakes import FakeRunner

REAL = golden.FIXTURES / "windows"
SYNTHETIC = golden.FIXTURES / "synthetic" / "windows"
BYTES = SYNTHETIC / "bytes"

NETSTAT = ("C:\\Windows\\System32\\netstat.exe", "-ano")
TASKLIST = ("C:\\Windows\\System32\\tasklist.exe", "/SVC", "/FO", "CSV", "/NH")
POWERSHELL = _windows.powershell_argv({})
ABSENT = FileNotFoundError(2, "No such file or directory")  # PowerShell removed or blocked


def text_of(name: str, directory: Path = SYNTHETIC) -> str:
    return golden.read_capture(directory / name)


def rows(name: str) -> list[Socket]:
    return parse(text_of(name))


def on_port(sockets: list[Socket], port: int) -> list[Socket]:
    return [s for s in sockets if s.local.port == port]


@pytest.fixture(autouse=True)
def _default_system_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # The argv is built from %SystemRoot%; CI must not depend on its environment.
    monkeypatch.delenv("SystemRoot", raising=False)
    monkeypatch.delenv("SYSTEMROOT", raising=False)


# --- the parser, per language and form ---------------------------------------


def test_real_english_capture_keeps_every_row() -> None:
    text = text_of("windows-10-en--netstat-ano.out", REAL)
    row_lines = [line for line in text.split("\r\n") if line.split()[:1] in (["TCP"], ["UDP"])]
    sockets = parse(text)
    assert len(sockets) == len(row_lines) == 208
    udp = [s for s in sockets if s.protocol is Protocol.UDP]
    assert len(udp) == 137
    # UDP rows have no state: the pid must come from the last column, not the 5th.
    assert all(s.state is None and s.pid is not None and s.pid > 0 for s in udp)
    assert {s.pid for s in on_port(udp, 5353)} == {3404, 7140, 7340, 14156, 27696}


def test_german_translated_states() -> None:
    by_port = {(s.local.port, s.family): s for s in rows("windows-10-de--netstat-ano.out")}
    assert by_port[135, Family.IPV4].state is State.LISTEN  # ABHÖREN
    assert by_port[49724, Family.IPV4].state is State.ESTABLISHED  # HERGESTELLT
    assert by_port[49762, Family.IPV4].state is State.TIME_WAIT  # WARTEND
    assert by_port[49675, Family.IPV4].state is State.CLOSE_WAIT  # SCHLIESSEN_WARTEN
    assert by_port[49675, Family.IPV4].pid == 5324  # a state wider than its column
    assert by_port[50422, Family.IPV4].state is State.SYN_SENT  # SYN_GESENDET
    assert by_port[50431, Family.IPV4].state is State.FIN_WAIT2  # FIN_WARTEN_2
    assert by_port[50441, Family.IPV4].state is State.UNKNOWN  # a word not in any table


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("ABHÖREN", State.LISTEN),
        ("HERGESTELLT", State.ESTABLISHED),
        ("WARTEND", State.TIME_WAIT),
        ("SCHLIESSEN_WARTEN", State.CLOSE_WAIT),
        ("SCHLIEßEN_WARTEN", State.CLOSE_WAIT),
        ("SYN_GESENDET", State.SYN_SENT),
        ("LISTENING", State.LISTEN),
        ("SYN_RECEIVED", State.SYN_RECV),
        ("DELETE_TCB", State.UNKNOWN),
        ("BOUND", State.BOUND),  # bound, neither listening nor connected
    ],
)
def test_state_words(word: str, state: State) -> None:
    line = f"  TCP    10.0.0.1:80            10.0.0.2:5000          {word}     42"
    assert parse(line)[0].state is state


def test_french_rows_carry_pids_without_a_pid_header() -> None:
    sockets = rows("windows-10-fr--netstat-ano.out")
    assert "PID" not in text_of("windows-10-fr--netstat-ano.out")
    assert [s.pid for s in on_port(sockets, 3000)] == [11820, 11820, 11820]
    # 30001 and 13000 must not match 3000: ports compare as integers.
    assert {s.local.port for s in sockets} >= {3000, 30001, 13000}
    assert len(on_port(sockets, 3000)) == 3


@pytest.mark.parametrize(
    ("name", "count", "port", "pids"),
    [
        # The TIME_WAIT row says PID 0, the idle process: no owner (pid None).
        ("windows-10-zh-cn--netstat-ano.out", 8, 8080, {15432, None}),
        ("windows-10-ja--netstat-ano.out", 8, 5432, {6240, 7712}),
        ("windows-10-ru--netstat-ano.out", 7, 1433, {4312}),
        ("windows-10-fr--netstat-ano.out", 9, 3000, {11820}),
    ],
)
def test_translated_headers_are_skipped_and_rows_found(
    name: str, count: int, port: int, pids: set[int | None]
) -> None:
    sockets = rows(name)
    assert len(sockets) == count
    assert {s.pid for s in on_port(sockets, port)} == pids


def test_japanese_rows_are_indented_further() -> None:
    text = text_of("windows-10-ja--netstat-ano.out")
    assert "  TCP         0.0.0.0:135" in text  # the fixture really has the wider indent
    first = parse(text)[0]
    assert (first.local.port, first.pid, first.state) == (135, 1108, State.LISTEN)


def test_anob_owner_lines_name_the_image() -> None:
    names = {
        (s.protocol, s.local.port, s.family): s.process
        for s in rows("windows-10-en--netstat-anob.out")
    }
    assert names[Protocol.TCP, 135, Family.IPV4] == "svchost.exe"  # after the RpcSs line
    assert names[Protocol.TCP, 445, Family.IPV4] == "System"  # PID 4 keeps its name
    assert names[Protocol.TCP, 7680, Family.IPV4] is None  # "Can not obtain ownership ..."
    assert names[Protocol.TCP, 8000, Family.IPV4] == "naïve-sync.exe"
    # A TIME_WAIT row says PID 0 "[System Idle Process]": no process owns it.
    assert names[Protocol.TCP, 49820, Family.IPV4] is None
    assert names[Protocol.UDP, 5353, Family.IPV6] == "svchost.exe"


def test_an_without_o_has_no_pids_and_b_still_names() -> None:
    assert {s.pid for s in rows("windows-10-en--netstat-an.out")} == {None}
    anb = rows("windows-10-en--netstat-anb.out")
    assert [(s.pid, s.process) for s in on_port(anb, 8000)] == [(None, "python.exe")]
    assert on_port(anb, 445)[0].process is None


def test_owner_line_does_not_leak_to_a_later_row() -> None:
    text = (
        "  TCP    0.0.0.0:1            0.0.0.0:0      LISTENING   10\r\n"
        " [first.exe]\r\n"
        " [second.exe]\r\n"
        "  TCP    0.0.0.0:2            0.0.0.0:0      LISTENING   20\r\n"
    )
    assert [s.process for s in parse(text)] == ["first.exe", None]


def test_plain_netstat_with_host_and_service_names() -> None:
    sockets = rows("windows-10-en--netstat.out")
    https = on_port(sockets, 49811)[0]
    assert https.remote is not None
    assert (https.remote.address, https.remote.port, https.remote.service) == (
        "lb-140-82-113-26-iad",
        443,
        "https",
    )
    assert sockets[0].remote is not None
    assert sockets[0].remote.address == "DESKTOP-7QK2M1"
    assert on_port(sockets, 49690)[0].family is Family.IPV6


def test_netstat_a_host_peer_with_port_zero_is_no_peer() -> None:
    sockets = rows("windows-10-en--netstat-a.out")
    epmap = on_port(sockets, 135)
    assert [(s.local.service, s.remote, s.state) for s in epmap] == [
        ("epmap", None, State.LISTEN),
        ("epmap", None, State.LISTEN),
    ]


def test_address_forms() -> None:
    sockets = rows("windows-edge-cases--netstat-ano.out")
    v6_445 = next(s for s in on_port(sockets, 445) if s.family is Family.IPV6)
    assert (v6_445.local.address, v6_445.remote) == ("::", None)
    mdns = on_port(sockets, 5353)[0]
    assert (mdns.local.address, mdns.local.zone, mdns.remote) == ("fe80::1", "24", None)
    zoned = on_port(sockets, 5357)[0]
    assert zoned.remote is not None
    assert (zoned.remote.address, zoned.remote.zone) == ("fe80::2", "24")
    assert on_port(sockets, 9300)[0].local.address == "::ffff:10.0.2.15"


def test_system_pseudo_processes() -> None:
    sockets = rows("windows-edge-cases--netstat-ano.out")
    idle = on_port(sockets, 50001)[0]
    # PID 0 on a TIME_WAIT row is the idle process standing in for "no process".
    assert (idle.pid, idle.process, idle.system_process) == (None, None, False)
    assert idle.no_owner is NoOwner.TIME_WAIT
    system = on_port(sockets, 5357)[0]
    assert (system.pid, system.process, system.system_process) == (4, "System", True)
    ordinary = on_port(sockets, 30001)[0]
    assert (ordinary.pid, ordinary.system_process) == (3000, False)


def test_crlf_lf_and_blank_lines_read_alike() -> None:
    crlf = text_of("windows-edge-cases--netstat-ano.out")
    assert "\r\n" in crlf
    assert parse(crlf) == parse(crlf.replace("\r\n", "\n"))
    assert len(parse(crlf)) == 8


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("  TCP    0.0.0.0:135", "two address:port"),
        ("  TCP    0.0.0.0:135            0.0.0.0:0        1712", "without a state"),
        ("  UDP    0.0.0.0:53             *:*      LISTENING    1712", "UDP has no state"),
        ("  TCP    0.0.0.0:99999          0.0.0.0:0        LISTENING   1", "out of range"),
        ("  TCP    [::1:80                [::]:0           LISTENING   1", "malformed"),
        ("  UDP    nonsense               *:*              7", "no port"),
    ],
)
def test_unreadable_rows_raise_with_the_line_number(line: str, reason: str) -> None:
    text = "\r\nActive Connections\r\n\r\n" + line + "\r\n"
    with pytest.raises(ParseError, match=reason) as info:
        parse(text)
    assert (info.value.tool, info.value.lineno, info.value.line) == ("netstat", 4, line)


def test_headers_and_blank_lines_alone_give_no_rows() -> None:
    header = "  协议  本地地址          外部地址        状态           PID"
    assert parse(f"\r\n活动连接\r\n\r\n{header}\r\n") == []
    assert parse("") == []


# --- tasklist -----------------------------------------------------------------


def test_tasklist_english() -> None:
    names = parse_tasklist(text_of("windows-10-en--tasklist-fo-csv-nh.out"))
    assert names[0] == "System Idle Process"
    assert names[4] == "System"
    assert names[27696] == "Spotify.exe"  # memory "1,102,556 K" has two commas
    assert len(names) == 14


def test_tasklist_localised_memory_and_names() -> None:
    german = parse_tasklist(text_of("windows-10-de--tasklist-fo-csv-nh.out"))
    assert (german[5324], german[7016]) == ("Prüfprogramm.exe", "OneDrive.exe")
    japanese = parse_tasklist(text_of("windows-10-ja--tasklist-fo-csv-nh.out"))
    assert japanese[7712] == "データ同期.exe"
    french = parse_tasklist('"explorer.exe","5012","Console","1","98\u00a0420 Ko"\r\n')
    assert french == {5012: "explorer.exe"}


def test_tasklist_quotes_header_and_messages() -> None:
    text = (
        '"Image Name","PID","Session Name","Session#","Mem Usage"\r\n'
        '"odd, ""name"".exe","77","Console","1","1,024 K"\r\n'
        "\r\n"
        "INFO: No tasks are running which match the specified criteria.\r\n"
    )
    assert parse_tasklist(text) == {77: 'odd, "name".exe'}


@pytest.mark.parametrize(
    "line",
    ['"a.exe","12","Console","1","1,024 K"\r\n"b.exe","x","Console"', '"a.exe","12"\r\n"b.exe'],
)
def test_tasklist_unreadable_row_raises(line: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_tasklist(line)
    assert (info.value.tool, info.value.lineno) == ("tasklist", 2)


# --- decoding -----------------------------------------------------------------

ENCODED = [
    ("windows-10-en--netstat-anob.cp437.bin", 437, "windows-10-en--netstat-anob.out"),
    ("windows-10-de--netstat-ano.cp850.bin", 850, "windows-10-de--netstat-ano.out"),
    ("windows-10-fr--netstat-ano.cp850.bin", 850, "windows-10-fr--netstat-ano.out"),
    ("windows-10-zh-cn--netstat-ano.cp936.bin", 936, "windows-10-zh-cn--netstat-ano.out"),
    ("windows-10-ja--netstat-ano.cp932.bin", 932, "windows-10-ja--netstat-ano.out"),
    ("windows-10-ru--netstat-ano.cp866.bin", 866, "windows-10-ru--netstat-ano.out"),
    ("windows-10-de--tasklist-fo-csv-nh.cp850.bin", 850, "windows-10-de--tasklist-fo-csv-nh.out"),
    ("windows-10-ja--tasklist-fo-csv-nh.cp932.bin", 932, "windows-10-ja--tasklist-fo-csv-nh.out"),
]


@pytest.mark.parametrize(("binary", "page", "text"), ENCODED)
def test_decoding_with_the_oem_code_page(binary: str, page: int, text: str) -> None:
    data = (BYTES / binary).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the fixture really exercises a non-UTF-8 path
    assert _windows.decode_console(data, page) == text_of(text)


@pytest.mark.parametrize(("binary", "page", "text"), [e for e in ENCODED if "netstat" in e[0]])
@pytest.mark.parametrize("wrong", [None, 65001, 437, 936, 99999])
def test_a_wrong_code_page_still_keeps_every_row(
    binary: str, page: int, text: str, wrong: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fallback is the locale's preferred encoding; make it UTF-8 as on CI.
    monkeypatch.setattr("locale.getpreferredencoding", lambda _do_setlocale=True: "UTF-8")
    data = (BYTES / binary).read_bytes()
    decoded = parse(_windows.decode_console(data, wrong))
    expected = parse(text_of(text))
    assert len(decoded) == len(expected) > 0
    assert [(s.local, s.pid) for s in decoded] == [(s.local, s.pid) for s in expected]


@pytest.mark.skipif(sys.platform == "win32", reason="GetOEMCP answers there")
def test_oem_code_page_is_none_off_windows() -> None:
    assert _windows.oem_code_page() is None


def test_system32_from_the_environment() -> None:
    assert _windows.system32({"SystemRoot": "D:\\WINNT"}) == "D:\\WINNT\\System32"
    assert _windows.system32({"SYSTEMROOT": "E:\\Win\\"}) == "E:\\Win\\System32"
    # Unset, relative or drive-relative roots would let another directory win.
    for bad in ({}, {"SystemRoot": ""}, {"SystemRoot": "Windows"}, {"SystemRoot": "C:Win"}):
        assert _windows.system32(bad) == "C:\\Windows\\System32"


# --- end to end: lookup(platform="windows") through a replaying runner --------


def english_runner(tasklist_status: int = 0) -> FakeRunner:
    netstat = (REAL / "windows-10-en--netstat-ano.out").read_bytes()
    tasks = (SYNTHETIC / "windows-10-en--tasklist-svc-fo-csv-nh.out").read_bytes()
    return FakeRunner(
        replies={
            POWERSHELL: ABSENT,
            NETSTAT: (0, netstat, b""),
            TASKLIST: (tasklist_status, tasks, b""),
        }
    )


@pytest.fixture
def oem_437(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_windows, "oem_code_page", lambda: 437)


@pytest.mark.usefixtures("oem_437")
def test_lookup_runs_netstat_and_tasklist_by_absolute_path() -> None:
    runner = english_runner()
    found = lookup(135, platform="windows", runner=runner)
    assert runner.calls == [NETSTAT, TASKLIST, POWERSHELL]
    assert [(s.family, s.pid, s.process, s.system_process) for s in found] == [
        (Family.IPV4, 1712, "svchost.exe", False),
        (Family.IPV6, 1712, "svchost.exe", False),
    ]
    # One svchost.exe hosting two services, from the same single tasklist run.
    assert {s.units for s in found} == {("RpcEptMapper", "RpcSs")}
    assert all(s.user is None and s.uid is None for s in found)


@pytest.mark.usefixtures("oem_437")
def test_lookup_system_root_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SystemRoot", "D:\\WINNT")
    netstat = ("D:\\WINNT\\System32\\netstat.exe", "-ano")
    runner = FakeRunner(
        replies={netstat: (0, (REAL / "windows-10-en--netstat-ano.out").read_bytes(), b"")}
    )
    assert [s.pid for s in lookup(445, platform="windows", runner=runner)] == [4, 4]
    assert runner.calls == [netstat]


@pytest.mark.usefixtures("oem_437")
def test_lookup_pid_4_is_system_and_needs_no_tasklist() -> None:
    runner = english_runner()
    found = lookup(445, platform="windows", runner=runner)
    assert [(s.pid, s.process, s.system_process) for s in found] == [
        (4, "System", True),
        (4, "System", True),
    ]
    assert runner.calls == [NETSTAT]


@pytest.mark.usefixtures("oem_437")
def test_lookup_udp_rows_have_their_pid_and_name() -> None:
    found = lookup(5353, platform="windows", runner=english_runner())
    assert all(s.protocol is Protocol.UDP and s.state is None for s in found)
    assert {(s.pid, s.process) for s in found} == {
        (3404, "svchost.exe"),
        (7140, "nvcontainer.exe"),
        (7340, "TeamViewer_Service.exe"),
        (14156, "chrome.exe"),
        (27696, "Spotify.exe"),
    }


@pytest.mark.usefixtures("oem_437")
def test_lookup_free_port_is_empty_without_tasklist() -> None:
    runner = english_runner()
    assert lookup(3000, platform="windows", runner=runner) == []
    assert runner.calls == [NETSTAT]


@pytest.mark.usefixtures("oem_437")
def test_lookup_keeps_pids_when_tasklist_fails() -> None:
    found = lookup(135, platform="windows", runner=english_runner(tasklist_status=1))
    assert [(s.pid, s.process) for s in found] == [(1712, None), (1712, None)]


class Localised(NamedTuple):
    page: int
    netstat: str
    tasklist: str
    port: int
    owners: list[tuple[int | None, str | None, State]]


LOCALISED = [
    Localised(
        850,
        "windows-10-de--netstat-ano.cp850.bin",
        "windows-10-de--tasklist-fo-csv-nh.cp850.bin",
        49675,
        [(5324, "Prüfprogramm.exe", State.CLOSE_WAIT)],
    ),
    Localised(
        850,
        "windows-10-de--netstat-ano.cp850.bin",
        "windows-10-de--tasklist-fo-csv-nh.cp850.bin",
        49762,
        [(None, None, State.TIME_WAIT)],
    ),
    Localised(
        932,
        "windows-10-ja--netstat-ano.cp932.bin",
        "windows-10-ja--tasklist-fo-csv-nh.cp932.bin",
        5432,
        [
            (6240, "postgres.exe", State.LISTEN),
            (7712, "データ同期.exe", State.ESTABLISHED),
            (6240, "postgres.exe", State.LISTEN),
        ],
    ),
]


@pytest.mark.parametrize("case", LOCALISED, ids=lambda c: f"cp{c.page}-port{c.port}")
def test_lookup_decodes_with_the_oem_code_page(
    case: Localised, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_windows, "oem_code_page", lambda: case.page)
    runner = FakeRunner(
        replies={
            POWERSHELL: ABSENT,
            NETSTAT: (0, (BYTES / case.netstat).read_bytes(), b""),
            TASKLIST: (0, (BYTES / case.tasklist).read_bytes(), b""),
        }
    )
    found = lookup(case.port, platform="windows", runner=runner)
    assert [(s.pid, s.process, s.state) for s in found] == case.owners
    assert all(s.system_process == (s.pid == 0) for s in found)


def test_backend_takes_an_injected_code_page() -> None:
    runner = FakeRunner(
        replies={
            POWERSHELL: ABSENT,
            NETSTAT: (0, (BYTES / "windows-10-ja--netstat-ano.cp932.bin").read_bytes(), b""),
            TASKLIST: (
                0,
                (BYTES / "windows-10-ja--tasklist-fo-csv-nh.cp932.bin").read_bytes(),
                b"",
            ),
        }
    )
    ctx = Context(
        runner=runner, timeout=5.0, platform=Platform.WINDOWS, local_proc=False, privileged=False
    )
    found = _windows.lookup(60412, ctx, code_page=lambda: 932)
    assert [(s.pid, s.process) for s in found] == [(8836, "psql.exe")]


def test_lookup_with_unknown_code_page_and_utf8_locale_still_finds_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The trap of other tools: cp850 bytes read as UTF-8 gave "no listeners".
    monkeypatch.setattr(_windows, "oem_code_page", lambda: None)
    monkeypatch.setattr("locale.getpreferredencoding", lambda _do_setlocale=True: "UTF-8")
    runner = FakeRunner(
        replies={
            POWERSHELL: ABSENT,
            NETSTAT: (0, (BYTES / "windows-10-de--netstat-ano.cp850.bin").read_bytes(), b""),
            TASKLIST: (
                0,
                (BYTES / "windows-10-de--tasklist-fo-csv-nh.cp850.bin").read_bytes(),
                b"",
            ),
        }
    )
    found = lookup(135, platform="windows", runner=runner)
    assert [(s.pid, s.state, s.process) for s in found] == [
        # ABHÖREN misdecoded (ABH\ufffdREN): still a row, with a pid, and since
        # issue 15 still read as LISTEN (one mangled letter of a known word).
        (1012, State.LISTEN, "svchost.exe"),
        (1012, State.LISTEN, "svchost.exe"),
    ]


@pytest.mark.usefixtures("oem_437")
@pytest.mark.parametrize(
    "stdout",
    [b"", b"\r\nActive Connections\r\n\r\n", "\r\nActive\r\n".encode("utf-16-le")],
)
def test_lookup_output_without_rows_is_an_error_not_a_free_port(stdout: bytes) -> None:
    runner = FakeRunner(replies={POWERSHELL: ABSENT, NETSTAT: (0, stdout, b"")})
    with pytest.raises(ToolError, match="no socket rows"):
        lookup(135, platform="windows", runner=runner)


@pytest.mark.usefixtures("oem_437")
def test_lookup_failing_netstat_raises_with_decoded_stderr() -> None:
    stderr = "Der angeforderte Vorgang erfordert erhöhte Rechte.\r\n".encode("cp437")
    runner = FakeRunner(replies={POWERSHELL: ABSENT, NETSTAT: (1, b"", stderr)})
    with pytest.raises(ToolError, match="erhöhte Rechte") as info:
        lookup(135, platform="windows", runner=runner)
    assert info.value.argv == list(NETSTAT)
    assert info.value.returncode == 1


class _BrokenRunner:
    """A runner whose tools fail to start, or time out."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def which(self, name: str) -> str | None:
        return None

    def run(self, argv: Sequence[str], *, timeout: float) -> Completed:
        raise self.error


@pytest.mark.usefixtures("oem_437")
def test_lookup_netstat_that_cannot_start_is_no_tool() -> None:
    runner = _BrokenRunner(FileNotFoundError(2, "The system cannot find the file specified"))
    with pytest.raises(NoToolError) as info:
        lookup(135, platform="windows", runner=runner)
    assert "netstat.exe cannot run" in info.value.tried["netstat"]


@pytest.mark.usefixtures("oem_437")
def test_lookup_timeout_is_raised_not_swallowed() -> None:
    runner = _BrokenRunner(ToolTimeoutError(NETSTAT, 10.0))
    with pytest.raises(ToolTimeoutError):
        lookup(135, platform="windows", runner=runner)


# --- tasklist /SVC: the services each process hosts -------------------------------


def test_tasklist_svc_one_process_many_services_and_none() -> None:
    text = (SYNTHETIC / "windows-10-en--tasklist-svc-fo-csv-nh.out").read_text()
    services = parse_services(text)
    assert services[1712] == ("RpcEptMapper", "RpcSs")
    assert services[3404] == ("Dnscache",)
    assert not {0, 4, 14156} & services.keys()
    assert parse_tasklist(text)[1712] == "svchost.exe"  # the names from the same run


def test_tasklist_svc_placeholder_in_any_language() -> None:
    # synthetic: German prints "Nicht zutreffend" for no service; it is learnt
    # from the rows of PID 0 and 4, which never host one.
    german = (
        '"System Idle Process","0","Nicht zutreffend"\r\n'
        '"System","4","Nicht zutreffend"\r\n'
        '"svchost.exe","1076","BrokerInfrastructure,DcomLaunch,PlugPlay,Power"\r\n'
        '"Prüfprogramm.exe","5324","Nicht zutreffend"\r\n'
    )
    assert parse_services(german) == {
        1076: ("BrokerInfrastructure", "DcomLaunch", "PlugPlay", "Power")
    }
    # synthetic: Japanese, placeholder N/A as in English, an image name in kanji.
    japanese = '"System","4","N/A"\n"データ同期.exe","7712","N/A"\n"svchost.exe","9","Dhcp"\n'
    assert parse_services(japanese) == {9: ("Dhcp",)}


def test_tasklist_without_svc_names_no_services() -> None:
    # The plain layout has five fields: its session column is not a service.
    text = (SYNTHETIC / "windows-10-en--tasklist-fo-csv-nh.out").read_text()
    assert parse_services(text) == {}


@pytest.mark.usefixtures("oem_437")
def test_listing_fills_units_with_one_tasklist_run() -> None:
    runner = english_runner()
    found = lookup(None, platform="windows", runner=runner, scope="all")
    assert runner.calls == [NETSTAT, TASKLIST, POWERSHELL]
    by_pid = {s.pid: s.units for s in found if s.pid is not None}
    assert by_pid[3404] == ("Dnscache",)
    assert (by_pid[4], by_pid[14156]) == ((), ())
