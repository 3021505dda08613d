"""The version, written here only: pyproject.toml reads it from this file at build time."""

__version__ = "0.1.0"
