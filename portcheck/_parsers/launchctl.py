"""Parser for `launchctl procinfo PID` (macOS, root only): the launchd label of a process.

procinfo prints `key = value` lines, some opening `{ ... }` blocks. The
label of the launchd job a process belongs to is read from a `label = X`
line at any depth, the way the key is named in launchd's job dictionaries::

    program path = /usr/sbin/sshd
    ...
        label = com.openssh.sshd

Known from documentation only: no real capture backs this format yet
(tests/fixtures/synthetic/). A process no job owns (started from a shell)
has no such line, and gets no unit. Pure: text in, label out.
"""

from __future__ import annotations

import re

FORMAT_VERSION = 1
# Labels are reverse-DNS words; anything else is not taken for one.
_LABEL = re.compile(r"\s*label = ([A-Za-z0-9_.@:+-]{1,200})\s*")


def parse_label(text: str) -> str | None:
    """The job label procinfo names, or None when it names none."""
    for line in text.splitlines():
        found = _LABEL.fullmatch(line)
        if found:
            return found.group(1)
    return None
