"""The documentation covers the public surface: every name in the API page, every option
in the command page. (docs/build.sh builds the site and runs its examples.)"""

from __future__ import annotations

import re
from pathlib import Path

import portcheck
from portcheck._cli import _commands, build_parser, synopsis

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_api_page_documents_every_public_name() -> None:
    text = (DOCS / "api.md").read_text()
    documented = set(re.findall(r"\.\. auto(?:function|class|exception):: portcheck\.(\w+)", text))
    assert documented == set(portcheck.__all__)


def _sections(text: str) -> dict[str, str]:
    """The command page's `## ` sections by heading."""
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def _documented(section: str) -> set[str]:
    """The options of a section's definition list: "`--opt X`, `-o`" then ": ..."."""
    entries = re.findall(r"^(`-.*)\n: ", section, flags=re.MULTILINE)
    return {o for entry in entries for o in re.findall(r"`(-[\w-]+)", entry)}


def _options(build: object) -> set[str]:
    return {o for a in build()._actions for o in a.option_strings}  # type: ignore[operator]


def test_command_page_synopsis_is_the_argparse_table() -> None:
    text = (DOCS / "command.md").read_text()
    block = re.search(r"```text\n(.*?)```", text, flags=re.DOTALL)
    assert block is not None
    assert block.group(1) == synopsis()


def test_command_page_documents_each_option_where_it_belongs() -> None:
    """Every option once: the common ones in their section, the others in their command's."""
    sections = _sections((DOCS / "command.md").read_text())
    common = _documented(sections["Options every command takes"])
    builders = {"": build_parser, **{n: b for n, (b, _) in _commands().items()}}
    every = set.intersection(*(_options(b) for b in builders.values()))
    assert every - {"-h", "--help"} <= common
    for name, build in builders.items():
        heading = next(h for h in sections if re.match(f"`portcheck {name or 'PORTS'}[` ]", h))
        own = _options(build) - common
        assert _documented(sections[heading]) == own, name
    hosts = {"--host", "--hosts", "--workers", "--tool", "--csv", "--version"}
    assert common == {"--json", "--csv", "-q", "--quiet", "--timeout", "--debug"} | hosts | {
        "-h",
        "--help",
    }


# Paths cited that are not files of this repository, each with why.
_NOT_PATHS = {
    "docs/_build": "built by docs/build.sh",
    "portcheck/attrs": "a ratio printed by bench/startup.py",
    "tests/fixtures/linux/SYSTEM--COMMAND.out": "a pattern",
    "tests/parsers/test_": "a pattern (test_<format>.py)",
}


def test_every_path_cited_in_code_and_docs_exists() -> None:
    pattern = re.compile(r"(?<![\w/.-])((?:tests|docs|portcheck|tools|bench|ansible)/[\w./-]*\w)")
    sources = [
        p
        for top in ("portcheck", "tests", "tools", "bench", "docs", "ansible")
        for p in (ROOT / top).rglob("*")
        if p.suffix in (".py", ".md", ".sh", ".toml", ".yml", ".yaml") and "_build" not in p.parts
    ]
    missing = []
    for source in [*sources, ROOT / "README.md", ROOT / "pyproject.toml"]:
        text = source.read_text(encoding="utf-8")
        # A capture's provenance cites its path in the upstream repository (jc's).
        ours = "\n".join(line for line in text.splitlines() if "jc `tests/" not in line)
        for match in pattern.finditer(ours):
            path = match.group(1).split("::")[0].rstrip(".")
            if any(path.startswith(known) for known in _NOT_PATHS):
                continue
            if not (ROOT / path).exists():
                missing.append(f"{source.relative_to(ROOT)}: {path}")
    assert missing == []


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


def test_sample_outputs_are_what_the_command_prints() -> None:
    """Rerun `python -m tools.doc_samples` after changing an output."""
    from tools import doc_samples

    assert len(doc_samples.samples()) >= 6
    assert doc_samples.stale() == []
