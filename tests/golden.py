"""Discovery of fixture captures and their golden expected files.

Layout: `tests/fixtures/<platform>/<system-version>--<command-and-flags>.out`
for real captures, `tests/fixtures/synthetic/<platform>/...` for hand-made
ones; beside each, `<same name>.expected.json` holds what `parse` must return.
The tool is the first word of the command part (a leading `sudo-` dropped).
Captures of commands `parse` does not take (tasklist, /proc/net files) sit in
the same tree and are tested by their own modules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import portcheck
from portcheck._render.json import socket_to_dict

FIXTURES = Path(__file__).parent / "fixtures"
PARSE_TOOLS = ("lsof", "ss", "netstat", "sockstat")


def tool_of(capture: Path) -> str:
    command = capture.name.split("--")[1]
    if command.startswith("sudo-"):
        command = command[len("sudo-") :]
    return command.split("-")[0].split(".")[0]


def platform_of(capture: Path) -> str:
    return capture.parent.name


def captures() -> list[Path]:
    """Every capture `parse` takes, real and synthetic."""
    return sorted(p for p in FIXTURES.rglob("*.out") if tool_of(p) in PARSE_TOOLS)


def read_capture(capture: Path) -> str:
    # newline="" keeps CRLF as captured: the parsers must cope with it.
    with capture.open(encoding="utf-8", newline="") as f:
        return f.read()


def expected_path(capture: Path) -> Path:
    return capture.with_name(capture.name[: -len(".out")] + ".expected.json")


def parsed(capture: Path) -> list[dict[str, Any]]:
    sockets = portcheck.parse(
        read_capture(capture), tool=tool_of(capture), platform=platform_of(capture)
    )
    return [socket_to_dict(s) for s in sockets]


def write_expected(capture: Path) -> None:
    text = json.dumps(parsed(capture), indent=1, ensure_ascii=False) + "\n"
    expected_path(capture).write_text(text, encoding="utf-8")
