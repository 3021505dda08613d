"""What a local lookup reads of an owner that a lookup over ssh does not: `cwd` and `exe`.

They are links (/proc/PID/cwd, /proc/PID/exe) that the constant owner script
(`_parsers/proc_frames.py`) does not read: None over ssh, as documented.
Comparisons of a host's records with the local ones drop them.
"""

from __future__ import annotations

import attrs

from portcheck import Socket


def without_links(sock: Socket) -> Socket:
    return attrs.evolve(sock, cwd=None, exe=None)
