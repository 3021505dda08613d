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
    build_run_parser,
    build_wait_parser,
    build_watch_parser,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_api_page_documents_every_public_name() -> None:
    text = (DOCS / "api.md").read_text()
    documented = set(re.findall(r"\.\. auto(?:function|class|exception):: portcheck\.(\w+)", text))
    assert documented == set(portcheck.__all__)


def test_command_page_documents_every_option() -> None:
    text = (DOCS / "command.md").read_text()
    parsers = (build_parser(), build_wait_parser(), build_find_parser(), build_kill_parser())
    for parser in (*parsers, build_list_parser(), build_watch_parser(), build_run_parser()):
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
