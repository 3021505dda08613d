"""Rewrite golden expected files: `python -m tools.regen [capture ...]` (default: all)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests import golden


def main(argv: list[str]) -> None:
    targets = [Path(a) for a in argv] or golden.captures()
    for capture in targets:
        golden.write_expected(capture)
        print(f"wrote {golden.expected_path(capture)}")


if __name__ == "__main__":
    main(sys.argv[1:])
