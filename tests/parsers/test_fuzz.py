"""Fuzzing of every parser: arbitrary text and mutated real captures.

Whatever the text, a parser returns valid records or raises `ParseError`:
any other exception is a bug, and so is a record that could mislead a script
(a port outside 0-65535, a pid of 0 or below that `kill` would turn against
the caller's own process group, a UDP socket with a TCP state).

Two budgets. The fixed one is reproducible (`derandomize=True`, no example
database): `EXAMPLES` per parser and strategy, chosen to keep it near 15 s
per Python version on a 2-core CI machine. The seeded one
(`test_parse_seeded`, `SEEDED_EXAMPLES` per parser) is seeded from the
commit id (`git rev-parse HEAD`), so each commit explores new inputs; a
failure names its seed, and `PORTCHECK_FUZZ_SEED=<seed>` replays it. Outside
a git checkout the seed is a constant. Mutated captures are drawn from real
captures only (never tests/fixtures/synthetic/), as docs/reliability.md
says. Bugs found, with their regression tests at the end of this file, are
listed in docs/reliability.md.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st

import portcheck
from portcheck import (
    Endpoint,
    Family,
    ParseError,
    Protocol,
    Socket,
    State,
)
from portcheck._parsers import PARSERS, proc_net
from portcheck._parsers import netsh_excluded as _netsh_excluded
from portcheck._parsers import tasklist as _tasklist
from portcheck._records import NoOwner
from tests.support import golden

# Examples per parser and per strategy (arbitrary text, token soup, mutated capture).
# For a longer local hunt: PORTCHECK_FUZZ_EXAMPLES=5000 PORTCHECK_FUZZ_RANDOM=1.
EXAMPLES = int(os.environ.get("PORTCHECK_FUZZ_EXAMPLES", "300"))
RANDOM = os.environ.get("PORTCHECK_FUZZ_RANDOM") == "1"
# /proc/net tables and tasklist CSV have a simpler grammar than the tool outputs.
TABLE_EXAMPLES = 200

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=not RANDOM,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TABLE_FUZZ = settings(FUZZ, max_examples=TABLE_EXAMPLES)
# The seeded budget: examples per parser, drawn anew for each commit.
SEEDED_EXAMPLES = int(os.environ.get("PORTCHECK_FUZZ_SEEDED_EXAMPLES", "250"))
FALLBACK_SEED = 15  # outside a git checkout (an sdist, a copied tree)


def commit_seed() -> int:
    """PORTCHECK_FUZZ_SEED if set, else the commit id as a number, else a constant."""
    given_seed = os.environ.get("PORTCHECK_FUZZ_SEED")
    if given_seed:
        return int(given_seed)
    git = shutil.which("git")
    if git is None:
        return FALLBACK_SEED
    try:
        done = subprocess.run(
            [git, "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return FALLBACK_SEED
    head = done.stdout.strip()
    if done.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", head):
        return FALLBACK_SEED
    return int(head[:15], 16)  # 60 bits: a plain, printable int


SEED = commit_seed()
SEEDED = settings(FUZZ, max_examples=SEEDED_EXAMPLES, derandomize=False)

LINUX = golden.FIXTURES / "linux"
PROC_TABLES = {
    "tcp": (Protocol.TCP, Family.IPV4),
    "tcp6": (Protocol.TCP, Family.IPV6),
    "udp": (Protocol.UDP, Family.IPV4),
    "udp6": (Protocol.UDP, Family.IPV6),
}


# Every (platform, tool) of the one parser table: a new parser is fuzzed
# without editing this file.
PAIRS = [(platform.value, tool) for platform, tool in PARSERS]


@functools.cache
def _captures_for(platform: str, tool: str) -> tuple[str, ...]:
    """Texts of the REAL captures of `tool` on `platform`; any platform's if it has none
    (NetBSD: FreeBSD's and OpenBSD's). Synthetic fixtures are never drawn on."""
    own = [c for c in golden.real_captures() if golden.tool_of(c) == tool]
    mine = [c for c in own if golden.platform_of(c) == platform] or own
    return tuple(golden.read_capture(c) for c in mine)


def _read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as f:
        return f.read()


# Words the parsers look for, so that generated lines get past the first checks.
VOCAB = [
    "tcp", "tcp4", "tcp6", "tcp46", "udp", "udp4", "udp6", "udp46", "TCP", "UDP", "raw",
    "unix", "u_str", "Netid", "State", "Proto", "Active", "Internet", "connections",
    "LISTEN", "ESTAB", "UNCONN", "LISTENING", "ESTABLISHED", "TIME_WAIT", "SYN-SENT", "(LISTEN)",
    "ABHÖREN", "0", "1", "65535", "65536", "99999999999999999999", "-", "*", "*:*", "*.*",
    "0.0.0.0:0", "127.0.0.1:80", "[::]:22", ":::22", "[fe80::1]%eth0:123", "[fe80::1%24]:53",
    "127.0.0.53%lo:53", "::ffff:10.0.2.15:9300", "127.0.0.1.22", "*.22", "::1.22",
    "fe80::aede:48ff:.5", "localhost:smtp", "a:1->b:2", "1.2.3.4:5->6.7.8.9:10",
    'users:(("nginx",pid=583,fd=6),("x",pid=0,fd=1))', "uid:1000", "ino:4909", "v6only:1",
    "1234/sshd:", "0/init", "p123", "p0", "f3", "cpython", "u0", "Lroot", "tIPv4", "tIPv6",
    "PTCP", "PUDP", "n*:47001", "TST=LISTEN", "IPv4", "IPv6", "0t0", "3u", "root", "sshd",
    "812", "?", "(state)", "Local", "Address", "Foreign", "Local Address", "Foreign Address",
    "rhiwat", "shiwat", "pid", "epid", "process:pid", "rxbytes", "txbytes", "Fusion:22712",
    '"svchost.exe"', '"1076"', '"24,560 K"', "[svchost.exe]", "²", "٣", "\x00", "\ufffd",
]  # fmt: skip
SEPARATORS = [" ", "  ", "\t", "\n", "\r\n", "\r", "", ",", ":", "\x00"]

token_soup = st.lists(
    st.one_of(st.sampled_from(VOCAB), st.text(max_size=6), st.sampled_from(SEPARATORS)),
    max_size=40,
).map("".join)
arbitrary_text = st.text(max_size=300)


@st.composite
def mutated(draw: st.DrawFn, texts: tuple[str, ...]) -> str:
    """A capture with lines cut, columns dropped, bytes changed, lines duplicated or
    removed, and CRLF mixed in."""
    lines = draw(st.sampled_from(texts)).split("\n")
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(lines) - 1))
        line = lines[at]
        op = draw(st.sampled_from(["cut", "column", "byte", "dup", "drop", "crlf", "insert"]))
        if op == "cut":
            lines[at] = line[: draw(st.integers(0, len(line)))]
        elif op == "column":
            words = re.split(r"(\s+)", line)
            if len(words) > 1:
                del words[draw(st.integers(0, len(words) - 1))]
            lines[at] = "".join(words)
        elif op == "byte" and line:
            i = draw(st.integers(0, len(line) - 1))
            new = draw(st.one_of(st.characters(), st.sampled_from(VOCAB)))
            lines[at] = line[:i] + new + line[i + 1 :]
        elif op == "dup":
            lines.insert(at, line)
        elif op == "drop" and len(lines) > 1:
            del lines[at]
        elif op == "crlf":
            lines[at] = line + "\r"
        elif op == "insert":
            lines.insert(at, draw(token_soup))
    return "\n".join(lines)


def check_endpoint(endpoint: object) -> None:
    assert isinstance(endpoint, Endpoint)
    assert type(endpoint.port) is int
    assert 0 <= endpoint.port <= 65535
    assert isinstance(endpoint.address, str)
    assert endpoint.zone is None or isinstance(endpoint.zone, str)
    assert endpoint.service is None or isinstance(endpoint.service, str)


def check_socket(sock: object) -> None:
    """Every field of a record is something a script can act on safely."""
    assert isinstance(sock, Socket)
    assert isinstance(sock.protocol, Protocol)
    assert isinstance(sock.family, Family)
    check_endpoint(sock.local)
    if sock.remote is not None:
        check_endpoint(sock.remote)
    if sock.protocol is Protocol.UDP:
        assert sock.state is None
    else:
        assert sock.state is None or isinstance(sock.state, State)
    if sock.system_process:  # Windows PID 0 and 4, marked so that nobody kills them
        assert sock.pid in (0, 4)
    else:
        assert sock.pid is None or (type(sock.pid) is int and sock.pid > 0)
    assert sock.uid is None or (type(sock.uid) is int and sock.uid >= 0)
    assert sock.process is None or isinstance(sock.process, str)
    assert sock.user is None or isinstance(sock.user, str)


def check_parse(parse: Callable[[str], list[Socket]], text: str) -> None:
    try:
        found = parse(text)
    except ParseError as exc:
        error: ParseError | None = exc
    else:
        error = None
    if error is not None:
        assert isinstance(error.lineno, int)
        assert len(str(error)) < 2000
        return
    assert isinstance(found, list)
    for sock in found:
        check_socket(sock)


def _parser(platform: str, tool: str) -> Callable[[str], list[Socket]]:
    return functools.partial(portcheck.parse, tool=tool, platform=platform)


PAIR_IDS = [f"{p}-{t}" for p, t in PAIRS]


def test_every_parser_is_fuzzed() -> None:
    for platform, tool in PAIRS:
        assert _captures_for(platform, tool), f"no capture to mutate for {platform} {tool}"


@pytest.mark.parametrize(("platform", "tool"), PAIRS, ids=PAIR_IDS)
@FUZZ
@given(text=arbitrary_text)
def test_parse_arbitrary_text(platform: str, tool: str, text: str) -> None:
    check_parse(_parser(platform, tool), text)


@pytest.mark.parametrize(("platform", "tool"), PAIRS, ids=PAIR_IDS)
@FUZZ
@given(data=st.data())
def test_parse_token_soup(platform: str, tool: str, data: st.DataObject) -> None:
    check_parse(_parser(platform, tool), data.draw(token_soup))


@pytest.mark.parametrize(("platform", "tool"), PAIRS, ids=PAIR_IDS)
@FUZZ
@given(data=st.data())
def test_parse_mutated_capture(platform: str, tool: str, data: st.DataObject) -> None:
    text = data.draw(mutated(_captures_for(platform, tool)))
    check_parse(_parser(platform, tool), text)


@pytest.mark.parametrize(("platform", "tool"), PAIRS, ids=PAIR_IDS)
@seed(SEED)
@SEEDED
@given(data=st.data())
def test_parse_seeded(platform: str, tool: str, data: st.DataObject) -> None:
    """The seeded budget: mutated real captures and token soup, new inputs each commit."""
    replay = f"replay with PORTCHECK_FUZZ_SEED={SEED}"
    note(replay)
    text = data.draw(st.one_of(mutated(_captures_for(platform, tool)), token_soup))
    try:
        check_parse(_parser(platform, tool), text)
    except Exception as exc:  # any failure, assertion or crash, names its seed
        raise AssertionError(f"{platform} {tool} parser failed; {replay}") from exc


def test_seed_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTCHECK_FUZZ_SEED", "12345")
    assert commit_seed() == 12345
    monkeypatch.delenv("PORTCHECK_FUZZ_SEED")
    assert commit_seed() >= 0


def test_mutated_captures_are_real() -> None:
    for platform, tool in PAIRS:
        texts = set(_captures_for(platform, tool))
        synthetic = {golden.read_capture(c) for c in golden.captures() if golden.is_synthetic(c)}
        assert texts, (platform, tool)
        assert not texts & synthetic, (platform, tool)


# /proc/net/{tcp,tcp6,udp,udp6}: procfs.parse_table, with and without the port filter.


@functools.cache
def _proc_captures() -> tuple[str, ...]:
    return tuple(_read(LINUX / f"debian-12--proc-net-{name}.out") for name in PROC_TABLES)


def check_table(text: str, table: str, port: int | None) -> None:
    protocol, family = PROC_TABLES[table]
    try:
        entries = proc_net.parse_table(text, table, port)
    except ParseError:
        return
    for entry in entries:
        assert type(entry.inode) is int
        assert entry.inode >= 0
        check_socket(entry.socket)
        assert (entry.socket.protocol, entry.socket.family) == (protocol, family)
        if port is not None:
            assert entry.socket.local.port == port


HEX_SOUP = st.lists(
    st.one_of(
        st.sampled_from(["0:", "sl", "0100007F:1F90", "00000000:0000", "0A", "01", "07", "1000"]),
        st.sampled_from(["00000000000000000000000001000000:0016", "FFFFFFFF:FFFF", "-1", "x"]),
        st.text(alphabet="0123456789ABCDEFabcdef:", max_size=40),
        st.sampled_from([" ", "\n", "  "]),
    ),
    max_size=40,
).map("".join)
tables = st.sampled_from(sorted(PROC_TABLES))
ports = st.one_of(st.none(), st.integers(0, 65535))


@TABLE_FUZZ
@given(text=st.one_of(arbitrary_text, HEX_SOUP), table=tables, port=ports)
def test_proc_table_arbitrary_text(text: str, table: str, port: int | None) -> None:
    check_table(text, table, port)


@TABLE_FUZZ
@given(data=st.data(), table=tables, port=ports)
def test_proc_table_mutated_capture(data: st.DataObject, table: str, port: int | None) -> None:
    check_table(data.draw(mutated(_proc_captures())), table, port)


# Windows `tasklist /FO CSV /NH`: pid -> image name.


@functools.cache
def _tasklist_captures() -> tuple[str, ...]:
    found = sorted((golden.FIXTURES / "synthetic" / "windows").glob("*tasklist*.out"))
    return tuple(_read(p) for p in found)


def check_tasklist(text: str) -> None:
    try:
        names = _tasklist.parse(text)
    except ParseError:
        return
    for pid, name in names.items():
        assert type(pid) is int
        assert pid >= 0
        assert isinstance(name, str)


CSV_SOUP = st.lists(
    st.one_of(
        st.sampled_from(['"', '","', ",", '"svchost.exe"', '"1076"', '"5.408 K"', "INFO:"]),
        st.sampled_from(["\n", "\r\n", " ", '""', "²", "0"]),
        st.text(max_size=5),
    ),
    max_size=40,
).map("".join)


@TABLE_FUZZ
@given(text=st.one_of(arbitrary_text, CSV_SOUP))
def test_tasklist_arbitrary_text(text: str) -> None:
    check_tasklist(text)


@TABLE_FUZZ
@given(data=st.data())
def test_tasklist_mutated_capture(data: st.DataObject) -> None:
    assert _tasklist_captures()
    check_tasklist(data.draw(mutated(_tasklist_captures())))


# Windows `netsh interface ipv4 show excludedportrange`: ranges of ports.


@functools.cache
def _netsh_captures() -> tuple[str, ...]:
    found = sorted((golden.FIXTURES / "synthetic" / "windows").glob("*excludedportrange*.out"))
    return tuple(_read(p) for p in found)


def check_netsh_excluded(text: str) -> None:
    try:
        ranges = _netsh_excluded.parse(text)
    except ParseError:
        return
    for found in ranges:
        assert type(found.first) is int
        assert type(found.last) is int
        assert 1 <= found.first <= found.last <= 65535
        assert isinstance(found.administered, bool)


NETSH_SOUP = st.lists(
    st.one_of(
        st.sampled_from(["----------", "--------", "*", "5357", "65535", "0", "70000", "-1"]),
        st.sampled_from(["\n", "\r\n", " ", "    ", "\t", "²", "\u0663"]),
        st.text(max_size=5),
    ),
    max_size=40,
).map("".join)


@TABLE_FUZZ
@given(text=st.one_of(arbitrary_text, NETSH_SOUP))
def test_netsh_excluded_arbitrary_text(text: str) -> None:
    check_netsh_excluded(text)


@TABLE_FUZZ
@given(data=st.data())
def test_netsh_excluded_mutated_capture(data: st.DataObject) -> None:
    assert _netsh_captures()
    check_netsh_excluded(data.draw(mutated(_netsh_captures())))


# Regression tests: the bugs this fuzzing found, each reduced to its input.


@pytest.mark.parametrize("text", ["p1\nu²\n", "p1\nf3\np²\n"])
def test_lsof_superscript_digit_is_a_parse_error(text: str) -> None:
    # "²".isdigit() is True but int("²") raises: a bare ValueError escaped.
    with pytest.raises(ParseError, match="not a number"):
        portcheck.parse(text, tool="lsof", platform="linux")


def test_tasklist_superscript_digit_pid_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="no process id"):
        _tasklist.parse('"a.exe","1"\n"b.exe","²"\n')
    # As the first row it reads as a header, as a `/FO CSV` header without /NH does.
    assert _tasklist.parse('"b.exe","²"\n"a.exe","1"\n') == {1: "a.exe"}


DARWIN_14_HEADER = (
    "Proto Recv-Q Send-Q  Local Address          Foreign Address        (State)      rhiwat"
    "  shiwat    pid   epid state  options\n"
)
DARWIN_26_HEADER = (
    "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)    "
    " rxbytes txbytes rhiwat shiwat process:pid state options\n"
)

# pid 0 is no process: a script calling kill(0, ...) would signal its own
# process group. Each POSIX parser passed it through as an owner.
PID_ZERO = [
    ("linux", "lsof", "p0\ncinit\nf3\ntIPv4\nPTCP\nn127.0.0.1:80\n"),
    ("linux", "lsof", "sshd 0 root 3u IPv4 30163 0t0 TCP *:80 (LISTEN)\n"),
    ("linux", "ss", 'tcp LISTEN 0 128 127.0.0.1:80 0.0.0.0:* users:(("x",pid=0,fd=3))\n'),
    ("linux", "netstat", "tcp 0 0 127.0.0.1:80 0.0.0.0:* LISTEN 0/init\n"),
    ("freebsd", "sockstat", "root     init       0     4  tcp4   *:80     *:*\n"),
    ("darwin", "netstat", DARWIN_14_HEADER + "tcp4 0 0 *.80 *.* LISTEN 1 1 0 0 00002 00000100\n"),
    ("darwin", "netstat", DARWIN_26_HEADER + "tcp4 0 0 *.80 *.* LISTEN 0 0 1 1 init:0 00002 0\n"),
]


@pytest.mark.parametrize(("platform", "tool", "text"), PID_ZERO)
def test_pid_zero_is_an_owner_hidden_not_a_process(platform: str, tool: str, text: str) -> None:
    [sock] = portcheck.parse(text, tool=tool, platform=platform)
    assert sock.local.port == 80
    assert sock.pid is None


def test_windows_pid_zero_stays_a_marked_system_process() -> None:
    text = "  TCP    127.0.0.1:80    0.0.0.0:0    LISTENING    0\n"
    [sock] = portcheck.parse(text, tool="netstat", platform="windows")
    assert (sock.pid, sock.system_process) == (0, True)


def test_windows_time_wait_pid_zero_has_no_owner() -> None:
    text = "  TCP    127.0.0.1:80    127.0.0.1:5000    TIME_WAIT    0\n"
    [sock] = portcheck.parse(text, tool="netstat", platform="windows")
    assert (sock.pid, sock.system_process, sock.no_owner) == (None, False, NoOwner.TIME_WAIT)


# Issue 24's owner parsers: the owner program's frames (bytes), the Windows
# Win32_Process CSV (UTF-8 or UTF-16 bytes), macOS/FreeBSD ps and launchctl.
# Whatever the input, they return records of the right types and never raise.
@TABLE_FUZZ
@given(data=st.binary(max_size=2000))
def test_owner_frames_and_win32_process_never_raise(data: bytes) -> None:
    from portcheck._parsers import proc_frames, win32_process

    frames = proc_frames.parse(data)
    assert all(pid >= 0 and frame.pid == pid for pid, frame in frames.procs.items())
    rows = win32_process.parse(win32_process.decode(data))
    assert all(row.pid == pid >= 0 for pid, row in rows.items())


@TABLE_FUZZ
@given(text=st.text(max_size=2000))
def test_ps_identity_jails_and_launchctl_never_raise(text: str) -> None:
    from portcheck._parsers import launchctl, ps

    assert all(p.command for p in ps.parse_identity(text).values())
    assert all(jid >= 0 for jid, _argv in ps.parse_jails(text).values())
    label = launchctl.parse_label(text)
    assert label is None or label.isprintable()
