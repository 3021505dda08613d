"""The `portcheck` command.

    portcheck PORT [PORT ...] [--json] [--explain | --raw] [--tool T] [--timeout S] [-q]
    portcheck PORT [PORT ...] (--host H ... | --hosts FILE) [--json] [--workers N] ...
    portcheck wait PORT (--free | --listening) [--timeout S] [--interval S] ...
    portcheck find FIRST-LAST [-n N] [--udp | --both] [--random] [--allow-ephemeral] ...
    portcheck kill PORT [--force] [--managed] [--tree] [--strict] [--timeout S] [--dry-run] [--yes]
    portcheck list [--all | --exposed] [--tcp | --udp] [--json] [--tool T]

Exit status of a lookup (and of --explain and --raw): 0 when a port is in use,
1 when every port is free, 2 on an error (bad arguments, no usable tool, a tool
that failed or timed out). With --host/--hosts: 2 when any host could not be
looked at, else 0 when a port is in use on any host, else 1. `wait`: 0 when
the condition holds, 1 when it timed out, 2 on an error. `find`: 0 when
enough free ports were found, 1 when the range holds too few (those found are
printed), 2 on an error. `list`: 0 on success (even when nothing listens), 2
on an error. `kill`: 0 when the port is free at the end, 1 when it is still in
use (or after --dry-run), 2 on an error or without confirmation. Errors are
one line on stderr; `--debug` adds the traceback.
The `--json` documents are described in docs/json.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Callable, NoReturn

import attrs

from ._errors import PortcheckError
from ._lookup import who_owns
from ._records import Protocol, Socket
from ._render.table import table
from ._render.words import hidden_warning, safe
from ._validate import check_seconds

if TYPE_CHECKING:
    from ._errors import WaitTimeoutError
    from ._kill.results import StopResult
    from ._wait import Poll

EXIT_IN_USE, EXIT_FREE, EXIT_ERROR = 0, 1, 2
EXIT_OK, EXIT_TIMEOUT = 0, 1
EXIT_UNEXPECTED = 1  # `list --allow`: something listens that the allowlist does not expect
EXIT_TOO_FEW = 1  # `find`: the range holds fewer free ports than asked
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool cut off by `head`

_EPILOG = """\
examples:
  portcheck 8080                 who holds port 8080? (exit 0 in use, 1 free, 2 error)
  portcheck 60688 --explain      what is this port, who holds it, is that normal?
  portcheck 80 443 --json        both ports, as JSON for scripts
  portcheck 5432 --tool ss       force one backend
  portcheck 8080 --raw           what the tools printed, to attach to a bug report
  if portcheck -q 8080; then echo "8080 is taken"; fi
  portcheck 8080 --host web1 --host deploy@web2:2222   on other hosts, over ssh
  portcheck 5432 --hosts fleet.txt --json              one host a line, # comments
  portcheck wait 8080 --free --timeout 30      (see: portcheck wait --help)
  portcheck find 8000-8999 -n 3                (see: portcheck find --help)
  portcheck kill 8080 --dry-run                (see: portcheck kill --help)
  portcheck list --exposed                     listeners beyond loopback (portcheck list --help)
"""

_FIND_EPILOG = """\
examples:
  portcheck find 8000-8999                 one free TCP port for a server
  portcheck find 8000-8999 -n 3 --both     three ports free for TCP and UDP
  portcheck find 20000-30000 --random      a random one: parallel test runs collide less
  portcheck find 8000-8999 --json          the ports as JSON (kind "find")

A port is printed when no socket uses it, it is not reserved (Windows'
excluded port ranges, Linux's ip_local_reserved_ports), this user may bind it
(not privileged), it is outside the ephemeral range (unless
--allow-ephemeral), and a bind on it just succeeded on IPv4 and IPv6. True at
the moment it is printed: another process may take the port before yours
binds it. When any port will do, bind port 0 instead.

exit status: 0 when enough free ports were found, 1 when the range has too
few (those found are printed, the reasons go to stderr), 2 on an error.
"""

_LIST_EPILOG = """\
examples:
  portcheck list                 every listening socket, sorted by port
  portcheck list --exposed       only listeners reachable from other hosts (not loopback)
  portcheck list --all --tcp     every TCP socket, connections too
  portcheck list --json          the same sockets as JSON (kind "list")

exit status: 0 on success (even when nothing listens), 2 on an error.
Sockets held by several processes of one name show their pids on one row.
"""

_WAIT_EPILOG = """\
examples:
  portcheck wait 8080 --free --timeout 30        before starting a server on 8080
  portcheck wait 5432 --listening --timeout 60   until the database accepts connections
  portcheck wait 53 --listening --udp            a UDP server: bound, no peer
  portcheck wait 8080 --free --json              the outcome as JSON (kind "wait")

exit status: 0 when the condition holds, 1 when the timeout ran out (the last
owners are printed), 2 on an error. A progress line is shown on stderr when it
is a terminal; nothing otherwise.
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, given the terminal width instead of reading it with `shutil`.

    argparse makes a formatter for every `add_argument` and imports `shutil`
    (and with it zlib, bz2 and lzma) for the width: a twentieth of the
    command's start-up (bench/startup.py), for a width only `--help` prints at.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = _columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` reads it: COLUMNS, stdout, 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    stdout = sys.__stdout__
    try:
        return (os.get_terminal_size(stdout.fileno()).columns if stdout else 0) or 80
    except (AttributeError, ValueError, OSError):  # closed, detached, not a terminal
        return 80


class _Parser(argparse.ArgumentParser):
    """argparse with errors as one line on stderr (usage is in --help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {text!r}")
    return int(text)


def _positive(text: str) -> float:
    return _seconds_arg(text, allow_zero=False, what="a positive number of seconds")


def _seconds(text: str) -> float:
    return _seconds_arg(text, allow_zero=True, what="a number of seconds (0 or more)")


def _seconds_arg(text: str, *, allow_zero: bool, what: str) -> float:
    try:
        return check_seconds("seconds", float(text), allow_zero=allow_zero)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON document (schema 1)")
    parser.add_argument("--tool", help="force one backend (linux: procfs, ss, lsof, netstat)")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing; only the exit status"
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="portcheck",
        usage=(
            "%(prog)s PORT [PORT ...] [options]\n"
            "       %(prog)s wait PORT (--free | --listening) [options]\n"
            "       %(prog)s find FIRST-LAST [-n N] [options]\n"
            "       %(prog)s kill PORT [options]\n"
            "       %(prog)s list [--all | --exposed] [options]"
        ),
        description="Show which processes listen on or connect from a TCP/UDP port.",
        epilog=_EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("ports", metavar="PORT", nargs="+", type=_port, help="port number(s)")
    _common(parser)
    parser.add_argument(
        "--timeout", type=_positive, default=10.0, help="seconds allowed per tool run (10)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--explain",
        action="store_true",
        help="say what the port is (IANA range, ephemeral range, service), "
        "who holds it and each socket's role",
    )
    mode.add_argument(
        "--raw",
        action="store_true",
        help="print the platform, each tool's path, argv, version and raw output "
        "(and /proc/net lines on Linux), to send as a capture",
    )
    parser.add_argument(
        "--host",
        dest="hosts",
        metavar="HOST",
        action="append",
        default=[],
        help="look on [user@]HOST[:port] over ssh instead of here (repeatable); "
        "--timeout then bounds each host's whole look",
    )
    parser.add_argument(
        "--hosts",
        dest="hosts_file",
        metavar="FILE",
        help="look on every host listed in FILE, one a line (# starts a comment)",
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        default=8,
        help="with --host/--hosts: hosts looked at in parallel (8)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    return parser


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 256:
        raise argparse.ArgumentTypeError(f"not a number of workers (1-256): {text!r}")
    return int(text)


def read_hosts_file(path: str) -> list[str]:
    """The hosts listed in `path`: one a line, blank lines and `#` comments skipped."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PortcheckError(f"cannot read the hosts file {path!r}: {exc}") from None
    hosts = []
    for lineno, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            from ._remote.hosts import parse_host

            parse_host(text)
        except ValueError as exc:
            raise PortcheckError(f"{path}, line {lineno}: {exc}") from None
        hosts.append(text)
    return hosts


def build_wait_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="portcheck wait",
        description="Wait until a port is free, or until something listens on it.",
        epilog=_WAIT_EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("port", metavar="PORT", type=_port, help="port number")
    condition = parser.add_mutually_exclusive_group(required=True)
    condition.add_argument(
        "--free", action="store_true", help="until no socket at all is on the port"
    )
    condition.add_argument(
        "--listening",
        action="store_true",
        help="until a TCP socket listens (or a UDP socket is bound with no peer)",
    )
    parser.add_argument(
        "--timeout", type=_seconds, default=30.0, help="give up after this many seconds (30)"
    )
    parser.add_argument(
        "--interval", type=_positive, default=0.25, help="seconds between looks (0.25)"
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--tcp", action="store_true", help="with --listening: TCP listeners only")
    only.add_argument("--udp", action="store_true", help="with --listening: UDP sockets only")
    parser.add_argument(
        "--ignore-time-wait",
        action="store_true",
        help="with --free: accept a port where only TIME_WAIT remnants are left",
    )
    _common(parser)
    return parser


def _port_range(text: str) -> tuple[int, int]:
    first, sep, last = text.partition("-")
    try:
        ports = (_port(first), _port(last if sep else first))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"not a port range (FIRST-LAST, 1-65535): {text!r}"
        ) from None
    if ports[0] > ports[1]:
        raise argparse.ArgumentTypeError(f"the range's first port is above its last: {text!r}")
    return ports


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a count of ports (1 or more): {text!r}")
    return int(text)


def build_find_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="portcheck find",
        description="Print ports of a range that nothing uses and this user can bind.",
        epilog=_FIND_EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument(
        "range", metavar="FIRST-LAST", type=_port_range, help="the ports to search, inclusive"
    )
    parser.add_argument("-n", "--count", type=_count, default=1, help="how many ports to print (1)")
    protocol = parser.add_mutually_exclusive_group()
    protocol.add_argument("--udp", action="store_true", help="free for UDP (default: TCP)")
    protocol.add_argument("--both", action="store_true", help="free for TCP and for UDP")
    parser.add_argument(
        "--random", action="store_true", help="pick at random in the range, not lowest first"
    )
    parser.add_argument(
        "--allow-ephemeral",
        action="store_true",
        help="also ports in the ephemeral range (the kernel may hand them out at any moment)",
    )
    parser.add_argument(
        "--timeout", type=_positive, default=10.0, help="seconds allowed per tool run (10)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON document (schema 1)")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing; only the exit status"
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return parser


def _version() -> str:
    from ._version import __version__

    return __version__


Main = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    subcommands: dict[str, tuple[Callable[[], argparse.ArgumentParser], Main]] = {
        "wait": (build_wait_parser, _wait_main),
        "find": (build_find_parser, _find_main),
        "kill": (build_kill_parser, _kill_main),
        "list": (build_list_parser, _list_main),
    }
    try:
        if args_list[:1] and args_list[0] in subcommands:
            build, run = subcommands[args_list[0]]
            return run(build().parse_args(args_list[1:]))
        return _lookup_main(build_parser().parse_args(args_list))
    except KeyboardInterrupt:
        print("portcheck: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader left (`portcheck list | head`): nothing to say, and nowhere
        # to say it. stdout is pointed at devnull so that Python's own flush at
        # exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 - the command's promise: one line, no traceback
        if debug:
            import traceback

            traceback.print_exc()
        print(f"portcheck: error: {safe(_message(exc))}", file=sys.stderr)
        return EXIT_ERROR


def _message(exc: Exception) -> str:
    if isinstance(exc, PortcheckError):
        return str(exc)
    detail = f"{type(exc).__name__}: {exc}"
    return f"unexpected {detail} (run with --debug for the traceback, and report it)"


# --- portcheck PORT [PORT ...] -------------------------------------------------


def _lookup_main(args: argparse.Namespace) -> int:
    hosts = list(args.hosts)
    if args.hosts_file is not None:
        hosts += read_hosts_file(args.hosts_file)
    if hosts or args.hosts_file is not None:
        return _hosts_main(args, hosts)
    if args.raw:
        return _raw_main(args)
    if args.explain:
        return _explain_main(args)
    results: dict[int, list[Socket]] = {}
    for port in args.ports:
        results[port] = who_owns(port, tool=args.tool, timeout=args.timeout)
    if not args.quiet:
        if args.json:
            from ._render import json as documents

            _print_json(documents.lookup_document(results))
        else:
            _print_lines(table(results))
        _warn_hidden(s for sockets in results.values() for s in sockets)
    return EXIT_IN_USE if any(results.values()) else EXIT_FREE


def _print_json(document: dict[str, Any]) -> None:
    import json

    print(json.dumps(document, indent=2))


def _print_lines(lines: Iterable[str]) -> None:
    for line in lines:
        print(line)


def _warn_hidden(sockets: Iterable[Socket]) -> None:
    from ._backends.context import is_root

    warning = hidden_warning(sockets, privileged=is_root())
    if warning is not None:
        print(warning, file=sys.stderr)


# --- portcheck PORT --host H [--host H ...] / --hosts FILE ---------------------


def _hosts_main(args: argparse.Namespace, hosts: list[str]) -> int:
    """Exit 2 when any host could not be looked at, else 0 when in use anywhere, else 1."""
    from ._remote.fleet import look_across
    from ._remote.hosts import parse_host
    from ._render import json as documents
    from ._render.hosts import sections

    if args.raw or args.explain:
        raise PortcheckError("--explain and --raw look at this machine only, not with --host")
    if not hosts:
        raise PortcheckError(f"no host in {args.hosts_file!r}")
    for host in hosts:
        try:
            parse_host(host)
        except ValueError as exc:
            raise PortcheckError(f"--host: {exc}") from None
    results = look_across(
        args.ports, hosts, max_workers=args.workers, timeout=args.timeout, tool=args.tool
    )
    if not args.quiet:
        if args.json:
            _print_json(documents.hosts_document(results))
        else:
            _print_lines(sections(results))
    answers = [r for r in results.values() if not isinstance(r, PortcheckError)]
    if len(answers) < len(results):
        return EXIT_ERROR
    return EXIT_IN_USE if any(any(r.values()) for r in answers) else EXIT_FREE


# --- portcheck PORT --explain --------------------------------------------------


def _explain_main(args: argparse.Namespace) -> int:
    from ._ports.describe import describe
    from ._render import json as documents

    reports = [describe(port, tool=args.tool, timeout=args.timeout) for port in args.ports]
    if not args.quiet:
        if args.json:
            _print_json(documents.explain_document(reports))
        else:
            print("\n\n".join(r.explain() for r in reports))
        _warn_hidden(item.socket for r in reports for item in r.sockets)
    return EXIT_IN_USE if any(r.in_use for r in reports) else EXIT_FREE


# --- portcheck PORT --raw ------------------------------------------------------


def _raw_main(args: argparse.Namespace) -> int:
    from . import _raw
    from ._render import json as documents
    from ._render import raw

    captures = [_raw.capture(port, tool=args.tool, timeout=args.timeout) for port in args.ports]
    if not args.quiet:
        if args.json:
            _print_json(documents.raw_document([raw.to_dict(c, _version()) for c in captures]))
        else:
            print("\n\n".join(raw.render(c, _version()) for c in captures))
    errors = [c.error for c in captures if c.error is not None]
    for error in errors:
        print(f"portcheck: error: {safe(str(error))}", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    return EXIT_IN_USE if any(c.sockets for c in captures) else EXIT_FREE


# --- portcheck wait PORT -------------------------------------------------------


def _wait_main(args: argparse.Namespace) -> int:
    from ._errors import WaitTimeoutError
    from ._render.progress import Progress
    from ._wait import free_condition, listening, listening_condition, wait_for

    if args.free and (args.tcp or args.udp):
        raise PortcheckError("--tcp and --udp go with --listening, not --free")
    if args.listening and args.ignore_time_wait:
        raise PortcheckError("--ignore-time-wait goes with --free, not --listening")
    protocol = Protocol.TCP if args.tcp else Protocol.UDP if args.udp else None
    if args.free:
        condition, done = "free", free_condition(ignore_time_wait=args.ignore_time_wait)
    else:
        condition, done = "listening", listening_condition(protocol)
    progress = Progress(args.port, condition, args.timeout) if _show_progress(args) else None
    last: list[Poll] = []

    def seen(poll: Poll) -> None:
        last[:] = [poll]
        if progress is not None:
            progress.update(poll)

    try:
        poll = wait_for(
            args.port,
            done,
            condition,
            timeout=args.timeout,
            interval=args.interval,
            tool=args.tool,
            progress=seen,
        )
    except WaitTimeoutError as exc:
        timed_out: WaitTimeoutError | None = exc
        poll = last[-1]  # progress saw the last look before the error was raised
    else:
        timed_out = None
        if args.listening:
            poll = attrs.evolve(poll, sockets=listening(poll.sockets, protocol))
    finally:
        if progress is not None:
            progress.clear()
    _wait_report(args, condition, poll=poll, error=timed_out)
    return EXIT_TIMEOUT if timed_out is not None else EXIT_OK


def _show_progress(args: argparse.Namespace) -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return not args.quiet and isatty is not None and bool(isatty())


def _wait_report(
    args: argparse.Namespace, condition: str, *, poll: Poll, error: WaitTimeoutError | None
) -> None:
    from ._render import json as documents

    ok = error is None
    sockets = poll.sockets
    if args.quiet:
        return
    if args.json:
        _print_json(
            documents.wait_document(
                port=args.port,
                condition=condition,
                ok=ok,
                timeout=args.timeout,
                elapsed=poll.elapsed,
                polls=poll.polls,
                sockets=sockets,
            )
        )
    elif ok and condition == "free":
        print(f"port {args.port} is free")
    else:
        _print_lines(table({args.port: sockets}, say_free=False))
    if error is not None:
        print(f"portcheck: {safe(str(error))}", file=sys.stderr)
    _warn_hidden(sockets)


# --- portcheck find FIRST-LAST -------------------------------------------------


def _find_main(args: argparse.Namespace) -> int:
    from ._context import context_for
    from ._ports.find import Wanted, search
    from ._render import json as documents

    first, last = args.range
    if args.count > last - first + 1:
        size = last - first + 1
        raise PortcheckError(f"-n {args.count}: the range {first}-{last} has only {size} port(s)")
    wanted = Wanted.checked(
        first,
        last,
        count=args.count,
        protocol="both" if args.both else "udp" if args.udp else "tcp",
        random=args.random,
        allow_ephemeral=args.allow_ephemeral,
    )
    found = search(wanted, context_for(timeout=args.timeout))
    if not args.quiet:
        if args.json:
            _print_json(documents.find_document(found))
        else:
            _print_lines(str(port) for port in found.ports)
        if not found.enough:
            print(f"portcheck: {found.error()}", file=sys.stderr)
    return EXIT_OK if found.enough else EXIT_TOO_FEW


# --- portcheck kill PORT -------------------------------------------------------

_KILL_EPILOG = """\
examples:
  portcheck kill 8080 --dry-run        who would be stopped, and who would not (and why)
  portcheck kill 8080                  show them, ask, stop them, check the port is free
  portcheck kill 8080 --yes --force    in a script: no question; SIGKILL after the timeout
  portcheck kill 8080 --yes --json     the outcome as JSON (kind "kill")

Never stopped: the machine's init, Windows PID 0 and 4, portcheck and its
ancestors (your shell, your ssh session), owners hidden from you; processes a
systemd unit or a container runtime runs are left alone unless --managed (the
command to use instead is printed). A container's own pid 1 is stopped only
after confirmation. Only the owners' pids are signalled, never a group.

exit status: 0 when the port is free at the end (TIME_WAIT remnants aside,
unless --strict), 1 when it is still in use (refused, permission denied,
respawned, still alive, or after --dry-run), 2 on an error, or when the
confirmation is refused or cannot be asked (no terminal: pass --yes).
"""


def build_kill_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="portcheck kill",
        description="Stop every process holding a port, safely, then check that it is free.",
        epilog=_KILL_EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("port", metavar="PORT", type=_port, help="port number")
    parser.add_argument(
        "--force", action="store_true", help="SIGKILL (taskkill /F) what survives the timeout"
    )
    parser.add_argument(
        "--managed",
        action="store_true",
        help="also stop processes that systemd or a container runtime runs",
    )
    parser.add_argument("--tree", action="store_true", help="also stop each owner's descendants")
    parser.add_argument(
        "--strict", action="store_true", help="also wait for TIME_WAIT remnants to clear"
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=10.0,
        help="seconds to wait for the owners to exit before --force or giving up (10)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would be done; stop nothing"
    )
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    _common(parser)
    return parser


def _kill_main(args: argparse.Namespace) -> int:
    from ._kill.engine import run
    from ._kill.policy import Options
    from ._kill.results import Outcome
    from ._render import kill

    options = Options(
        grace=args.timeout,
        force=args.force,
        managed=args.managed,
        tree=args.tree,
        strict=args.strict,
    )
    planned = run(
        args.port, attrs.evolve(options, dry_run=True, stop_container_init=True), tool=args.tool
    )
    chosen = frozenset(o.pid for o in planned.owners if o.outcome is Outcome.DRY_RUN and o.pid)
    if args.dry_run or not chosen:
        # Nothing to stop: look once more, allowed to stop no one not asked about.
        final = (
            planned
            if args.dry_run
            else run(args.port, attrs.evolve(options, allow=chosen), tool=args.tool)
        )
        _kill_report(args, final)
        return EXIT_OK if final.free else EXIT_TIMEOUT
    if not args.yes:
        if not _stdin_is_terminal():
            _print_lines_to_stderr(kill.plan(planned))
            raise PortcheckError("no terminal to ask for confirmation: pass --yes to stop them")
        if not _confirm(kill.plan(planned), len(chosen)):
            print("portcheck: not confirmed; nothing was stopped", file=sys.stderr)
            return EXIT_ERROR
    result = run(
        args.port,
        attrs.evolve(options, stop_container_init=True, allow=chosen),
        tool=args.tool,
    )
    _kill_report(args, result)
    return EXIT_OK if result.free else EXIT_TIMEOUT


def _stdin_is_terminal() -> bool:
    isatty = getattr(sys.stdin, "isatty", None)
    return isatty is not None and bool(isatty())


def _print_lines_to_stderr(lines: Iterable[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def _confirm(lines: list[str], count: int) -> bool:
    _print_lines_to_stderr(lines)
    sys.stderr.write(f"Stop {count} process{'es' if count > 1 else ''}? [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def _kill_report(args: argparse.Namespace, result: StopResult) -> None:
    from ._render import json as documents
    from ._render import kill

    if args.quiet:
        return
    if args.json:
        _print_json(documents.kill_document(result))
    else:
        _print_lines(kill.report(result))


# --- portcheck list ------------------------------------------------------------


def build_list_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="portcheck list",
        description="List what listens on this machine (or, with --all, every socket).",
        epilog=_LIST_EPILOG,
        formatter_class=_Formatter,
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--all", action="store_true", help="every TCP and UDP socket, any state")
    scope.add_argument(
        "--exposed",
        action="store_true",
        help="only listeners not bound to loopback (127.0.0.0/8, ::1)",
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--tcp", action="store_true", help="TCP sockets only")
    only.add_argument("--udp", action="store_true", help="UDP sockets only")
    parser.add_argument(
        "--allow",
        type=_allowed,
        metavar="PORTS",
        help="ports and ranges expected to listen (22,443,8000-8100): print only the "
        "others, and exit 1 when there are any",
    )
    parser.add_argument(
        "--timeout", type=_positive, default=10.0, help="seconds allowed per tool run (10)"
    )
    _common(parser)
    return parser


def _allowed(text: str) -> list[tuple[int, int]]:
    from ._filters import parse_allowed

    try:
        return parse_allowed(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _list_main(args: argparse.Namespace) -> int:
    from ._lookup import listening, sockets
    from ._render.table import listing

    if args.all:
        found = sockets(tool=args.tool, timeout=args.timeout)
    else:
        found = listening(tool=args.tool, timeout=args.timeout)
    if args.exposed:
        from ._filters import exposed  # here: it needs ipaddress

        found = exposed(found)
    if args.tcp or args.udp:
        protocol = Protocol.TCP if args.tcp else Protocol.UDP
        found = [s for s in found if s.protocol is protocol]
    if args.allow is not None:
        from ._filters import unexpected

        found = unexpected(found, args.allow)
    if not args.quiet:
        scope = "all" if args.all else "exposed" if args.exposed else "listening"
        if args.json:
            from ._render import json as documents

            _print_json(documents.list_document(found, scope=scope))
        else:
            none = "no listener outside the allowed ports" if args.allow else f"no {scope} sockets"
            _print_lines(listing(found, connections=args.all) or [none])
        _warn_hidden(found)
    if args.allow is not None and found:
        return EXIT_UNEXPECTED
    return EXIT_OK
