"""`python -m portcheck PORT`: the same as the `portcheck` command."""

from __future__ import annotations

from ._cli import command

if __name__ == "__main__":
    command()
