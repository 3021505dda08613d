"""Start tests/support/holder.py child processes that hold sockets, and clean them up."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs

HOLDER = Path(__file__).with_name("holder.py")


@attrs.frozen
class Held:
    """The holder's pids (the holder first) and the port of each socket, in plan order."""

    pids: list[int]
    ports: list[int]
    proc: subprocess.Popen[str] = attrs.field(eq=False, repr=False)

    def kill(self) -> None:
        """Kill the holder and any child it forked; its sockets close with it."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@attrs.define
class Holders:
    """Starts holders; `close()` kills every one still running."""

    started: list[Held] = attrs.field(factory=list)

    def start(
        self,
        sockets: list[list[str]],
        *,
        fork: bool = False,
        user: str | None = None,
        accept: bool = False,
        name: str | None = None,
    ) -> Held:
        """Start a holder with `sockets` (see tests/support/holder.py for the plan's meaning)."""
        plan = json.dumps(
            {"sockets": sockets, "fork": fork, "user": user, "accept": accept, "name": name}
        )
        proc = subprocess.Popen(
            [sys.executable, str(HOLDER), plan],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, "holder process died before reporting its sockets"
        report = json.loads(line)
        held = Held(pids=report["pids"], ports=report["ports"], proc=proc)
        self.started.append(held)
        return held

    def close(self) -> None:
        for held in self.started:
            held.kill()


@attrs.define
class Reporters:
    """Child scripts that print one JSON line once ready, each in its own session.

    `close()` kills each one's whole process group (forked workers too).
    """

    procs: list[subprocess.Popen[str]] = attrs.field(factory=list)

    def start(self, script: Path, *args: str) -> tuple[dict[str, Any], subprocess.Popen[str]]:
        """Start `python script *args` and return its report and its process."""
        proc = subprocess.Popen(
            [sys.executable, str(script), *args],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, f"{script.name} {args} died before reporting"
        report: dict[str, Any] = json.loads(line)
        return report, proc

    def close(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
