"""The owner script's output (`_parsers.proc_frames`): frames content cannot forge (synthetic)."""

from __future__ import annotations

from portcheck._parsers.proc_frames import parse


def test_content_that_looks_like_a_frame_stays_content() -> None:
    data = (
        b":here\n|0::/\n"
        b":pid 7\n:uid 1000\n:comm\n|evil\n|:pid 9\n"
        b":cmdline\n 61 0a 3a 70 69 64 20 39 00 62 00\n"
        b":cgroup\n|0::/a\x1b[2Jb.service\n"
        b":stat\n|7 (evil\n|:pid 9) S 1 2\n"
    )
    frames = parse(data)
    assert list(frames.procs) == [7]
    proc = frames.procs[7]
    assert proc.comm == "evil\n:pid 9"
    assert proc.cmdline == b"a\n:pid 9\0b\0"
    assert proc.cgroup == "0::/a\x1b[2Jb.service"
    assert proc.stat == b"7 (evil\n:pid 9) S 1 2\n"
    assert proc.uid == 1000


def test_unreadable_files_and_bad_hex_are_none() -> None:
    frames = parse(b":here\n:pid 7\n:uid \n:comm\n:cmdline\n zz\n:cgroup\n:stat\n")
    proc = frames.procs[7]
    assert (proc.uid, proc.comm, proc.cmdline, proc.cgroup, proc.stat) == (None,) * 5
    assert frames.here is None


def test_crlf_through_a_terminal_is_read_as_lf() -> None:
    lines = [":here", "|0::/", ":pid 7", ":uid 0", ":comm", "|sshd", ":passwd", "root:x:0:0::/:/a"]
    frames = parse("".join(f"{line}\r\n" for line in lines).encode())
    assert (frames.here, frames.procs[7].comm, frames.users) == ("0::/", "sshd", {0: "root"})


def test_garbage_is_no_frames() -> None:
    assert parse(b"\x00" * 1000 + b"\n:pid x\n:uid 3\n").procs == {}


def test_the_boot_time_dates_the_start_times() -> None:
    found = parse(b":here\n|0::/\n:btime\n|1764770000\n")
    assert found.boot_time == 1764770000.0
    assert parse(b":here\n:btime\n|17647x\n").boot_time is None
    assert parse(b":here\n").boot_time is None


def test_a_remote_start_time_is_the_local_rule() -> None:
    # 123456 ticks of USER_HZ after a boot at 1764770000: as procfs computes it.
    from portcheck._parsers.proc_stat import started_at

    when = started_at(123456, 1764770000.0)
    assert when.timestamp() == 1764770000.0 + 1234.56
    assert when.tzinfo is not None
