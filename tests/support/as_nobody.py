"""Run a piece of a test in a forked child that dropped to the unprivileged user `nobody`.

The child needs no re-import: it runs `work()` with everything the test has
loaded, writes what `work()` returns as JSON to a pipe, and exits; an
exception in the child comes back as an AssertionError naming it.
"""

from __future__ import annotations

import ctypes
import json
import os
import pwd
from collections.abc import Sequence
from typing import Any, Callable


def run_as_nobody(
    work: Callable[[], Any], *, close: Sequence[int] = (), dumpable: bool = False
) -> Any:
    """`work()`'s JSON-ready result, computed as `nobody`.

    `close`: descriptors the child must not keep (sockets that are root's and
    should stay root's alone). `dumpable`: make the child's own /proc/PID/fd
    readable by itself again, as for a process started as nobody (setuid()
    clears that flag).
    """
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            os.close(read_end)
            for fd in close:
                os.close(fd)
            nobody = pwd.getpwnam("nobody")
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            if dumpable:
                ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE
            payload = json.dumps({"result": work()})
        except BaseException as exc:  # noqa: BLE001 - the child reports anything to the parent
            payload, code = json.dumps({"error": repr(exc)}), 1
        with os.fdopen(write_end, "w") as out:
            out.write(payload)
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as inp:
        payload = inp.read()
    os.waitpid(child, 0)
    answer = json.loads(payload)
    if "error" in answer:
        raise AssertionError(f"as nobody: {answer['error']}")
    return answer["result"]
