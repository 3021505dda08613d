"""The documentation covers the public surface: every name in the API page, every option
in the command page. (docs/build.sh builds the site and runs its examples.)"""

from __future__ import annotations

import re
from pathlib import Path

import portcheck
from portcheck._cli import (
    build_find_parser,
    build_kill_parser,
    build_list_parser,
    build_parser,
    build_wait_parser,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_api_page_documents_every_public_name() -> None:
    text = (DOCS / "api.md").read_text()
    documented = set(re.findall(r"\.\. auto(?:function|class|exception):: portcheck\.(\w+)", text))
    assert documented == set(portcheck.__all__)


def test_command_page_documents_every_option() -> None:
    text = (DOCS / "command.md").read_text()
    parsers = (build_parser(), build_wait_parser(), build_find_parser(), build_kill_parser())
    for parser in (*parsers, build_list_parser()):
        for action in parser._actions:
            for option in action.option_strings:
                assert f"`{option}" in text or f"{option}`" in text, option


def test_index_lists_every_page() -> None:
    index = (DOCS / "index.md").read_text() + (DOCS / "platforms.md").read_text()
    pages = {
        p.relative_to(DOCS).with_suffix("").as_posix()
        for p in DOCS.rglob("*.md")
        if "_build" not in p.parts
    }
    for page in pages - {"index"}:
        assert re.search(rf"^{re.escape(page)}$", index, re.MULTILINE), page


_COLUMNS = {
    "Linux": (portcheck.Platform.LINUX, False),
    "Linux over ssh": (portcheck.Platform.LINUX, True),
    "macOS": (portcheck.Platform.DARWIN, False),
    "FreeBSD": (portcheck.Platform.FREEBSD, False),
    "NetBSD": (portcheck.Platform.NETBSD, False),
    "OpenBSD": (portcheck.Platform.OPENBSD, False),
    "Windows": (portcheck.Platform.WINDOWS, False),
}


def _matrix() -> dict[tuple[portcheck.Platform, bool], frozenset[str]]:
    """What docs/platforms.md's field matrix says each system fills."""
    text = (DOCS / "platforms.md").read_text().split("## Which fields each system fills")[1]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("|") and not line.startswith("|---")
    ]
    header, body = rows[0], rows[1:]
    filled: dict[tuple[portcheck.Platform, bool], set[str]] = {}
    for row in body:
        field = re.findall(r"`(\w+)`", row[0])[0].replace("process", "pid").replace("uid", "user")
        for column, cell in zip(header[1:], row[1:]):
            key = _COLUMNS[column]
            filled.setdefault(key, set())
            if not cell.startswith(("no", "empty")):
                filled[key].add(field)
    return {key: frozenset(fields) for key, fields in filled.items()}


def test_field_matrix_matches_the_declared_capabilities() -> None:
    from portcheck._backends import FILLS, OWNER_FIELDS

    documented = _matrix()
    assert documented == FILLS
    assert all(fields <= set(OWNER_FIELDS) for fields in documented.values())
