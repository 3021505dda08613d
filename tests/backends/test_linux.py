"""The Linux backends' own rules, with real sockets of this process and replayed tool output."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from portcheck._errors import ToolError
from portcheck._lookup import lookup
from tests.support.fakes import FakeRunner

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

SS = "/usr/bin/ss"
LSOF = "/usr/bin/lsof"


@pytest.fixture
def listener() -> Iterator[tuple[int, int]]:
    """(port, inode) of a TCP listener held by this process."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        inode = os.fstat(sock.fileno()).st_ino
        yield sock.getsockname()[1], inode


def _ss_argv(port: int) -> tuple[str, ...]:
    return (SS, "-t", "-u", "-a", "-n", "-p", "-e", "sport", "=", f":{port}")


def test_names_come_from_proc_pid_comm(listener: tuple[int, int]) -> None:
    # ss cuts and mangles names; the kernel's own (/proc/PID/comm) is reported.
    port, inode = listener
    row = (
        f"tcp LISTEN 0 128 127.0.0.1:{port} 0.0.0.0:* "
        f'users:(("not-my-name",pid={os.getpid()},fd=3)) ino:{inode} sk:1 <->\n'
    )
    runner = FakeRunner(tools={"ss": SS}, replies={_ss_argv(port): (0, row.encode(), b"")})
    [sock] = lookup(port, tool="ss", platform="linux", runner=runner)
    assert sock.pid == os.getpid()
    assert sock.process == Path("/proc/self/comm").read_text().rstrip("\n")
    assert sock.process != "not-my-name"


LSOF_ARGV = (LSOF, "-n", "-P", "-w", "-b", "-S", "2", "+c", "0", "-F", "pcuLftPnTd", "-i")


def test_lsof_exit_1_with_output_is_an_error_never_free(listener: tuple[int, int]) -> None:
    # Status 1 is lsof's "nothing matched" only when it printed nothing at all.
    port, _inode = listener
    argv = (*LSOF_ARGV, f":{port}")
    runner = FakeRunner(
        tools={"lsof": LSOF}, replies={argv: (1, b"p1\ncx\n", b"lsof: WARNING: can't stat()\n")}
    )
    with pytest.raises(ToolError) as info:
        lookup(port, tool="lsof", platform="linux", runner=runner)
    assert info.value.returncode == 1


def test_lsof_exit_1_with_nothing_printed_still_reports_the_kernels_socket(
    listener: tuple[int, int],
) -> None:
    # lsof saw nothing (another pid namespace, or a socket in no /proc/net
    # table): the kernel's table still shows it in use, and the descriptor
    # scan names its holder.
    port, _inode = listener
    runner = FakeRunner(tools={"lsof": LSOF}, replies={(*LSOF_ARGV, f":{port}"): (1, b"", b"")})
    found = lookup(port, tool="lsof", platform="linux", runner=runner)
    holder = os.getpid() if os.geteuid() == 0 else None  # as root, the scan names it
    assert [(s.local.port, s.pid) for s in found] == [(port, holder)]


def test_lsof_replay_one_socket_on_two_fds_is_one_record(listener: tuple[int, int]) -> None:
    # Synthetic replay of our own listener, as if dup()ed onto a second descriptor.
    port, inode = listener
    pid = os.getpid()
    out = "".join(f"f{fd}\ntIPv4\nd{inode}\nPTCP\nn127.0.0.1:{port}\nTST=LISTEN\n" for fd in (3, 9))
    runner = FakeRunner(
        tools={"lsof": LSOF},
        replies={(*LSOF_ARGV, f":{port}"): (0, f"p{pid}\ncpython\nu0\n{out}".encode(), b"")},
    )
    found = lookup(port, tool="lsof", platform="linux", runner=runner)
    assert [(s.pid, s.socket_id) for s in found] == [(pid, str(inode))]


def test_listing_rechecks_only_the_ports_of_unowned_sockets(
    monkeypatch: pytest.MonkeyPatch, listener: tuple[int, int]
) -> None:
    # A socket held from another pid namespace is unowned on every look: a
    # listing asks again for its port only, not for the whole table.
    from portcheck._backends import linux, procfs
    from portcheck._context import context_for
    from portcheck._parsers.proc_net import Entry
    from portcheck._records import NoOwner

    port, inode = listener
    asked: list[int | None] = []
    real_table, real_owners = procfs.socket_table, procfs.find_owners

    def socket_table(port: int | None, *, listening: bool = False) -> list[Entry]:
        asked.append(port)
        return real_table(port, listening=listening)

    def find_owners(inodes: set[int], timeout: float | None = None) -> dict[int, list[int]]:
        found = real_owners(inodes, timeout=timeout)
        return {k: v for k, v in found.items() if k != inode}  # ours: hidden

    monkeypatch.setattr(procfs, "socket_table", socket_table)
    monkeypatch.setattr(procfs, "find_owners", find_owners)
    found = linux.lookup_procfs(None, context_for(listening=True))
    # (This machine may hold other unowned sockets: theirs are asked for too.)
    assert asked[0] is None
    assert port in asked[1:]
    assert None not in asked[1:]
    [ours] = [s for s in found if s.local.port == port]
    assert (ours.pid, ours.no_owner) == (None, NoOwner.HIDDEN)
