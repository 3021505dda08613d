"""Parser for `ps -ww -o pid= -o args= -p PID,PID,...` (macOS and the BSDs): pid -> argv.

A sample line (right-aligned pid, then the command line as ps joins it)::

      812 /usr/sbin/nginx -g daemon off;

ps joins the arguments with spaces, so the argv is split on whitespace: an
argument that held a space comes back as two. That is the most these systems
tell an unprivileged caller without a compiled helper (sysctl KERN_PROCARGS2).
"""

from __future__ import annotations


def parse_args(text: str) -> dict[int, tuple[str, ...]]:
    """argv by pid; lines without a numeric pid or with an empty command are skipped."""
    commands: dict[int, tuple[str, ...]] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2 or not (fields[0].isascii() and fields[0].isdigit()):
            continue
        commands.setdefault(int(fields[0]), tuple(fields[1:]))
    return commands
