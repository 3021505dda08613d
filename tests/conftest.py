"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.hold import Holders
from tests.support.sshd import SshServer
from tests.support.sshd import why_not as sshd_missing


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, skip the `alone` tests: they slow every lookup of the other
    workers on purpose (tests/live/test_deadline.py). A serial run runs them; the
    README's command and CI run them by themselves after each parallel run (`-m alone`)."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return
    skip = pytest.mark.skip(reason="runs alone, not beside other workers: pytest -m alone")
    for item in items:
        if item.get_closest_marker("alone") is not None:
            item.add_marker(skip)


@pytest.fixture
def holders() -> Iterator[Holders]:
    """Starts holder processes (tests/support/holder.py); kills them all after the test."""
    started = Holders()
    yield started
    started.close()


@pytest.fixture(scope="session")
def sshd() -> Iterator[SshServer]:
    """A throwaway OpenSSH server on a loopback port (tests/support/sshd.py), for the whole session.

    Skips when sshd is missing or the tests do not run as root (CI installs
    openssh-server and runs as root).
    """
    reason = sshd_missing()
    if reason is not None:
        pytest.skip(reason)
    server = SshServer.start()
    yield server
    server.stop()


@pytest.fixture
def ssh_config(sshd: SshServer, monkeypatch: pytest.MonkeyPatch) -> SshServer:
    """The test server, with PORTCHECK_SSH_CONFIG naming its client config for this test."""
    monkeypatch.setenv("PORTCHECK_SSH_CONFIG", str(sshd.client_config))
    return sshd
