"""The Ansible collection: a real ansible-playbook runs both plugins against this machine
over the test sshd (tests/support/sshd.py), with no Python used on the target, and the playbook's
assertions check what they return. Skipped where ansible-core is not installed (the test
extra installs it where pip can)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.hold import Held, Holders
from tests.support.ports import quiet_port
from tests.support.sshd import SshServer

COLLECTION = Path(__file__).resolve().parents[2] / "ansible"
BIN = Path(sys.executable).parent

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live tests run on Linux"),
    pytest.mark.skipif(
        not (BIN / "ansible-playbook").exists(),
        reason="ansible-core is not installed for this Python (pip install -e '.[test]')",
    ),
]

PLAYBOOK = """
- hosts: targets
  gather_facts: false
  tasks:
    - name: who holds the held port
      portcheck.portcheck.who_owns:
        port: {held}
      register: owner
    - ansible.builtin.assert:
        that:
          - owner.in_use
          - owner is not changed
          - (owner.sockets | map(attribute='pid') | list) == {pids}
          - owner.hidden == {hidden}

    - name: a free port, in check mode
      portcheck.portcheck.who_owns:
        port: {free}
      check_mode: true
      register: free
    - ansible.builtin.assert:
        that:
          - not free.in_use
          - (free.sockets | length) == 0
          - free is not changed

    - name: listeners as facts
      portcheck.portcheck.listen_ports_facts:
        allowed: [{held}]
      register: facts
    - ansible.builtin.set_fact:
        mine: "{{{{ tcp_listen | selectattr('port', 'equalto', {held}) | list }}}}"
    - ansible.builtin.assert:
        that:
          - (mine | map(attribute='pid') | list) == {pids}
          - (mine | map(attribute='address') | list) == ['127.0.0.1']
          - (mine | map(attribute='protocol') | list) == ['tcp']
          - {held} not in (facts.unexpected | map(attribute='port') | list)
          - (facts.unexpected | length) == (tcp_listen | length) + (udp_listen | length) - 1
    - ansible.builtin.copy:
        content: "{{{{ {{'facts': facts, 'tcp_listen': tcp_listen}} | to_json }}}}"
        dest: "{out}"
      delegate_to: localhost

    - name: listeners as facts in check mode too (a read-only listing)
      portcheck.portcheck.listen_ports_facts:
      check_mode: true
      register: checked
    - ansible.builtin.assert:
        that:
          - checked is not skipped
          - checked is not changed
          - (checked.ansible_facts.tcp_listen | length) > 0

    - name: an allowlist that allows nothing fails only when asked to
      portcheck.portcheck.listen_ports_facts:
        allowed: []
        fail_on_unexpected: true
      register: strict
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - strict is failed
          - "'unexpected listeners' in strict.msg"
"""


def _playbook(
    sshd: SshServer, tmp_path: Path, user: str, held: Held, *, free: int, hidden: bool
) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    out = tmp_path / "facts.json"
    text = PLAYBOOK.format(held=held.ports[0], pids=held.pids, free=free, hidden=hidden, out=out)
    done = _run_playbook(sshd, tmp_path, user, text)
    facts = json.loads(out.read_text()) if out.exists() else {}
    return done, facts


def _run_playbook(
    sshd: SshServer, tmp_path: Path, user: str, playbook: str
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "site.yml").write_text(playbook)
    (tmp_path / "hosts.ini").write_text(
        "[targets]\n"
        f"target ansible_host=127.0.0.1 ansible_port={sshd.port} ansible_user={user}"
        f" ansible_ssh_common_args='-F {sshd.client_config}'"
        # No Python on the target is ever used: point it at nothing.
        " ansible_python_interpreter=/nonexistent/python\n"
        "[controller]\n"
        "localhost ansible_connection=local"
        f" ansible_python_interpreter={sys.executable}\n"
    )
    env = {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTION),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp"),
        # Ansible's shared connection outlives the playbook; let it go soon after.
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=5s",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "LC_ALL": "C.UTF-8",
    }
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(tmp_path / "hosts.ini"), "site.yml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture
def hold(holders: Holders) -> Callable[..., Held]:
    return holders.start


def test_playbook_as_root(sshd: SshServer, hold: Callable[..., Held], tmp_path: Path) -> None:
    held = hold([["tcp-listen", "127.0.0.1"]], user=sshd.user)
    done, facts = _playbook(sshd, tmp_path, "root", held, free=quiet_port(), hidden=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    [mine] = [f for f in facts["tcp_listen"] if f["port"] == held.ports[0]]  # type: ignore[attr-defined]
    assert mine["user"] == sshd.user
    assert mine["name"] == "python3" or mine["name"].startswith("python")
    assert mine["stime"]  # ps -o lstart: "Sun Nov 30 16:12:01 2025"
    assert mine["family"] == "ipv4"
    assert mine["state"] == "LISTEN"
    # The owner script read the target's /proc through Ansible's connection (a tty: CRLF).
    assert mine["command"][1].endswith("holder.py")
    assert (mine["units"], mine["container"]) == ([], None)


def test_playbook_as_an_unprivileged_user_sees_hidden_owners(
    sshd: SshServer, hold: Callable[..., Held], tmp_path: Path
) -> None:
    held = hold([["tcp-listen", "127.0.0.1"]])  # root's socket
    hidden = Held(pids=[None], ports=held.ports, proc=held.proc)  # type: ignore[list-item]
    done, facts = _playbook(sshd, tmp_path, sshd.user, hidden, free=quiet_port(), hidden=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    [theirs] = [f for f in facts["tcp_listen"] if f["port"] == held.ports[0]]  # type: ignore[attr-defined]
    assert theirs["pid"] is None
    assert theirs["name"] is None
    assert theirs["no_owner"] == "hidden"
    assert theirs["stime"] is None
    assert theirs["user"] == "root"


def test_the_collection_builds(tmp_path: Path) -> None:
    galaxy = BIN / "ansible-galaxy"
    source = COLLECTION / "ansible_collections" / "portcheck" / "portcheck"
    done = subprocess.run(
        [str(galaxy), "collection", "build", str(source), "--output-path", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "HOME": str(tmp_path), "ANSIBLE_HOME": str(tmp_path / "ah")},
    )
    assert done.returncode == 0, done.stderr
    [built] = tmp_path.glob("portcheck-portcheck-*.tar.gz")
    with tarfile.open(built) as archive:
        names = set(archive.getnames())
    assert "plugins/action/who_owns.py" in names
    assert "plugins/action/listen_ports_facts.py" in names
    assert "MANIFEST.json" in names
    shutil.rmtree(tmp_path / "ah", ignore_errors=True)


@pytest.mark.parametrize("plugin", ["who_owns", "listen_ports_facts"])
def test_both_action_plugins_run_under_check(plugin: str) -> None:
    # Without it, `ansible-playbook --check` skips the task: only who_owns
    # would run. The playbook above proves it end to end (`checked is not skipped`).
    import importlib

    sys.path.insert(0, str(COLLECTION))
    try:
        module = importlib.import_module(
            f"ansible_collections.portcheck.portcheck.plugins.action.{plugin}"
        )
    finally:
        sys.path.remove(str(COLLECTION))
    assert module.ActionModule._supports_check_mode is True


PREFORK_PLAYBOOK = """
- hosts: targets
  gather_facts: false
  tasks:
    - name: a port with 61 owners
      portcheck.portcheck.who_owns:
        port: {port}
      register: owner
    - ansible.builtin.assert:
        that:
          - (owner.sockets | map(attribute='pid') | unique | sort) == {pids}
    - name: the same owners as facts
      portcheck.portcheck.listen_ports_facts:
    - ansible.builtin.assert:
        that:
          - >-
            (tcp_listen | selectattr('port', 'equalto', {port}) | map(attribute='pid')
            | unique | sort) == {pids}
"""


def test_sixty_prefork_workers_through_the_playbook(sshd: SshServer, tmp_path: Path) -> None:
    # More owners than one `ps -p a,b,...` word may name: the plugins ask in chunks.
    from tests.support.hold import Reporters

    prefork = Path(__file__).resolve().parent.parent / "support" / "prefork.py"
    reporters = Reporters()
    try:
        report, _proc = reporters.start(prefork, "60")
        pids = sorted(report["pids"])
        assert len(pids) == 61
        playbook = PREFORK_PLAYBOOK.format(port=report["port"], pids=pids)
        done = _run_playbook(sshd, tmp_path, "root", playbook)
    finally:
        reporters.close()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
