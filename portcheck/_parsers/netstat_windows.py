"""Parser for Windows `netstat`, in any display language.

Reads the output of `netstat -ano` (what the backend runs), `netstat -an` (no
pid column), `netstat -anob` / `netstat -abno` (owner lines after each row,
needs an elevated prompt) and plain `netstat` / `netstat -a` (host and service
names instead of numbers). A sample row (`netstat -ano`)::

      TCP    0.0.0.0:445            0.0.0.0:0              LISTENING       4

Rows are found by their shape (`TCP` or `UDP`, two address:port tokens, an
optional state, an optional pid), never by header words: headers are
translated (`Aktive Verbindungen`, `活动连接`), the French header has no PID
title although rows carry pids, Japanese rows are indented further, and German
also translates the states (`ABHÖREN`). UDP rows have no state, so the pid is
read from the end of the row, not from a fixed column. With `-b`, the lines
after a row name its owner: a service line such as `RpcSs`, then
`[svchost.exe]`, or "Can not obtain ownership information" (translated).

PID 0 ("System Idle Process", TIME_WAIT rows) and PID 4 ("System", the kernel
HTTP stack behind IIS, WinRM, HttpListener) are reported under those names with
`system_process=True`: neither is a program to stop.
"""

from __future__ import annotations

import functools
import re

import attrs

from .._errors import ParseError
from .._records import Endpoint, Family, NoOwner, Protocol, Socket, State
from . import addr as _addr
from .states import state_from_word, word_key

# Version of this parser's output, recorded in each golden file it produced
# (tests/support/golden.py). Raise it with any deliberate change of the records it returns.
FORMAT_VERSION = 1

_PROTOCOLS = {"TCP": Protocol.TCP, "UDP": Protocol.UDP}

# Pseudo-processes that hold sockets for the kernel; names as tasklist prints them.
SYSTEM_PROCESSES = {0: "System Idle Process", 4: "System"}

# States as translated Windows builds print them, keyed as `state_from_word`
# normalises (upper case, "-" and "_" removed; Python upper-cases "ß" to "SS").
# ABHÖREN, HERGESTELLT, WARTEND, SCHLIESSEN_WARTEN and SYN_GESENDET are in the
# German captures summarised in shared/platform-notes.md; the rest of the German
# set follows the same translation table of tcpip's message resources but was
# not seen in a capture: a word missing here still parses, as State.UNKNOWN.
TRANSLATED_STATES = {
    "ABHÖREN": State.LISTEN,
    "HERGESTELLT": State.ESTABLISHED,
    "WARTEND": State.TIME_WAIT,
    "SCHLIESSENWARTEN": State.CLOSE_WAIT,
    "SYNGESENDET": State.SYN_SENT,
    "SYNEMPFANGEN": State.SYN_RECV,
    "FINWARTEN1": State.FIN_WAIT1,
    "FINWARTEN2": State.FIN_WAIT2,
    "LETZTESACK": State.LAST_ACK,
    "SCHLIESSEN": State.CLOSING,
    "GESCHLOSSEN": State.CLOSE,
}

# `-b` names the image in brackets on its own line: ` [svchost.exe]`.
_IMAGE_LINE = re.compile(r"^\s*\[(?P<image>[^\[\]]+)\]\s*$")


def parse(text: str) -> list[Socket]:
    """Every TCP/UDP socket in Windows `netstat` output; headers and owner lines are skipped.

    Raises ParseError for a line that starts like a row (`TCP`, `UDP`) but
    cannot be read.
    """
    sockets: list[Socket] = []
    # Whether the last row still waits for its `-b` image line.
    owner_pending = False
    # split("\n") rather than splitlines(): line numbers then match an editor's,
    # even if a stray form feed or "\r\r\n" shows up in console output.
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        words = line.split()
        if not words:
            continue
        if words[0] in _PROTOCOLS:
            sockets.append(_row(words, lineno, line))
            owner_pending = True
        elif owner_pending:
            image = _IMAGE_LINE.match(line)
            if image is not None:
                sockets[-1] = _with_image(sockets[-1], image.group("image"))
                owner_pending = False
        # Anything else is a header in some language, a `-b` service name line
        # or "Can not obtain ownership information": nothing to read.
    return sockets


def _row(words: list[str], lineno: int, line: str) -> Socket:
    try:
        return _read_row(words)
    except ValueError as exc:
        raise ParseError("netstat", lineno, line, str(exc)) from None


def _read_row(words: list[str]) -> Socket:
    if len(words) < 3:
        raise ValueError("a row needs a protocol and two address:port columns")
    protocol = _PROTOCOLS[words[0]]
    local_text, remote_text, rest = words[1], words[2], words[3:]
    # The pid is the last column when present (-o); counting columns from the
    # left read UDP rows, which have no state, wrongly in other tools.
    pid = int(rest.pop()) if rest and rest[-1].isdigit() else None
    state = _state(protocol, rest)
    if state is State.TIME_WAIT and pid == 0:
        pid = None  # the idle process stands in for "no process": nothing owns TIME_WAIT
    family = _family(local_text, remote_text)
    local = _endpoint(local_text, protocol, family)
    remote = _endpoint(remote_text, protocol, family)
    return Socket(
        protocol=protocol,
        family=family,
        local=local,
        remote=None if _no_peer(remote) else remote,
        state=state,
        pid=pid,
        process=SYSTEM_PROCESSES.get(pid) if pid is not None else None,
        system_process=pid in SYSTEM_PROCESSES,
        no_owner=NoOwner.NOT_SHOWN if pid is None else None,  # run without -o
    )


def _state(protocol: Protocol, words: list[str]) -> State | None:
    if protocol is Protocol.UDP:
        if words:
            raise ValueError(f"unexpected {' '.join(words)!r} in a UDP row (UDP has no state)")
        return None
    if not words:
        raise ValueError("TCP row without a state")
    # Joined, in case a translation uses two words; the key drops the space.
    return _tcp_state("".join(words))


@functools.lru_cache(maxsize=256)  # a handful of words, on every TCP line
def _tcp_state(word: str) -> State:
    state = state_from_word(word, extra=TRANSLATED_STATES)
    if state is State.UNKNOWN and (not word.isascii() or "?" in word):
        return _mangled_state(word)
    return state


# Ways a pasted console text goes through the wrong code page, as (the page it
# was wrongly decoded with, the page it was written in): the console's OEM
# page (cp850 in Western Europe, cp437 in the US) read as the ANSI page
# (cp1252) or Latin-1, the reverse, and UTF-8 read as either. `ABHÖREN`
# written in cp850 and read as cp1252 arrives as `ABH™REN`.
_CODE_PAGE_MIXUPS = (
    ("cp1252", "cp850"),
    ("cp1252", "cp437"),
    ("latin-1", "cp850"),
    ("cp850", "cp1252"),
    ("cp437", "cp1252"),
    ("cp1252", "utf-8"),
    ("cp850", "utf-8"),
    ("latin-1", "utf-8"),
)


def _mangled_state(word: str) -> State:
    """State of a translated word that went through the wrong code page, or UNKNOWN.

    First the mix-up is undone (re-encoded with the page it was wrongly read
    with, decoded with the right one); failing that, a word of the same length
    as a known one that differs in one place only, where the known word has
    a non-ASCII letter and the word has any non-ASCII character or `?`
    (`ABH?REN`, `ABH\ufffdREN`), is that word.
    """
    for wrong, right in _CODE_PAGE_MIXUPS:
        try:
            fixed = word.encode(wrong).decode(right)
        except UnicodeError:
            continue
        state = state_from_word(fixed, extra=TRANSLATED_STATES)
        if state is not State.UNKNOWN:
            return state
    key = word_key(word)
    for known, state in TRANSLATED_STATES.items():
        if len(known) == len(key) and _one_letter_mangled(known, key):
            return state
    return State.UNKNOWN


def _one_letter_mangled(known: str, key: str) -> bool:
    differ = [(k, c) for k, c in zip(known, key) if k != c]
    return (
        len(differ) == 1
        and not differ[0][0].isascii()
        and (differ[0][1] == "?" or not differ[0][1].isascii())
    )


def _family(local_text: str, remote_text: str) -> Family:
    """IPv6 when an address is bracketed or parses as IPv6; host names count as IPv4."""
    host = _addr.split_colon(local_text)[0]
    found = _addr.family_of(host)
    if found is not None:
        return found
    if local_text.startswith("[") or remote_text.startswith("["):
        return Family.IPV6
    return Family.IPV4


@functools.lru_cache(maxsize=16384)
def _endpoint(text: str, protocol: Protocol, family: Family) -> Endpoint:
    # Cached: peers (`0.0.0.0:0`) and listeners repeat on many lines, and Endpoint is immutable.
    host, zone, port = _addr.split_colon(text)
    return _addr.make_endpoint(host, zone, port, protocol.value, family)


def _no_peer(endpoint: Endpoint) -> bool:
    """Listeners and UDP print the unspecified peer as `0.0.0.0:0`, `[::]:0`, `*:*`, or,
    without -n, `HOSTNAME:0`; no real peer has port 0."""
    return endpoint.port == 0 and endpoint.service is None


def _with_image(sock: Socket, image: str) -> Socket:
    if sock.system_process:
        return sock  # keep the names tasklist uses for PID 0 and 4
    return attrs.evolve(sock, process=image)
