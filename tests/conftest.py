"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hold import Holders


@pytest.fixture
def holders() -> Iterator[Holders]:
    """Starts holder processes (tests/holder.py); kills them all after the test."""
    started = Holders()
    yield started
    started.close()
