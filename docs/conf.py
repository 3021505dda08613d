"""Sphinx configuration: MyST markdown pages, furo theme, autodoc and doctest.

Built by docs/build.sh with warnings as errors; `-b doctest` runs every
``{doctest}`` block of the pages (and the docstrings autodoc pulls in).
"""

from __future__ import annotations

import portcheck

project = "portcheck"
author = "the portcheck authors"
copyright = "the portcheck authors"
release = portcheck.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "build.sh", "README.md"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"portcheck {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}

# Every example starts from a fresh `import portcheck`.
doctest_global_setup = """
import os
import socket
from pathlib import Path

import portcheck
"""
