"""The Ansible plugins' logic (portcheck._remote.ansible) without Ansible: a fake `execute` replays
what the target prints, so the facts, the allowlist and hidden owners are checked on any
Python, ansible-core installed or not."""

from __future__ import annotations

import shlex

import pytest

from portcheck._listing.allow import parse_allowed
from portcheck._remote.ansible import listen_ports_result, who_owns_result
from portcheck._remote.probe import POSIX_PROBE

PROBE = "/bin/sh -c " + shlex.quote(POSIX_PROBE)
PROBE_OUT = (
    b"Linux\n1000\nss=/usr/bin/ss\nlsof=\nnetstat=\nsockstat=\nps=/usr/bin/ps\n"
    b"getent=/usr/bin/getent\nsysctl=\ncat=/usr/bin/cat\nenv=/usr/bin/env\n"
)
SS_ALL = (
    b"Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
    b'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=501,fd=3)) uid:0 ino:1 sk:1 <->\n'
    b"tcp LISTEN 0 128 127.0.0.1:5432 0.0.0.0:* uid:105 ino:2 sk:2 <->\n"
    b'tcp ESTAB 0 0 10.0.0.5:22 10.0.0.9:50000 users:(("sshd",pid=777,fd=4)) ino:3 sk:3 <->\n'
    b"udp UNCONN 0 0 0.0.0.0:68 0.0.0.0:* uid:101 ino:4 sk:4 <->\n"
)
REPLIES = {
    PROBE: (0, PROBE_OUT, b""),
    "/usr/bin/env LC_ALL=C /usr/bin/ss -t -u -l -n -p -e": (0, SS_ALL, b""),
    "/usr/bin/env LC_ALL=C /usr/bin/ss -t -u -a -n -p -e sport = :22": (0, SS_ALL, b""),
    "/usr/bin/env LC_ALL=C /usr/bin/ps -o pid=,uid=,comm= -p 501": (0, b"501 0 sshd\n", b""),
    "/usr/bin/env LC_ALL=C /usr/bin/ps -o pid=,uid=,comm= -p 501,777": (
        0,
        b"501 0 sshd\n777 0 sshd\n",
        b"",
    ),
    "/usr/bin/env LC_ALL=C /usr/bin/getent passwd 0 101 105": (
        2,
        b"root:x:0:0::/root:/bin/sh\npostgres:x:105:105::/var/lib/postgresql:/bin/sh\n",
        b"",
    ),
    "/usr/bin/env LC_ALL=C /usr/bin/getent passwd 0": (0, b"root:x:0:0::/root:/bin/sh\n", b""),
    "/usr/bin/env LC_ALL=C /usr/bin/ps -o pid=,lstart= -p 501": (
        0,
        b"  501 Sun Nov 30 16:12:01 2025\n",
        b"",
    ),
}


def execute(command: str) -> tuple[int, bytes, bytes]:
    if command not in REPLIES:
        raise AssertionError(f"unexpected command {command!r}")
    return REPLIES[command]


def test_listen_ports_facts_fields_and_hidden_owners() -> None:
    result = listen_ports_result(execute, "db1", allowed=[22, "60-70"])
    facts = result["ansible_facts"]
    tcp = facts["tcp_listen"]
    assert [(f["port"], f["pid"], f["name"], f["user"], f["stime"]) for f in tcp] == [
        (22, 501, "sshd", "root", "Sun Nov 30 16:12:01 2025"),
        (5432, None, None, "postgres", None),
    ]
    [dhcp] = facts["udp_listen"]
    assert (dhcp["address"], dhcp["port"], dhcp["protocol"]) == ("0.0.0.0", 68, "udp")
    assert dhcp["pid"] is None
    assert dhcp["user"] is None  # uid 101 has no passwd entry there
    assert facts["tcp_listen"][1]["no_owner"] == "hidden"
    assert [u["port"] for u in result["unexpected"]] == [5432]
    assert result["changed"] is False


def test_no_allowlist_no_unexpected_key() -> None:
    assert "unexpected" not in listen_ports_result(execute, "db1")


def test_who_owns_result() -> None:
    result = who_owns_result(22, execute, "db1")
    assert result["in_use"] is True
    assert result["hidden"] is False
    found = [(s["pid"], s["state"]) for s in result["sockets"]]
    assert found == [(501, "LISTEN"), (777, "ESTABLISHED")]


@pytest.mark.parametrize(
    ("allowed", "ranges"),
    [
        ([22, "443", " 8000-8100 "], [(22, 22), (443, 443), (8000, 8100)]),
        ("22,443,8000-8100", [(22, 22), (443, 443), (8000, 8100)]),
        ([], []),
    ],
)
def test_allowed_ports_and_ranges(
    allowed: list[int | str] | str, ranges: list[tuple[int, int]]
) -> None:
    assert parse_allowed(allowed) == ranges


@pytest.mark.parametrize("allowed", [["0"], ["70000"], ["100-50"], ["ssh"], ["1-"], [True], ["-5"]])
def test_bad_allowed_entries_are_refused(allowed: list[object]) -> None:
    with pytest.raises(ValueError, match="not a port"):
        parse_allowed(allowed)  # type: ignore[arg-type,unused-ignore]


def test_sixty_prefork_workers_are_asked_about_in_chunks() -> None:
    # 61 five-digit pids: one `-p` word would be 365 characters, over the 200 a word may hold.
    pids = list(range(20000, 20061))
    users = ",".join(f'("httpd",pid={p},fd=3)' for p in pids)
    ss = (
        SS_ALL.split(b"\n")[0]
        + (
            f"\ntcp LISTEN 0 128 0.0.0.0:80 0.0.0.0:* users:({users}) uid:0 ino:9 sk:9 <->\n"
        ).encode()
    )
    seen: list[str] = []

    def chunked(command: str) -> tuple[int, bytes, bytes]:
        seen.append(command)
        if command == PROBE:
            return 0, PROBE_OUT, b""
        if command.endswith("ss -t -u -l -n -p -e"):
            return 0, ss, b""
        words = command.split()
        assert all(len(w) <= 200 for w in words), command
        asked = [int(p) for p in words[-1].split(",")]
        if "comm=" in command:
            return 0, b"".join(f"{p} 0 httpd\n".encode() for p in asked), b""
        if "lstart=" in command:
            return 0, b"".join(f"{p} Sun Nov 30 16:12:01 2025\n".encode() for p in asked), b""
        return 0, b"root:x:0:0::/root:/bin/sh\n", b""  # getent

    facts = listen_ports_result(chunked, "web1")["ansible_facts"]["tcp_listen"]
    assert sorted(f["pid"] for f in facts) == pids
    assert all(f["stime"] and f["user"] == "root" for f in facts)
    assert sum("lstart=" in c for c in seen) == 2
