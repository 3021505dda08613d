"""Rewrite golden expected files: `python -m tools.regen [--new-only] [capture ...]` (default: all).

A golden file whose sockets would change is rewritten only when its parser's
FORMAT_VERSION changed too: a change of output is then a deliberate one,
visible in the version field of every file of that parser. Otherwise the
diff is printed and the file left alone (exit status 1): raise the version in
the parser module, or fix the parser. Files whose output is unchanged are left
untouched; a capture without a golden file gets one. Every golden file
written must still be reviewed by eye against its capture.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support import golden


def regen(capture: Path) -> str:
    """Write or refuse one golden file; returns what happened, in a word or a diff."""
    new = golden.document(capture)
    if not golden.expected_path(capture).exists():
        golden.write_expected(capture)
        return "new"
    old = golden.read_expected(capture)
    if old == new:
        return "same"
    if old.get("format_version") == new["format_version"] and old.get("parser") == new["parser"]:
        return "REFUSED (output changed, FORMAT_VERSION did not):\n" + golden.diff(
            old, new, str(capture)
        )
    golden.write_expected(capture)
    return "rewritten:\n" + golden.diff(old, new, str(capture))


def main(argv: list[str]) -> int:
    new_only = "--new-only" in argv
    targets = [Path(a) for a in argv if a != "--new-only"] or golden.captures()
    refused = 0
    for capture in targets:
        if new_only and golden.expected_path(capture).exists():
            continue
        outcome = regen(capture)
        refused += outcome.startswith("REFUSED")
        if outcome != "same":
            print(f"{golden.expected_path(capture)}: {outcome}")
    if refused:
        print(f"{refused} golden file(s) refused; see the diffs above", file=sys.stderr)
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
