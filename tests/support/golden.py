"""Discovery of fixture captures and their golden expected files.

Layout: `tests/fixtures/<platform>/<source>--<command-and-flags>.out` for
real captures, `tests/fixtures/synthetic/<platform>/...` for hand-made ones;
beside each, `<same name>.expected.json` holds what `parse` must return.

The tool is the first word of the command part (after `--`) that names a
tool `parse` takes: `lsof-nP-i`, `sudo-ss-tulpen`, `macos-lsof-PiTCP`,
`centos-7-docker-host-ss-ntlu-wide`, `win10-netstat-an-partial`,
`openbsd-fstat-grep-80`. Captures of commands `parse` does not take
(tasklist, /proc/net files) sit in the same tree and are tested by their
own modules; `OTHER_COMMANDS` names them, so that a new capture whose tool
cannot be told fails `test_every_capture_has_a_tool` instead of being
skipped in silence.

A golden file records which parser module produced it and that module's
`FORMAT_VERSION`, with one socket per line so that a diff shows whole rows::

    {
     "parser": "netstat_bsd",
     "format_version": 1,
     "sockets": [
      {"protocol": "tcp", ...},
      ...
     ]
    }
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import portcheck
from portcheck._parsers import TOOLS, parser
from portcheck._render.json import socket_to_dict

FIXTURES = Path(__file__).parent.parent / "fixtures"
SYNTHETIC = FIXTURES / "synthetic"
PARSE_TOOLS = TOOLS
# First words of commands whose captures `parse` does not read (their own tests do).
OTHER_COMMANDS = ("proc", "tasklist", "netsh")
# Folders of files that are no tool's output (tests/parsers/test_cgroup.py reads them).
NOT_TOOL_OUTPUT = ("cgroup",)


def tool_of(capture: Path) -> str:
    """The tool a capture's name says produced it, or its first command word."""
    command = capture.name.split("--")[1]
    words = [word.split(".")[0] for word in command.split("-")]
    return next((word for word in words if word in PARSE_TOOLS), words[0])


def platform_of(capture: Path) -> str:
    return capture.parent.name


def is_synthetic(capture: Path) -> bool:
    return SYNTHETIC in capture.parents


def captures() -> list[Path]:
    """Every capture `parse` takes, real and synthetic."""
    return sorted(
        p
        for p in FIXTURES.rglob("*.out")
        if p.relative_to(FIXTURES).parts[0] not in NOT_TOOL_OUTPUT and tool_of(p) in PARSE_TOOLS
    )


def real_captures() -> list[Path]:
    """The captures made on real systems (not under synthetic/)."""
    return [p for p in captures() if not is_synthetic(p)]


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
    return [_golden(socket_to_dict(s)) for s in sockets]


# Fields added after the goldens were made, kept out of them where a parser
# leaves them unset: `started` comes from /proc, never from a tool's text, and
# `socket_id` only from the tools that print one (lsof's DEVICE).
_LATER = ("socket_id", "started")


def _golden(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in _LATER or v is not None}


def document(capture: Path) -> dict[str, Any]:
    """The golden document the current parser makes of `capture`."""
    entry = parser(tool_of(capture), platform_of(capture))
    return {
        "parser": entry.module,
        "format_version": entry.format_version,
        "sockets": parsed(capture),
    }


def render(doc: dict[str, Any]) -> str:
    """A golden document as text: the header fields, then one socket per line."""
    rows = ",\n".join("  " + json.dumps(s, ensure_ascii=False) for s in doc["sockets"])
    return (
        "{\n"
        f' "parser": {json.dumps(doc["parser"])},\n'
        f' "format_version": {json.dumps(doc["format_version"])},\n'
        + (f' "sockets": [\n{rows}\n ]\n' if rows else ' "sockets": []\n')
        + "}\n"
    )


def read_expected(capture: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(expected_path(capture).read_text(encoding="utf-8"))
    return loaded


def diff(expected: dict[str, Any], actual: dict[str, Any], name: str) -> str:
    """A unified diff of two golden documents, one socket per line."""
    return "".join(
        difflib.unified_diff(
            render(expected).splitlines(keepends=True),
            render(actual).splitlines(keepends=True),
            fromfile=f"{name} (golden)",
            tofile=f"{name} (parser now)",
        )
    )


def write_expected(capture: Path) -> None:
    expected_path(capture).write_text(render(document(capture)), encoding="utf-8")
