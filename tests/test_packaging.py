"""The distribution: its name, and every subpackage shipped in the wheel.

CI builds the wheel and the sdist, runs `twine check` on both and installs the
wheel in a fresh venv (`.ci/run`); this checks what can be read from the tree.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    from tomllib import loads as toml_loads
else:  # the test extra installs tomli there
    from tomli import loads as toml_loads

ROOT = Path(__file__).resolve().parent.parent
PROJECT = toml_loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_distribution_has_a_name_of_its_own() -> None:
    # `portcheck` on the index is an unrelated 2015 package: never that name.
    assert PROJECT["project"]["name"] == "pyportcheck"
    assert PROJECT["project"]["scripts"] == {"portcheck": "portcheck._cli:command"}


def test_every_subpackage_is_in_the_wheel() -> None:
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "portcheck").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert set(PROJECT["tool"]["setuptools"]["packages"]) == on_disk


def test_the_only_runtime_dependency_is_attrs() -> None:
    assert [d.split(">")[0] for d in PROJECT["project"]["dependencies"]] == ["attrs"]
