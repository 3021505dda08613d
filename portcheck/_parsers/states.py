"""TCP state words as each tool spells them, mapped onto `State`."""

from __future__ import annotations

import functools

from .._records import State

# Keys are the word upper-cased with "-" and "_" removed, so that ss
# (`FIN-WAIT-1`), net-tools (`FIN_WAIT1`), BSD (`FIN_WAIT_1`, `SYN_RCVD`) and
# Windows (`LISTENING`, `SYN_RECEIVED`) spellings all meet.
_WORDS = {
    "LISTEN": State.LISTEN,
    "LISTENING": State.LISTEN,
    "ESTAB": State.ESTABLISHED,
    "ESTABLISHED": State.ESTABLISHED,
    "SYNSENT": State.SYN_SENT,
    "SYNRECV": State.SYN_RECV,
    "SYNRCVD": State.SYN_RECV,
    "SYNRECEIVED": State.SYN_RECV,
    "FINWAIT1": State.FIN_WAIT1,
    "FINWAIT2": State.FIN_WAIT2,
    "TIMEWAIT": State.TIME_WAIT,
    "CLOSE": State.CLOSE,
    "CLOSED": State.CLOSE,
    "CLOSEWAIT": State.CLOSE_WAIT,
    "LASTACK": State.LAST_ACK,
    "CLOSING": State.CLOSING,
    "BOUND": State.BOUND,
}


def state_from_word(word: str, extra: dict[str, State] | None = None) -> State:
    """State for a tool's word; `extra` adds translations (keys normalised the same way).

    A word nobody knows gives `State.UNKNOWN`, never an error: tools add states
    (`IDLE`, `DELETE_TCB`) and translate them. Windows' `BOUND` is `State.BOUND`.
    """
    if extra is None:
        return _known_word(word)
    key = _key(word)
    return extra[key] if key in extra else _WORDS.get(key, State.UNKNOWN)


def word_key(word: str) -> str:
    """A state word as the tables here key it: upper case, no brackets, `-` or `_`."""
    return word.strip("()").upper().replace("-", "").replace("_", "")


_key = word_key


@functools.lru_cache(maxsize=256)
def _known_word(word: str) -> State:
    return _WORDS.get(_key(word), State.UNKNOWN)


# The kernel's TCP state numbers (include/net/tcp_states.h), as /proc/net/tcp
# prints them in hex and sock_diag returns them. 12 is TCP_NEW_SYN_RECV, a
# request socket the kernel shows as SYN-RECV; 13 TCP_BOUND_INACTIVE (Linux
# 6.5+, sock_diag only): bound, neither listening nor connected.
KERNEL_STATES = {
    1: State.ESTABLISHED,
    2: State.SYN_SENT,
    3: State.SYN_RECV,
    4: State.FIN_WAIT1,
    5: State.FIN_WAIT2,
    6: State.TIME_WAIT,
    7: State.CLOSE,
    8: State.CLOSE_WAIT,
    9: State.LAST_ACK,
    10: State.LISTEN,
    11: State.CLOSING,
    12: State.SYN_RECV,
    13: State.BOUND,
}


def kernel_state(code: int) -> State:
    """State for a Linux kernel state number; UNKNOWN for a number added after this table."""
    return KERNEL_STATES.get(code, State.UNKNOWN)
