"""The `portcheck` command.

    portcheck PORT [PORT ...] [--json] [--explain | --raw] [--tool T] [--timeout S] [-q]
    portcheck PORT [PORT ...] (--host H ... | --hosts FILE) [--json] [--workers N] ...
    portcheck wait PORT (--free | --listening) [--timeout S] [--interval S] ...

Exit status of a lookup (and of --explain and --raw): 0 when a port is in use,
1 when every port is free, 2 on an error (bad arguments, no usable tool, a tool
that failed or timed out). With --host/--hosts: 2 when any host could not be
looked at, else 0 when a port is in use on any host, else 1. `wait`: 0 when
the condition holds, 1 when it timed out, 2 on an error. Errors are one line
on stderr; `--debug` adds the traceback.
The `--json` documents are described in docs/json.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import attrs

from ._checks import check_seconds
from ._errors import PortcheckError
from ._lookup import who_owns
from ._records import Protocol, Socket
from ._render import json as documents
from ._render.table import table
from ._render.words import hidden_warning

if TYPE_CHECKING:
    from ._wait import Poll, WaitTimeoutError

JSON_SCHEMA = documents.SCHEMA

EXIT_IN_USE, EXIT_FREE, EXIT_ERROR = 0, 1, 2
EXIT_OK, EXIT_TIMEOUT = 0, 1
EXIT_INTERRUPTED = 130

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
            "       %(prog)s wait PORT (--free | --listening) [options]"
        ),
        description="Show which processes listen on or connect from a TCP/UDP port.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
            from ._remote import parse_host

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
        formatter_class=argparse.RawDescriptionHelpFormatter,
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


def _version() -> str:
    from ._version import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        if args_list[:1] == ["wait"]:
            return _wait_main(build_wait_parser().parse_args(args_list[1:]))
        return _lookup_main(build_parser().parse_args(args_list))
    except KeyboardInterrupt:
        print("portcheck: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the command's promise: one line, no traceback
        if debug:
            import traceback

            traceback.print_exc()
        print(f"portcheck: error: {_message(exc)}", file=sys.stderr)
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
            _print_json(documents.lookup_document(results))
        else:
            _print_lines(table(results))
        _warn_hidden(s for sockets in results.values() for s in sockets)
    return EXIT_IN_USE if any(results.values()) else EXIT_FREE


def _print_json(document: dict[str, Any]) -> None:
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
    from ._fleet import look_across
    from ._remote import parse_host
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
    from ._describe import describe

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
    from ._render import raw

    captures = [_raw.capture(port, tool=args.tool, timeout=args.timeout) for port in args.ports]
    if not args.quiet:
        if args.json:
            _print_json(documents.raw_document([raw.to_dict(c, _version()) for c in captures]))
        else:
            print("\n\n".join(raw.render(c, _version()) for c in captures))
    errors = [c.error for c in captures if c.error is not None]
    for error in errors:
        print(f"portcheck: error: {error}", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    return EXIT_IN_USE if any(c.sockets for c in captures) else EXIT_FREE


# --- portcheck wait PORT -------------------------------------------------------


def _wait_main(args: argparse.Namespace) -> int:
    from ._render.progress import Progress
    from ._wait import WaitTimeoutError, free_condition, listening, listening_condition, wait_for

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
        print(f"portcheck: {error}", file=sys.stderr)
    _warn_hidden(sockets)
