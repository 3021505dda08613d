"""The procfs backend's table parser, checked against tables captured beside ss."""

from __future__ import annotations

import os
import socket
import struct
import sys
import time
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import portcheck
from portcheck import Endpoint, Family, Protocol, State
from portcheck._backends import sockdiag as _sockdiag
from portcheck._backends.procfs import socket_table
from portcheck._errors import ParseError
from portcheck._parsers.proc_net import parse_table

LINUX = Path(__file__).parent.parent / "fixtures" / "linux"
TABLES = {
    "tcp": (Protocol.TCP, Family.IPV4),
    "tcp6": (Protocol.TCP, Family.IPV6),
    "udp": (Protocol.UDP, Family.IPV4),
    "udp6": (Protocol.UDP, Family.IPV6),
}
little_endian = pytest.mark.skipif(
    sys.byteorder != "little", reason="the captures were made on a little-endian machine"
)


def _captured_tables() -> list[portcheck.Socket]:
    sockets = []
    for name in TABLES:
        text = (LINUX / f"debian-12--proc-net-{name}.out").read_text()
        sockets += [e.socket for e in parse_table(text, name)]
    return sockets


def _without_owner(sock: portcheck.Socket) -> portcheck.Socket:
    return attrs.evolve(sock, pid=None, process=None, user=None, uid=None)


@little_endian
def test_tables_list_exactly_the_sockets_ss_saw_at_the_same_moment() -> None:
    from_proc = {_without_owner(s) for s in _captured_tables()}
    ss_text = (LINUX / "debian-12--ss-tuanpe.out").read_text()
    from_ss = {_without_owner(s) for s in portcheck.parse(ss_text, tool="ss", platform="linux")}
    assert from_proc == from_ss
    assert len(from_proc) == 12


@little_endian
def test_hex_addresses_and_states() -> None:
    text = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
        "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
        "  1000        0 4910 1 0000000000000000 100 0 0 10 0\n"
        "   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000"
        "     0        0 0 1 0000000000000000 100 0 0 10 0\n"
    )
    listener, inbound = (e for e in parse_table(text, "tcp"))
    assert listener.socket.local == Endpoint(address="127.0.0.1", port=8080)
    assert (listener.socket.state, listener.socket.remote, listener.socket.uid) == (
        State.LISTEN,
        None,
        1000,
    )
    assert listener.inode == 4910
    assert inbound.socket.remote == Endpoint(address="127.0.0.1", port=0xD431)
    assert (inbound.socket.state, inbound.inode) == (State.ESTABLISHED, 0)


@little_endian
def test_ipv6_loopback_and_mapped_addresses() -> None:
    line = (
        "   0: {local}:0016 00000000000000000000000000000000:0000 0A 00000000:00000000"
        " 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0\n"
    )
    loopback = "00000000000000000000000001000000"
    mapped = "0000000000000000FFFF00000100007F"
    [one] = parse_table(line.format(local=loopback), "tcp6")
    [two] = parse_table(line.format(local=mapped), "tcp6")
    assert (one.socket.local.address, two.socket.local.address) == ("::1", "::ffff:127.0.0.1")
    assert one.socket.local.port == 22


def test_port_filter_compares_the_local_port_only() -> None:
    # Local port 0x0BB8 = 3000; remote port 3000 must not match, nor 30001.
    text = (
        "   0: 0100007F:7531 0100007F:0BB8 01 00000000:00000000 00:00000000 00000000"
        "     0        0 5 1 0 100 0 0 10 0\n"
        "   1: 0100007F:0BB8 0100007F:7531 01 00000000:00000000 00:00000000 00000000"
        "     0        0 6 1 0 100 0 0 10 0\n"
    )
    found = parse_table(text, "tcp", port=3000)
    assert [e.inode for e in found] == [6]


def test_unreadable_line_names_the_table_and_line() -> None:
    text = "  sl  local_address\n   0: nothex:0016 0:0 0A\n"
    with pytest.raises(ParseError) as info:
        parse_table(text, "tcp")
    assert info.value.lineno == 2
    assert info.value.tool == "/proc/net/tcp"
    assert "nothex" in str(info.value)


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux kernel tables")


def _connections() -> tuple[list[socket.socket], int, int]:
    """A listener with an accepted connection, and a closed one left in TIME_WAIT.

    Returns the sockets to close, the listener's port and the TIME_WAIT port.
    """
    listener = socket.socket(socket.AF_INET6)
    listener.bind(("::", 0))
    listener.listen()
    port = listener.getsockname()[1]
    # Bound before connecting, so that no other socket shares their port numbers.
    client = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.1", 0))
    accepted, _ = listener.accept()
    closing = socket.create_connection(("::1", port), source_address=("::1", 0))
    closing_peer, _ = listener.accept()
    time_wait_port = closing.getsockname()[1]
    closing.close()  # the active closer goes to TIME_WAIT...
    closing_peer.close()  # ...once its peer closes too
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    return [listener, client, accepted, udp], port, time_wait_port


@linux_only
def test_netlink_and_proc_net_give_the_same_entries() -> None:
    held, port, time_wait_port = _connections()
    try:
        time.sleep(0.05)
        client_port = held[1].getsockname()[1]
        for probe in (port, client_port, time_wait_port):
            by_netlink = sorted(map(str, socket_table(probe, netlink=True)))
            by_text = sorted(map(str, socket_table(probe, netlink=False)))
            assert by_netlink == by_text
        states = {e.socket.state for e in socket_table(port)}
        assert {State.LISTEN, State.ESTABLISHED, None} <= states
        # Only the socket made here: on a busy machine the port number may be reused.
        [time_wait] = [
            e
            for e in socket_table(time_wait_port)
            if e.socket.remote is not None and e.socket.remote.port == port
        ]
        assert (time_wait.socket.state, time_wait.inode) == (State.TIME_WAIT, 0)
    finally:
        for sock in held:
            sock.close()


def test_port_filter_bytecode_is_what_ss_builds() -> None:
    # S_GE yes=8 no=20 | port | S_LE yes=8 no=12 | port (little-endian host order)
    code = _sockdiag.port_filter(8080)
    assert struct.unpack("=BBHBBHBBHBBH", code) == (2, 8, 20, 0, 0, 8080, 3, 8, 12, 0, 0, 8080)


def test_inet_diag_message_is_read_field_by_field() -> None:
    message = struct.pack("=BBBB", socket.AF_INET6, 10, 0, 0)
    message += struct.pack("!HH16s16s", 443, 0, bytes(15) + b"\x01", bytes(16))
    message += struct.pack("=III", 0, 0, 0) + struct.pack("=IIIII", 0, 0, 0, 1000, 4242)
    sock, inode = _sockdiag.parse_message(message, Protocol.TCP)
    assert (sock.local, sock.remote, sock.state) == (
        Endpoint(address="::1", port=443),
        None,
        State.LISTEN,
    )
    assert (sock.family, sock.uid, inode) == (Family.IPV6, 1000, 4242)
    with pytest.raises(_sockdiag.SockDiagUnavailable):
        _sockdiag.parse_message(message[:20], Protocol.TCP)


def _diag_message(family: int, src: bytes, dst: bytes, dport: int = 0) -> bytes:
    message = struct.pack("=BBBB", family, 1, 0, 0)  # state 1: ESTABLISHED
    message += struct.pack("!HH16s16s", 50000, dport, src, dst)
    return message + struct.pack("=III", 0, 0, 0) + struct.pack("=IIIII", 0, 0, 0, 0, 1)


def test_a_dumps_addresses_are_named_once_per_family() -> None:
    # The same 16 bytes are 127.0.0.1 in an IPv4 message (its first 4 bytes)
    # and 7f00:1:: in an IPv6 one; local and remote ends share the names.
    raw = bytes([127, 0, 0, 1]) + bytes(12)
    names4: dict[bytes, str] = {}
    names6: dict[bytes, str] = {}
    v4 = _sockdiag._decode(
        _diag_message(socket.AF_INET, raw, raw, 80), 0, Protocol.TCP, names4, names6
    )
    v6 = _sockdiag._decode(
        _diag_message(socket.AF_INET6, raw, raw, 80), 0, Protocol.TCP, names4, names6
    )
    again = _sockdiag._decode(
        _diag_message(socket.AF_INET, raw, bytes(16)), 0, Protocol.TCP, names4, names6
    )
    assert (v4.local.address, v4.remote) == ("127.0.0.1", Endpoint(address="127.0.0.1", port=80))
    assert (v6.local.address, v6.remote) == ("7f00:1::", Endpoint(address="7f00:1::", port=80))
    assert (again.local.address, again.remote) == ("127.0.0.1", None)  # no peer


@linux_only
def test_without_netlink_the_proc_net_text_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> list[object]:
        raise _sockdiag.SockDiagUnavailable("netlink blocked by the sandbox")

    monkeypatch.setattr(_sockdiag, "query", refuse)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        [found] = portcheck.who_owns(listener.getsockname()[1], tool="procfs")
    assert (found.pid, found.state) == (os.getpid(), State.LISTEN)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(data=st.binary(min_size=0, max_size=120))
def test_inet_diag_reader_takes_any_bytes(data: bytes) -> None:
    try:
        sock, inode = _sockdiag.parse_message(data, Protocol.UDP)
    except _sockdiag.SockDiagUnavailable:
        assert len(data) < 72
        return
    assert 0 <= sock.local.port <= 65535
    assert sock.remote is None or 0 <= sock.remote.port <= 65535
    assert sock.state is None
    assert inode >= 0


# The kernel's TCP state numbers (include/net/tcp_states.h), written out here
# rather than read from the code under test. 12 is TCP_NEW_SYN_RECV.
KERNEL_STATES = [
    (1, State.ESTABLISHED),
    (2, State.SYN_SENT),
    (3, State.SYN_RECV),
    (4, State.FIN_WAIT1),
    (5, State.FIN_WAIT2),
    (6, State.TIME_WAIT),
    (7, State.CLOSE),
    (8, State.CLOSE_WAIT),
    (9, State.LAST_ACK),
    (10, State.LISTEN),
    (11, State.CLOSING),
    (12, State.SYN_RECV),
    (13, State.BOUND),  # TCP_BOUND_INACTIVE, Linux 6.5+
    (14, State.UNKNOWN),  # a state added after this table: never an error
]


@pytest.mark.parametrize(("code", "state"), KERNEL_STATES)
def test_every_kernel_state_code_from_proc_net(code: int, state: State) -> None:
    line = (
        f"   0: 0100007F:1F90 0200007F:C350 {code:02X} 00000000:00000000 00:00000000 "
        "00000000  1000        0 777 1 0 100 0 0 10 0\n"
    )
    [entry] = parse_table(line, "tcp")
    assert entry.socket.state is state


@pytest.mark.parametrize(("code", "state"), KERNEL_STATES)
def test_every_kernel_state_code_from_sock_diag(code: int, state: State) -> None:
    message = struct.pack("=BBBB", socket.AF_INET, code, 0, 0)
    message += struct.pack("!HH16s16s", 8080, 50000, bytes([127, 0, 0, 1]) + bytes(12), bytes(16))
    message += struct.pack("=III", 0, 0, 0) + struct.pack("=IIIII", 0, 0, 0, 1000, 4242)
    sock, _inode = _sockdiag.parse_message(message, Protocol.TCP)
    assert sock.state is state


# --- process identity: a pid reused during the lookup is never named ---------------------


def _fake_process(proc: Path, pid: int, start_ticks: int, name: str = "server") -> None:
    (proc / str(pid)).mkdir(parents=True, exist_ok=True)
    (proc / str(pid) / "comm").write_text(f"{name}\n")
    (proc / str(pid) / "status").write_text(f"Name:\t{name}\nUid:\t0\t0\t0\t0\n")
    stat = f"{pid} ({name}) S 1 {pid} {pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {start_ticks} 0 0\n"
    (proc / str(pid) / "stat").write_text(stat)
    (proc / "stat").write_text("cpu 0 0 0 0\nbtime 1700000000\n")


def _listener_record() -> portcheck.Socket:
    return portcheck.Socket(
        protocol=Protocol.TCP,
        family=Family.IPV4,
        local=Endpoint(address="127.0.0.1", port=8080),
        state=State.LISTEN,
    )


def test_owner_started_before_the_lookup_is_named_with_its_start_time(tmp_path: Path) -> None:
    from portcheck._backends.procfs import Seen, with_owners

    _fake_process(tmp_path, 4321, start_ticks=100)
    [record] = with_owners(_listener_record(), [4321], seen=Seen(str(tmp_path)), inode=77)
    assert (record.pid, record.process, record.socket_id) == (4321, "server", "77")
    assert record.started is not None
    assert record.started.timestamp() == 1700000000 + 100 / os.sysconf("SC_CLK_TCK")


def test_held_records_name_each_live_holder_and_leave_the_rest(tmp_path: Path) -> None:
    from portcheck._backends.procfs import Seen, held_records
    from portcheck._parsers.proc_net import Entry

    _fake_process(tmp_path, 4321, start_ticks=100)
    _fake_process(tmp_path, 4322, start_ticks=100, name="worker")

    def entry(port: int, inode: int) -> Entry:
        local = Endpoint(address="127.0.0.1", port=port)
        return Entry(Protocol.TCP, Family.IPV4, local, None, State.LISTEN, 0, inode)

    shared, gone, unseen, orphan = entry(80, 11), entry(81, 12), entry(82, 13), entry(83, 0)
    owners = {11: [4321, 4322], 12: [4999]}  # pid 4999 has exited since the scan
    records, left = held_records([shared, gone, unseen, orphan], owners, Seen(str(tmp_path)))
    assert [(r.local.port, r.pid, r.process, r.socket_id) for r in records] == [
        (80, 4321, "server", "11"),
        (80, 4322, "worker", "11"),
    ]
    assert all(r.parent == 1 and r.state is State.LISTEN for r in records)
    assert left == [gone, unseen, orphan]  # with_owners says why each has no owner


def test_a_pid_reused_after_the_lookup_began_is_dropped(tmp_path: Path) -> None:
    from portcheck._backends.procfs import Seen, with_owners

    seen = Seen(str(tmp_path))  # the lookup begins: its scan saw pid 4321 holding the socket
    # ... which exited; a new process got pid 4321 after the scan (it started later).
    later = int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK")) + 1000
    _fake_process(tmp_path, 4321, start_ticks=later, name="intruder")
    [record] = with_owners(_listener_record(), [4321], seen=seen, inode=77)
    assert (record.pid, record.process, record.no_owner) == (None, None, portcheck.NoOwner.CLOSED)


def test_a_pid_reused_while_its_files_are_read_never_mixes_two_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portcheck._backends import identity, procfs

    _fake_process(tmp_path, 4321, start_ticks=100)
    (tmp_path / "4321" / "cmdline").write_bytes(b"server\0--port\0")
    real = identity.read_file

    def reused_after_the_stat(name: str, at: int | None = None) -> bytes | None:
        found = real(name, at)
        if name == "stat":  # the process exits; a newcomer gets its pid and its /proc path
            (tmp_path / "4321").rename(tmp_path / "gone")
            _fake_process(tmp_path, 4321, start_ticks=100, name="intruder")
            (tmp_path / "4321" / "cmdline").write_bytes(b"intruder\0")
        return found

    monkeypatch.setattr(identity, "read_file", reused_after_the_stat)
    [record] = procfs.with_owners(_listener_record(), [4321], seen=procfs.Seen(str(tmp_path)))
    # Read through the descriptor of the directory its stat came from: in /proc
    # such reads fail once the process is gone; here they still see its files.
    assert (record.pid, record.process, record.command) == (4321, "server", ("server", "--port"))


@linux_only
def test_a_proc_directory_descriptor_reads_nothing_once_its_process_is_gone() -> None:
    # What Seen relies on: the descriptor stays bound to its process, never to
    # a later process given the same pid.
    import subprocess

    from portcheck._backends.identity import read_file

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    at = os.open(f"/proc/{child.pid}", os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert (read_file("stat", at) or b"").startswith(f"{child.pid} (".encode())
        child.kill()
        child.wait()  # reaped: its pid may be anyone's now
        assert read_file("stat", at) is None
        assert read_file("comm", at) is None
    finally:
        os.close(at)


@linux_only
def test_threaded_scan_finds_every_holder_and_raises_a_threads_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from portcheck._backends import procfs

    monkeypatch.setattr(procfs, "_PIDS_PER_THREAD", 1)  # a thread per share on any machine
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        inode = os.fstat(listener.fileno()).st_ino
        assert procfs.find_owners({inode}) == {inode: [os.getpid()]}
        real_scan = procfs._scan

        def scan(
            pids: list[int], targets: dict[str, int], proc: str, deadline: float | None = None
        ) -> tuple[list[tuple[int, int]], list[int]]:
            if os.getpid() in pids:
                raise RuntimeError("a share failed")
            return real_scan(pids, targets, proc, deadline)

        monkeypatch.setattr(procfs, "_scan", scan)
        with pytest.raises(RuntimeError, match="a share failed"):
            procfs.find_owners({inode})


# Addresses with long runs of zero words, where the text forms differ most
# (`::`, IPv4-mapped and IPv4-compatible prefixes, ties between zero runs).
_WORD = st.sampled_from([0, 0, 0, 1, 0xFFFF, 0x0A00, 0xFE80, 0x2001])
_V6 = st.lists(_WORD | st.integers(0, 0xFFFF), min_size=8, max_size=8).map(
    lambda words: struct.pack("!8H", *words)
)


@settings(max_examples=500, derandomize=True, database=None, deadline=None)
@given(raw=_V6 | st.binary(min_size=4, max_size=4))
def test_sock_diag_addresses_read_as_every_parser_writes_them(raw: bytes) -> None:
    # inet_ntop replaced ipaddress here: its text must stay the canonical one.
    import ipaddress

    from portcheck._parsers.addr import canonical_address

    code = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    expected = canonical_address(str(ipaddress.ip_address(raw)))
    assert _sockdiag._address(code, raw) == expected


@linux_only
def test_the_scan_past_its_deadline_is_a_timeout_error_naming_what_it_read() -> None:
    from portcheck._backends import procfs

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        inode = os.fstat(listener.fileno()).st_ino
        assert procfs.find_owners({inode}, timeout=60) == {inode: [os.getpid()]}
        with pytest.raises(portcheck.ToolTimeoutError, match=r"reading /proc/\*/fd did not finish"):
            procfs.find_owners({inode}, timeout=0.0)
