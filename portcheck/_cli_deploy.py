"""What the deploy and operator subcommands do once `_cli` parsed them (issue 23).

`portcheck wait TARGET... --open`, `portcheck watch`, `portcheck run` and the
`--wide` of `portcheck list`. `_cli` owns the parsers and the
dispatch; this module never imports it (the import graph has no cycle), so
each function takes what it needs as arguments and returns an exit status.
"""

from __future__ import annotations

import datetime
import json
import signal
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._errors import NoFreePortError, PortcheckError, PortInUseError, WaitTimeoutError
from ._render import json as documents
from ._render.words import ERROR, owners, safe

if TYPE_CHECKING:
    from types import FrameType

    from ._ports.launch import Plan
    from ._records import Socket

EXIT_OK, EXIT_TIMEOUT, EXIT_ALERT, EXIT_TAKEN, EXIT_ERROR = 0, 1, 1, 1, 2
# What a shell returns for a command it cannot find, or cannot execute.
EXIT_NOT_FOUND, EXIT_NOT_EXECUTABLE = 127, 126


def _print_json(document: dict[str, Any], *, indent: int | None = 2) -> None:
    print(json.dumps(document, indent=indent), flush=True)


def _say(message: str) -> None:
    print(f"portcheck: {message}", file=sys.stderr, flush=True)


def _on_terminal(quiet: bool) -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return not quiet and isatty is not None and bool(isatty())


# --- portcheck wait TARGET... --open -----------------------------------------


def wait_open_main(
    targets: Sequence[str], *, timeout: float, interval: float, as_json: bool, quiet: bool
) -> int:
    """0 when every target accepts a TCP connection, 1 at the timeout, 2 on bad input."""
    from ._render.reach import ReachProgress, down_lines, open_lines
    from ._wait.connect import finish_wait, parse_targets, start_wait

    try:
        addresses = parse_targets(targets)
    except ValueError as exc:
        raise PortcheckError(str(exc)) from None
    names = [a.text for a in addresses]
    line = ReachProgress(timeout) if _on_terminal(quiet) else None
    start = time.monotonic()

    def report(opened: Any, down: Any) -> None:
        if line is not None:
            line.update(time.monotonic() - start, opened, down)

    progress = start_wait(addresses, timeout=timeout, interval=interval)
    try:
        took = finish_wait(progress, timeout=timeout, report=report)
    except WaitTimeoutError as exc:
        opened, down = exc.opened, exc.last_errors
    else:
        opened, down = took, {}
    finally:
        if line is not None:
            line.clear()
    if not quiet:
        if as_json:
            _print_json(
                documents.wait_open_document(
                    targets=names, timeout=timeout, opened=opened, down=down
                )
            )
        else:
            for text in open_lines(opened):
                print(text)
            for text in down_lines(timeout, down):
                print(text, file=sys.stderr)
    return EXIT_TIMEOUT if down else EXIT_OK


# --- portcheck watch ----------------------------------------------------------


class _Stop(BaseException):
    """SIGTERM, turned into an exception the watch loop ends on, as SIGINT's
    KeyboardInterrupt: a BaseException too, so that no `except Exception` on
    the way (a lookup's cleanup) can swallow it."""


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def watch_main(
    *,
    interval: float,
    initial: bool,
    exposed: bool,
    alert: bool,
    as_json: bool,
    quiet: bool,
    tool: str | None,
    timeout: float,
    filters: dict[str, Any],
) -> int:
    """Print each event until SIGINT/SIGTERM (exit 0) or, with `alert`, the first change (1).

    `alert` fires on `opened` and `closed` events only: the listeners present
    at the start are the baseline a script compares against.
    """
    from ._listing.watch import EventKind, watch
    from ._render.watch import event_line

    events = watch(
        interval=interval, initial=initial, exposed=exposed, tool=tool, timeout=timeout, **filters
    )
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        for event in events:
            now = datetime.datetime.now().astimezone()
            if not quiet:
                if as_json:
                    _print_json(documents.event_document(event, now.isoformat()), indent=None)
                else:
                    print(event_line(event, now), flush=True)
            if alert and event.event is not EventKind.PRESENT:
                return EXIT_ALERT
    except (KeyboardInterrupt, _Stop):
        return EXIT_OK
    finally:
        events.close()
        signal.signal(signal.SIGTERM, previous)
    return EXIT_OK  # not reached: the watch ends only by a signal or an error


# --- portcheck run --------------------------------------------------------------


def run_main(
    command: Sequence[str],
    *,
    port: int | None,
    port_range: tuple[int, int] | None,
    next_free: bool,
    env_name: str,
    use_socket: bool,
    bind: str | None,
    timeout: float,
    quiet: bool,
    wait_open: bool = False,
) -> int:
    """Choose the port, then exec the command; returns only when it cannot start (1, 2, 126, 127).

    1 when the port is taken (its owners named) or the range has no usable
    port, 2 on bad input. With `wait_open` (and on Windows, which has no
    exec) the command runs as a child instead, its status returned, and
    `wait_open` says on stderr when it accepts connections, or that it did
    not within `timeout`.
    """
    from ._ports.launch import DEFAULT_RANGE, choose, execute, plan

    command = _check_run(
        command,
        port=port,
        port_range=port_range,
        next_free=next_free,
        use_socket=use_socket,
        bind=bind,
    )
    if wait_open and use_socket:
        raise PortcheckError(
            "--wait-open with --socket: the socket accepts connections from the start "
            "(the kernel queues them), so there is nothing to wait for"
        )
    first, last = port_range or DEFAULT_RANGE
    try:
        chosen, listener = choose(
            port=port,
            first=first,
            last=last,
            next_free=next_free,
            bind=(bind or "127.0.0.1") if use_socket else None,
            timeout=timeout,
        )
    except PortInUseError as exc:
        if not quiet:
            held = "; ".join(owners(exc.owners, ERROR)) if exc.owners else ""
            _say(f"{exc}" + (f": held by {held}" if held else "") + " (--next takes the next one)")
        return EXIT_TAKEN
    except NoFreePortError as exc:
        if not quiet:
            _say(str(exc))
        return EXIT_TAKEN
    try:
        made = plan(command, chosen, env_name=env_name, listener=listener)
    except ValueError as exc:
        raise PortcheckError(str(exc)) from None
    if not quiet:
        how = f" (listening socket on fd 3, {safe(bind or '127.0.0.1')})" if use_socket else ""
        _say(f"port {chosen}{how}: exec {safe(' '.join(made.argv))}")
    try:
        if wait_open or sys.platform == "win32":
            return _run_child(made, timeout=timeout, quiet=quiet or not wait_open)
        execute(made)
    except FileNotFoundError:
        _say(f"command not found: {safe(made.argv[0])}")
        return EXIT_NOT_FOUND
    except PermissionError:
        _say(f"command not executable: {safe(made.argv[0])}")
        return EXIT_NOT_EXECUTABLE
    return EXIT_ERROR  # not reached: execute returns only by raising


def _run_child(made: Plan, *, timeout: float, quiet: bool) -> int:
    """The command as a child, with a thread saying when it accepts connections on its port."""
    import threading

    from ._run import run_command

    def report(pid: int) -> None:
        from ._wait.connect import wait_until_open

        target = f"localhost:{made.port}"
        try:
            took = wait_until_open([target], timeout=timeout)
        except WaitTimeoutError as exc:
            why = exc.last_errors.get(target, "")
            _say(f"pid {pid} did not accept connections on port {made.port} within "
                 f"{timeout:g} s (last try: {why})")  # fmt: skip
        else:
            _say(f"pid {pid} accepts connections on port {made.port} (after {took[target]:.1f} s)")

    reporters: list[threading.Thread] = []

    def started(pid: int) -> None:
        if not quiet:
            reporters.append(threading.Thread(target=report, args=(pid,), daemon=True))
            reporters[-1].start()

    status = run_command(made.argv, made.env, started=started)
    for thread in reporters:
        # A command that accepted and exited at once: its connection succeeded a
        # moment ago, and the line saying so is on its way. One that never
        # accepted is not waited for past this.
        thread.join(0.5)
    return status


def _check_run(
    command: Sequence[str],
    *,
    port: int | None,
    port_range: tuple[int, int] | None,
    next_free: bool,
    use_socket: bool,
    bind: str | None,
) -> list[str]:
    """The command without a leading `--`; PortcheckError for options that do not go together."""
    command = list(command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise PortcheckError("no command to run: portcheck run [options] -- CMD ARGS...")
    if port is not None and port_range is not None:
        raise PortcheckError("--port and --range do not go together")
    if next_free and port is None:
        raise PortcheckError("--next goes with --port")
    if bind is not None and not use_socket:
        raise PortcheckError("--bind goes with --socket")
    if use_socket and sys.platform == "win32":
        raise PortcheckError("--socket hands a descriptor over exec: POSIX only")
    return command


# --- portcheck list: filters and --wide -------------------------------------------


WIDE_HEADER = ("PORT", "PROTO", "LOCAL ADDRESS", "PID", "USER", "PARENTS", "CWD", "STARTED")


def wide_details(sock: Socket) -> dict[str, Any]:
    """What `--wide` adds for one socket's owner: the parent chain and the start time."""
    from ._backends.procfs import parent_chain

    started = (
        None if sock.started is None else sock.started.astimezone().isoformat(timespec="seconds")
    )
    if sock.pid is None or sock.parent is None:  # not read from this machine's /proc
        return {"parents": [], "started": started}
    chain = parent_chain(sock.pid)
    return {"parents": [{"pid": p, "process": name} for p, name in chain], "started": started}


def wide_lines(sockets: Sequence[Socket], width: int) -> list[str]:
    """One line per socket, truncated to `width` with `…`: the owner's whole story.

    `PORT PROTO ADDRESS PID USER`, then the parent chain (`name:pid<name:pid`),
    working directory, start time, executable and full command line.
    """
    from ._render.progress import truncate

    lines = []
    for sock in sockets:
        extra = wide_details(sock)
        proto = sock.protocol.value + ("6" if sock.family.value == "ipv6" else "")
        chain = "<".join(f"{p['process']}:{p['pid']}" for p in extra["parents"])
        cells = [
            str(sock.local.port),
            proto,
            str(sock.local),
            str(sock.pid) if sock.pid is not None else "-",
            sock.process or "-",
            sock.user or "-",
            f"parents={chain or '-'}",
            f"cwd={sock.cwd or '-'}",
            f"started={extra['started'] or '-'}",
            f"exe={sock.exe or '-'}",
            "cmd=" + (" ".join(sock.command) if sock.command else "-"),
        ]
        lines.append(truncate("  ".join(safe(c) for c in cells), width))
    return lines


def wide_document(sockets: Sequence[Socket], *, scope: str) -> dict[str, Any]:
    """`list --wide --json`: the list document, each socket with its owner's `parents`."""
    document = documents.list_document(list(sockets), scope=scope)
    for entry, sock in zip(document["sockets"], sockets):
        entry["parents"] = wide_details(sock)["parents"]  # `started` is a socket field already
    return document
