"""The `portcheck` command.

    portcheck PORTS [PORTS ...] [--explain | --raw] [--strict] [options]
    portcheck PORTS [PORTS ...] (--host H ... | --hosts FILE) [--workers N] [options]
    portcheck wait PORTS (--free | --listening) [--interval S] [--strict] [options]
    portcheck find FIRST-LAST [-n N] [--udp | --both] [--random] [--allow-ephemeral] [options]
    portcheck kill PORTS [--force] [--managed] [--tree] [--connections] [--strict] [--dry-run]
                   [--yes] [options]
    portcheck wait TARGET [TARGET ...] --open [--interval S] [options]
    portcheck list [--all | --exposed] [--tcp | --udp] [--port PORTS] [--allow PORTS]
                   [--name GLOB] [--pid PID] [--user U] [--state S] [--unit GLOB]
                   [--container ID] [--wide] [options]
    portcheck watch [--interval S] [--exposed] [--alert] [--no-initial] [list's filters] [options]
    portcheck run [--port P [--next | --kill] | --range A-B] [--env NAME] [--socket [--bind A]]
                  -- CMD ARGS...
    portcheck completion {bash,zsh,fish,powershell}

PORTS is 80, 80,443, 8000-8010 or a mix (one parser, `_listing.allow.parse_allowed`).
The options every command takes (`--json`, `--csv`, `-q`, `--timeout`,
`--tool`, `--debug`, `--host`/`--hosts`) may come before the subcommand's
name: `split_command` finds it. docs/command.md is checked against these
parsers (`synopsis()`), and the completion scripts are made from them.

Exit status of a lookup (and of --explain and --raw): 0 when a port is in use,
1 when every port is free (TIME_WAIT remnants aside, unless --strict:
docs/time-wait.md), 2 on an error. With --host/--hosts: 2 when any host could
not be looked at, else 0 when a port is in use on any host, else 1. `wait`: 0
when the condition holds, 1 when it timed out, 2 on an error. `find`: 0 when
enough free ports were found, 1 when the range holds too few, 2 on an error.
`list`: 0 on success, 1 with --allow when something unexpected listens, 2 on
an error. `kill`: 0 when the port is free at the end, 1 when it is still in
use (or after --dry-run), 2 on an error or without confirmation. `watch`: 0
when ended by SIGINT/SIGTERM, 1 with --alert. `run` execs the command (its
status is the command's); before that 1 when the port is taken, 2 on an
error, 126/127 when the command cannot be executed. What `wait --open`,
`watch`, `run` and `list --wide` do is in `_cli_deploy`. Errors are
one line on stderr (`_render/errors.py`), none with -q; `--debug` adds the
traceback. The `--json` documents are described in docs/json.md.
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
    from ._wait.sockets import Poll

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
  portcheck 80,443 8000-8010     lists and ranges of ports
  portcheck 80 443 --json        both ports, as JSON for scripts (--csv: a table for scripts)
  portcheck 5432 --tool ss       force one backend
  portcheck 8080 --raw           what the tools printed, to attach to a bug report
  if portcheck -q 8080; then echo "8080 is taken"; fi
  portcheck 8080 --host web1 --host deploy@web2:2222   on other hosts, over ssh
  portcheck 5432 --hosts fleet.txt --json              one host a line, # comments
  portcheck wait 8080 --free --timeout 30      (see: portcheck wait --help)
  portcheck find 8000-8999 -n 3                (see: portcheck find --help)
  portcheck kill 8080 --dry-run                (see: portcheck kill --help)
  portcheck list --exposed                     listeners beyond loopback (portcheck list --help)
  portcheck completion bash                    a completion script (docs/howto/completion.md)

Options every command takes may come before the subcommand: portcheck --json list.
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
  portcheck list --json          the same sockets as JSON (kind "list"); --csv for a table
  portcheck list --exposed --allow 22,443   exit 1 when anything else listens beyond loopback
  portcheck list --host web1 --port 8000-8100   on another host, some ports only

exit status: 0 on success (even when nothing listens), 1 with --allow when
something listens that it does not name, 2 on an error.
Sockets held by several processes of one name show their pids on one row.
"""

_WAIT_EPILOG = """\
examples:
  portcheck wait 8080 --free --timeout 30        before starting a server on 8080
  portcheck wait 5432 --listening --timeout 60   until the database accepts connections
  portcheck wait 53 --listening --udp            a UDP server: bound, no peer
  portcheck wait 8080 --free --json              the outcome as JSON (kind "wait")
  portcheck wait db:5432 cache:6379 --open       until both accept a TCP connection

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
    """argparse with errors as one line on stderr (usage is in --help), none with -q."""

    quiet = False

    def error(self, message: str) -> NoReturn:
        if self.quiet:
            self.exit(EXIT_ERROR)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# A range wider than this is refused: a lookup per port would take minutes and
# print thousands of rows (`find` and `list --allow` take wide ranges, not this).
MAX_PORTS = 4096


def ports_arg(text: str) -> list[int]:
    """`80`, `80,443`, `8000-8010` or a mix, as a list of ports: `--allow`'s one parser."""
    from ._listing.allow import parse_allowed

    try:
        ranges = parse_allowed(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not ranges:
        raise argparse.ArgumentTypeError(f"no port in {text!r}")
    ports: list[int] = []
    for low, high in ranges:
        if high - low + 1 > MAX_PORTS:
            raise argparse.ArgumentTypeError(
                f"the range {low}-{high} holds {high - low + 1} ports; at most {MAX_PORTS} "
                "are looked at one by one (for wide ranges: portcheck list --port, or find)"
            )
        ports.extend(range(low, high + 1))
    return list(dict.fromkeys(ports))


def _port_ranges(text: str) -> list[tuple[int, int]]:
    from ._listing.allow import parse_allowed

    try:
        return parse_allowed(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> float:
    return _seconds_arg(text, allow_zero=False, what="a number of seconds above 0, up to a day")


def _seconds(text: str) -> float:
    return _seconds_arg(text, allow_zero=True, what="a number of seconds (0 up to a day)")


def _seconds_arg(text: str, *, allow_zero: bool, what: str) -> float:
    try:
        return check_seconds("seconds", float(text), allow_zero=allow_zero)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None


def _number(text: str, low: int, high: int, what: str) -> int:
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}")
    return int(text)


def _common(
    parser: argparse.ArgumentParser,
    *,
    timeout: float = 10.0,
    timeout_help: str = "seconds allowed per tool run (10)",
    zero_timeout: bool = False,
    tool: bool = True,
    csv: bool = True,
    hosts: bool = True,
) -> None:
    """The options every command takes, before or after the subcommand's name."""
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print a JSON document (schema 1)")
    if csv:
        out.add_argument("--csv", action="store_true", help="print the table as CSV, header first")
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing, errors included; exit status only",
    )
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=_seconds if zero_timeout else _positive,
        default=timeout,
        help=timeout_help,
    )
    if tool:
        parser.add_argument(
            "--tool", metavar="T", help="force one backend (linux: procfs, ss, lsof, netstat)"
        )
    parser.add_argument(
        "--debug", action="store_true", help="show an error's traceback and internal details"
    )
    if hosts:
        parser.add_argument(
            "--host",
            dest="hosts",
            metavar="HOST",
            action="append",
            default=[],
            help="look on [user@]HOST[:port] over ssh instead of here (repeatable)",
        )
        parser.add_argument(
            "--hosts",
            dest="hosts_file",
            metavar="FILE",
            help="look on every host listed in FILE, one a line (# starts a comment)",
        )
        parser.add_argument(
            "--workers",
            metavar="N",
            type=_workers,
            default=8,
            help="with --host/--hosts: hosts looked at in parallel (8)",
        )


def _strict(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--strict",
        action="store_true",
        help=f"count TIME_WAIT remnants as in use ({what}; see docs/time-wait.md)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="portcheck",
        usage=(
            "%(prog)s PORTS [PORTS ...] [options]\n"
            "       %(prog)s wait PORTS (--free | --listening) [options]\n"
            "       %(prog)s find FIRST-LAST [-n N] [options]\n"
            "       %(prog)s kill PORTS [options]\n"
            "       %(prog)s list [--all | --exposed] [--port PORTS] [--allow PORTS] [options]\n"
            "       %(prog)s completion {bash,zsh,fish,powershell}"
        ),
        description="Show which processes listen on or connect from a TCP/UDP port. "
        "PORTS is 80, 80,443, 8000-8010 or a mix.",
        epilog=_EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument(
        "ports", metavar="PORTS", nargs="+", type=ports_arg, help="ports, lists and ranges"
    )
    _common(parser, timeout_help="seconds allowed per tool run, or per host with --host (10)")
    _strict(parser, "exit 0 when only remnants are left")
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
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    return parser


def _workers(text: str) -> int:
    return _number(text, 1, 256, "a number of workers (1-256)")


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


def _hosts_of(args: argparse.Namespace) -> list[str] | None:
    """The hosts asked for (--host, --hosts), None for this machine only."""
    hosts = list(getattr(args, "hosts", []))
    file = getattr(args, "hosts_file", None)
    if file is not None:
        hosts += read_hosts_file(file)
    if not hosts and file is None:
        return None
    from ._remote.hosts import parse_host  # here: it needs ipaddress and re

    if not hosts:
        raise PortcheckError(f"no host in {file!r}")
    for host in getattr(args, "hosts", []):  # the file's were checked with their line numbers
        try:
            parse_host(host)
        except ValueError as exc:
            raise PortcheckError(f"--host: {exc}") from None
    return list(dict.fromkeys(hosts))


def build_wait_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="portcheck wait",
        description="Wait until ports are free, or until something listens on them.",
        epilog=_WAIT_EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument(
        "ports",
        metavar="PORTS",
        nargs="+",
        help="ports, lists and ranges; with --open: also HOST:PORT and [v6]:PORT",
    )
    condition = parser.add_mutually_exclusive_group(required=True)
    condition.add_argument(
        "--free",
        action="store_true",
        help="until no socket is on the port (TIME_WAIT remnants aside, unless --strict)",
    )
    condition.add_argument(
        "--listening",
        action="store_true",
        help="until a TCP socket listens (or a UDP socket is bound with no peer)",
    )
    condition.add_argument(
        "--open",
        action="store_true",
        help="until a TCP connection to every target succeeds (from here, to any host)",
    )
    parser.add_argument(
        "--interval", metavar="S", type=_positive, default=0.25, help="seconds between looks (0.25)"
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--tcp", action="store_true", help="with --listening: TCP listeners only")
    only.add_argument("--udp", action="store_true", help="with --listening: UDP sockets only")
    _strict(parser, "with --free: wait for them to clear too")
    _common(
        parser,
        timeout=30.0,
        timeout_help="give up after this many seconds (30)",
        zero_timeout=True,
        csv=False,
    )
    return parser


def _port_range(text: str) -> tuple[int, int]:
    from ._listing.allow import parse_allowed

    try:
        ranges = parse_allowed(text)
    except ValueError as exc:
        if "above its last" in str(exc):
            raise argparse.ArgumentTypeError(str(exc)) from None
        ranges = []
    if len(ranges) != 1:
        raise argparse.ArgumentTypeError(f"not a port range (FIRST-LAST, 1-65535): {text!r}")
    return ranges[0]


def _count(text: str) -> int:
    return _number(text, 1, 65535, "a count of ports (1 or more)")


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
    parser.add_argument(
        "-n", "--count", metavar="N", type=_count, default=1, help="how many ports to print (1)"
    )
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
    _strict(parser, "skip ports where remnants are left")
    _common(parser, hosts=False)
    return parser


def _version() -> str:
    from ._version import __version__

    return __version__


Main = Callable[[argparse.Namespace], int]


def _commands() -> dict[str, tuple[Callable[[], argparse.ArgumentParser], Main]]:
    """Every subcommand: its parser and its main. The lookup is the command without one."""
    return {
        "wait": (build_wait_parser, _wait_command),
        "find": (build_find_parser, _find_main),
        "kill": (build_kill_parser, _kill_main),
        "list": (build_list_parser, _list_main),
        "watch": (build_watch_parser, _watch_main),
        "run": (build_run_parser, _run_main),
        "completion": (build_completion_parser, _completion_main),
    }


def split_command(args: Sequence[str]) -> tuple[str | None, list[str]]:
    """The subcommand named in `args` (None for a lookup) and the arguments without it.

    The name may come after options every command takes (`portcheck --json
    list`): options are skipped, with the value of those that take one.
    """
    commands = _commands()
    takes_value = {
        option
        for action in build_parser()._actions
        if action.option_strings and action.nargs != 0
        for option in action.option_strings
    }
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in commands:
            return arg, [*args[:i], *args[i + 1 :]]
        if arg == "--" or not arg.startswith("-") or arg == "-":
            break
        i += 2 if arg in takes_value else 1
    return None, list(args)


def command() -> NoReturn:
    """The `portcheck` command (and `python -m portcheck`): `main()`, then exit with its status.

    Before the interpreter's last collection walks every object still alive
    (modules, classes, a listing's records) only to find nothing to free, they
    are frozen out of it: a twentieth of `portcheck list`'s time at 4,000
    listeners (bench/listing.py). Here and not in `main()`, which may run
    inside another program.
    """
    code = main()
    import gc

    gc.freeze()
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # portcheck's own options only: after `--` come `run`'s command and its options.
    own = args_list[: args_list.index("--")] if "--" in args_list else args_list
    debug = "--debug" in own
    quiet = "-q" in own or "--quiet" in own
    if debug:
        _debug_to_stderr()
    try:
        name, rest = split_command(args_list)
        run: Main
        if name is None:
            parser, run = build_parser(), _lookup_main
        else:
            build, run = _commands()[name]
            parser = build()
        if isinstance(parser, _Parser):
            parser.quiet = quiet
        return run(parser.parse_args(rest))
    except KeyboardInterrupt:
        if not quiet:
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
            print(f"portcheck: debug: {safe(str(exc))}", file=sys.stderr)
        if not quiet:
            print(_error_line(exc), file=sys.stderr)
        return EXIT_ERROR


def _error_line(exc: BaseException, host: str | None = None) -> str:
    from ._render.errors import line

    return line(exc, host)


def _say_error(args: argparse.Namespace, exc: BaseException, host: str | None = None) -> None:
    """One error line on stderr, unless -q."""
    if not args.quiet:
        print(_error_line(exc, host), file=sys.stderr)


def _flat(ports: Iterable[list[int]]) -> list[int]:
    return list(dict.fromkeys(p for group in ports for p in group))


# --- portcheck PORTS [PORTS ...] -----------------------------------------------


def _lookup_main(args: argparse.Namespace) -> int:
    from ._records import in_use

    args.ports = _flat(args.ports)
    hosts = _hosts_of(args)
    if hosts is not None:
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
            from ._backends.context import is_root
            from ._render import json as documents

            _print_json(
                documents.lookup_document(results, strict=args.strict, privileged=is_root())
            )
        elif args.csv:
            from ._render.csv import lookup_rows

            _print_csv(lookup_rows(results))
        else:
            _print_lines(table(results, strict=args.strict))
        _warn_hidden(s for sockets in results.values() for s in sockets)
    used = any(in_use(sockets, strict=args.strict) for sockets in results.values())
    return EXIT_IN_USE if used else EXIT_FREE


def _print_json(document: dict[str, Any]) -> None:
    import json

    print(json.dumps(document, indent=2))


def _print_csv(rows: Iterable[Sequence[object]]) -> None:
    import csv

    # The csv module quotes as RFC 4180 says (and ends rows with CRLF, as it asks).
    csv.writer(sys.stdout).writerows(rows)


def _print_lines(lines: Iterable[str]) -> None:
    for line in lines:
        print(line)


def _warn_hidden(sockets: Iterable[Socket]) -> None:
    from ._backends.context import is_root

    warning = hidden_warning(sockets, privileged=is_root())
    if warning is not None:
        print(warning, file=sys.stderr)


# --- portcheck PORTS --host H [--host H ...] / --hosts FILE --------------------


def _hosts_main(args: argparse.Namespace, hosts: list[str]) -> int:
    """Exit 2 when any host could not be looked at, else 0 when in use anywhere, else 1."""
    from ._records import in_use
    from ._remote.fleet import look_across
    from ._render import json as documents
    from ._render.hosts import sections

    if args.raw or args.explain:
        raise PortcheckError("--explain and --raw look at this machine only, not with --host")
    results = look_across(
        args.ports, hosts, max_workers=args.workers, timeout=args.timeout, tool=args.tool
    )
    if not args.quiet:
        if args.json:
            _print_json(documents.hosts_document(results, strict=args.strict))
        elif args.csv:
            from ._render.csv import hosts_rows

            _print_csv(
                hosts_rows({h: r for h, r in results.items() if not isinstance(r, Exception)})
            )
        else:
            _print_lines(sections(results, strict=args.strict))
        for host, result in results.items():
            if isinstance(result, Exception):
                _say_error(args, result, host)
    looked = [r for r in results.values() if not isinstance(r, PortcheckError)]
    if len(looked) < len(results):
        return EXIT_ERROR
    used = any(in_use(s, strict=args.strict) for r in looked for s in r.values())
    return EXIT_IN_USE if used else EXIT_FREE


def _debug_to_stderr() -> None:
    """--debug: what the library logs (ssh connection sharing, say) goes to stderr."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("portcheck: debug: %(message)s"))
    logger = logging.getLogger("portcheck")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


# --- portcheck PORTS --explain -------------------------------------------------


def _explain_main(args: argparse.Namespace) -> int:
    from ._ports.describe import describe
    from ._records import in_use
    from ._render import json as documents

    reports = [describe(port, tool=args.tool, timeout=args.timeout) for port in args.ports]
    if args.csv:
        raise PortcheckError("--explain prints sentences, not a table: use --json")
    if not args.quiet:
        if args.json:
            _print_json(documents.explain_document(reports))
        else:
            print("\n\n".join(r.explain() for r in reports))
        _warn_hidden(item.socket for r in reports for item in r.sockets)
    used = any(in_use([i.socket for i in r.sockets], strict=args.strict) for r in reports)
    # (PortReport.in_use is the rule without --strict; the JSON says the same.)
    return EXIT_IN_USE if used else EXIT_FREE


# --- portcheck PORTS --raw -----------------------------------------------------


def _raw_main(args: argparse.Namespace) -> int:
    from . import _raw
    from ._records import in_use
    from ._render import json as documents
    from ._render import raw

    if args.csv:
        raise PortcheckError("--raw prints what the tools printed, not a table: use --json")
    captures = [_raw.capture(port, tool=args.tool, timeout=args.timeout) for port in args.ports]
    if not args.quiet:
        if args.json:
            _print_json(documents.raw_document([raw.to_dict(c, _version()) for c in captures]))
        else:
            print("\n\n".join(raw.render(c, _version()) for c in captures))
    errors = [c.error for c in captures if c.error is not None]
    for error in errors:
        _say_error(args, error)
    if errors:
        return EXIT_ERROR
    used = any(in_use(c.sockets or [], strict=args.strict) for c in captures)
    return EXIT_IN_USE if used else EXIT_FREE


# --- portcheck wait PORTS ------------------------------------------------------


def _wait_main(args: argparse.Namespace) -> int:
    """Each port on each host in turn, all within one --timeout."""
    import time

    from ._render import json as documents
    from ._wait.sockets import free_condition, listening_condition

    if args.free and (args.tcp or args.udp):
        raise PortcheckError("--tcp and --udp go with --listening, not --free")
    if args.listening and args.strict:
        raise PortcheckError("--strict goes with --free, not --listening")
    protocol = Protocol.TCP if args.tcp else Protocol.UDP if args.udp else None
    if args.free:
        condition, done = "free", free_condition(strict=args.strict)
    else:
        condition, done = "listening", listening_condition(protocol)
    remote = _hosts_of(args)
    hosts: list[str | None] = [None] if remote is None else [*remote]
    start = time.monotonic()
    documents_: list[dict[str, Any]] = []
    status = EXIT_OK
    for host in hosts:
        for port in _flat(args.ports):
            # The first wait gets --timeout as given (its message quotes it).
            spent = time.monotonic() - start if documents_ else 0.0
            left = max(0.0, args.timeout - spent)
            try:
                ok, document = _wait_one(
                    args,
                    host=host,
                    port=port,
                    condition=condition,
                    done=done,
                    protocol=protocol,
                    timeout=left,
                )
            except PortcheckError as exc:
                if host is None:
                    raise
                _say_error(args, exc, host)
                documents_.append({"host": host, "port": port, "error": _error_dict(exc)})
                status = EXIT_ERROR
                continue
            documents_.append(document)
            if not ok and status == EXIT_OK:
                status = EXIT_TIMEOUT
    if args.json and not args.quiet:
        if len(documents_) == 1 and "error" not in documents_[0]:
            _print_json(documents_[0])
        else:
            _print_json({"schema": documents.SCHEMA, "kind": "waits", "waits": documents_})
    return status


def _wait_command(args: argparse.Namespace) -> int:
    """`wait --open` connects; `--free` and `--listening` look at the socket table."""
    if args.open:
        return _wait_open_main(args)
    args.ports = _wait_ports(args)
    return _wait_main(args)


def _wait_ports(args: argparse.Namespace) -> list[list[int]]:
    """PORTS of `wait --free/--listening`, read as argparse would have (its error, exit 2)."""
    try:
        return [ports_arg(text) for text in args.ports]
    except argparse.ArgumentTypeError as exc:
        parser = _Parser(prog="portcheck wait")
        parser.quiet = args.quiet
        parser.error(f"argument PORTS: {exc}")


def _wait_open_main(args: argparse.Namespace) -> int:
    from ._cli_deploy import wait_open_main

    if args.tcp or args.udp or args.strict or args.tool:
        raise PortcheckError("--open connects over TCP: not with --tcp, --udp, --strict, --tool")
    if args.hosts or args.hosts_file is not None:
        raise PortcheckError("--open connects from here: name the host in the target (HOST:PORT)")
    return wait_open_main(
        args.ports,
        timeout=args.timeout,
        interval=args.interval,
        as_json=args.json,
        quiet=args.quiet,
    )


def _error_dict(exc: BaseException) -> dict[str, str]:
    from ._render.errors import to_dict

    return to_dict(exc)


def _wait_one(
    args: argparse.Namespace,
    *,
    host: str | None,
    port: int,
    condition: str,
    done: Callable[[list[Socket]], bool],
    protocol: Protocol | None,
    timeout: float,
    report: bool = True,
) -> tuple[bool, dict[str, Any]]:
    """Wait for one port (on one host); report it; True when the condition held."""
    from ._context import context_for
    from ._errors import WaitTimeoutError
    from ._render import json as documents
    from ._render.progress import Progress
    from ._wait.sockets import listening, wait_for

    progress = Progress(port, condition, timeout) if _show_progress(args) else None
    last: list[Poll] = []

    def seen(poll: Poll) -> None:
        last[:] = [poll]
        if progress is not None:
            progress.update(poll)

    try:
        poll = wait_for(
            port,
            done,
            condition,
            timeout=timeout,
            interval=args.interval,
            tool=args.tool,
            context=context_for(host=host, timeout=min(args.timeout, 10.0) or 10.0),
            progress=seen,
            protocol=protocol,
        )
    except WaitTimeoutError as exc:
        timed_out: WaitTimeoutError | None = exc
        poll = last[-1]  # progress saw the last look before the error was raised
    else:
        timed_out = None
        if condition == "listening":
            poll = attrs.evolve(poll, sockets=listening(poll.sockets, protocol))
    finally:
        if progress is not None:
            progress.clear()
    document = documents.wait_document(
        port=port,
        condition=condition,
        ok=timed_out is None,
        timeout=args.timeout,
        elapsed=poll.elapsed,
        polls=poll.polls,
        sockets=poll.sockets,
    )
    if host is not None:
        document = {"host": host, **document}
    if report:
        _wait_report(args, condition, port=port, host=host, poll=poll, error=timed_out)
    return timed_out is None, document


def _show_progress(args: argparse.Namespace) -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return not args.quiet and isatty is not None and bool(isatty())


def _wait_report(
    args: argparse.Namespace,
    condition: str,
    *,
    port: int,
    host: str | None,
    poll: Poll,
    error: WaitTimeoutError | None,
) -> None:
    if args.quiet:
        return
    where = f"{safe(host)}: " if host is not None else ""
    if args.json:
        pass  # the document is printed once every wait is done
    elif error is None and condition == "free":
        from ._records import is_remnant

        remnants = [s for s in poll.sockets if is_remnant(s)]
        note = f" ({_remnants(len(remnants))})" if remnants else ""
        print(f"{where}port {port} is free{note}")
    elif error is None and host is not None:
        print(f"{where}port {port} is listening")
    else:
        _print_lines(table({port: poll.sockets}, say_free=False))
    if error is not None:
        _say_error(args, error, host)
    _warn_hidden(poll.sockets)


def _remnants(count: int) -> str:
    from ._render.table import remnants_note

    return remnants_note(count)


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
    found = search(wanted, context_for(timeout=args.timeout), tool=args.tool, strict=args.strict)
    if not args.quiet:
        if args.json:
            _print_json(documents.find_document(found))
        elif args.csv:
            _print_csv([("port",), *((p,) for p in found.ports)])
        else:
            _print_lines(str(port) for port in found.ports)
        if not found.enough:
            print(f"portcheck: {safe(str(found.error()))}", file=sys.stderr)
    return EXIT_OK if found.enough else EXIT_TOO_FEW


# --- portcheck kill PORTS ------------------------------------------------------

_KILL_EPILOG = """\
examples:
  portcheck kill 8080 --dry-run        who would be stopped, and who would not (and why)
  portcheck kill 8080                  show them, ask, stop them, check the port is free
  portcheck kill 8080 --yes --force    in a script: no question; SIGKILL after the timeout
  portcheck kill 8080,8443 --yes --json  the outcome as JSON (kind "kill")

Never stopped: the machine's init, Windows PID 0 and 4, portcheck and its
ancestors (your shell, your ssh session), owners hidden from you; processes a
systemd unit or a container runtime runs are left alone unless --managed (the
command to use instead is printed). A container's own pid 1 is stopped only
after confirmation. Only the owners' pids are signalled, never a group, and
only the processes shown (pid and start time): one that replaced them while
the question waited is refused. All or nothing: the holders of the port's
listening socket are stopped; holders of connections only (sshd's session
children) are listed and left running unless --connections; when a
listener's holder is refused, nothing is stopped. Nothing is stopped when
/proc belongs to another pid namespace. This machine only: --host is refused.

exit status: 0 when the port is free at the end (TIME_WAIT remnants aside,
unless --strict), 1 when it is still in use (refused, permission denied,
respawned, still running, or after --dry-run), 2 on an error, or when the
confirmation is refused or cannot be asked (no terminal: pass --yes).
"""


def build_kill_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="portcheck kill",
        description="Stop every process holding a port, safely, then check that it is free.",
        epilog=_KILL_EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument(
        "ports", metavar="PORTS", nargs="+", type=ports_arg, help="ports, lists and ranges"
    )
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
        "--connections",
        action="store_true",
        help="also stop processes that hold only connections on the port (not its listener)",
    )
    _strict(parser, "wait, within --timeout, for them to clear")
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would be done; stop nothing"
    )
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    _common(
        parser,
        timeout_help="seconds to wait for the owners to exit before --force or giving up, "
        "and for TIME_WAIT remnants with --strict (10)",
        zero_timeout=True,
        csv=False,
    )
    return parser


def _kill_main(args: argparse.Namespace) -> int:
    from ._render import json as documents

    if args.hosts or args.hosts_file is not None:
        raise PortcheckError(
            "kill stops processes on this machine only: --host and --hosts are refused "
            "(log in to the host and run portcheck kill there)"
        )
    results = [_kill_port(args, port) for port in _flat(args.ports)]
    if args.json and not args.quiet:
        if len(results) == 1:
            _print_json(documents.kill_document(results[0]))
        else:
            kills = [documents.kill_document(r) for r in results]
            _print_json({"schema": documents.SCHEMA, "kind": "kills", "kills": kills})
    return EXIT_OK if all(r.free for r in results) else EXIT_TIMEOUT


def _kill_port(args: argparse.Namespace, port: int) -> StopResult:
    import time

    from ._kill.engine import run
    from ._kill.policy import Options
    from ._kill.results import Outcome
    from ._render import kill

    start = time.monotonic()
    # --strict's wait for TIME_WAIT remnants is done here, not by the engine, so
    # that it keeps to --timeout and shows wait's progress line.
    # --timeout bounds both the wait for the owners and each look at the port.
    options = Options(
        grace=args.timeout,
        timeout=max(args.timeout, 0.1),
        force=args.force,
        managed=args.managed,
        tree=args.tree,
        connections=args.connections,
    )
    planned = run(
        port, attrs.evolve(options, dry_run=True, stop_container_init=True), tool=args.tool
    )
    # The processes shown, not their pid numbers: one that exits while the
    # question waits, its pid taken by another program, or that exec()s
    # another program, is refused as not confirmed.
    chosen = frozenset(
        identity
        for o in planned.owners
        if o.outcome is Outcome.DRY_RUN and (identity := o.identity()) is not None
    )
    if args.dry_run or not chosen:
        # Nothing to stop: look once more, allowed to stop no one not asked about.
        final = (
            planned
            if args.dry_run
            else run(port, attrs.evolve(options, allow=chosen), tool=args.tool)
        )
        return _kill_report(args, _strict_end(args, final, start))
    if not args.yes:
        if not _stdin_is_terminal():
            if not args.quiet:
                _print_lines_to_stderr(kill.plan(planned))
            raise PortcheckError("no terminal to ask for confirmation: pass --yes to stop them")
        if not _confirm(kill.plan(planned), len(chosen)):
            raise PortcheckError("not confirmed; nothing was stopped")
    result = run(
        port,
        attrs.evolve(options, stop_container_init=True, allow=chosen),
        tool=args.tool,
    )
    return _kill_report(args, _strict_end(args, result, start))


def _strict_end(args: argparse.Namespace, result: StopResult, start: float) -> StopResult:
    """With --strict: wait for TIME_WAIT remnants to clear, within what --timeout leaves."""
    import time

    from ._records import is_remnant
    from ._wait.sockets import free_condition

    if not args.strict or result.dry_run or not result.free or not result.time_wait:
        return result
    # Rounded: the progress line and any message quote it.
    left = round(max(0.0, args.timeout - (time.monotonic() - start)), 1)
    ok, _ = _wait_one(
        argparse.Namespace(**{**vars(args), "interval": 0.25}),
        report=False,  # the kill report says how it ended
        host=None,
        port=result.port,
        condition="free",
        done=free_condition(strict=True),
        protocol=None,
        timeout=left,
    )
    if ok:
        return attrs.evolve(result, time_wait=())
    from ._lookup import who_owns

    remnants = tuple(s for s in who_owns(result.port, tool=args.tool) if is_remnant(s))
    return attrs.evolve(result, free=not remnants, time_wait=remnants)


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


def _kill_report(args: argparse.Namespace, result: StopResult) -> StopResult:
    from ._render import kill

    if not args.quiet and not args.json:
        _print_lines(kill.report(result))
    return result


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
    _filter_options(parser)
    parser.add_argument(
        "--wide",
        action="store_true",
        help="add each owner's parent chain, working directory, start time, executable and "
        "command line (one line a socket, cut to the terminal's width)",
    )
    parser.add_argument(
        "--allow",
        type=_port_ranges,
        metavar="PORTS",
        help="ports and ranges expected to listen (22,443,8000-8100): print only the "
        "others, and exit 1 when there are any",
    )
    _common(parser)
    return parser


def _filter_options(parser: argparse.ArgumentParser) -> None:
    """`list` and `watch`: keep the sockets matching every filter given."""
    parser.add_argument(
        "--port",
        type=_port_ranges,
        metavar="PORTS",
        help="only these ports and ranges (80,443,8000-8100)",
    )
    parser.add_argument("--name", metavar="GLOB", help="only processes so named (glob, any case)")
    parser.add_argument(
        "--pid", metavar="PID", type=_pid, action="append", help="only this pid (repeatable)"
    )
    parser.add_argument("--user", metavar="USER", help="only this user's (login name or uid)")
    parser.add_argument(
        "--state", metavar="STATE", action="append", help="only this TCP state (repeatable)"
    )
    parser.add_argument("--unit", metavar="GLOB", help="only processes of this unit (glob)")
    parser.add_argument(
        "--container", metavar="ID", help="only this container's (id prefix, runtime or pod)"
    )


def _pid(text: str) -> int:
    return _number(text, 1, 2**31, "a pid")


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    """The listing filters given, checked before anything runs (bad ones are exit 2)."""
    from ._listing.select import select

    names = ("name", "pid", "user", "state", "unit", "container")
    found = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    if args.port is not None:
        found["port"] = [f"{low}-{high}" for low, high in args.port]
    try:
        select(**found)
    except (TypeError, ValueError) as exc:
        raise PortcheckError(str(exc)) from None
    return found


def _list_main(args: argparse.Namespace) -> int:
    import gc

    # The cyclic collector would only walk the thousands of records a listing
    # makes (no cycles among them): a tenth of the time at 4,000 listeners
    # (bench/listing.py). Paused for the listing only (main() may run in-process).
    paused = gc.isenabled()
    gc.disable()
    try:
        return _list(args)
    finally:
        if paused:
            gc.enable()


def _list(args: argparse.Namespace) -> int:
    hosts = _hosts_of(args)
    if args.wide and args.csv:
        raise PortcheckError("--wide is for people and --json, not --csv")
    if hosts is None:
        found = _list_one(args, None)
        if not args.quiet:
            if args.wide:
                _list_wide(args, found)
            elif args.json:
                from ._render import json as documents

                _print_json(documents.list_document(found, scope=_scope(args)))
            elif args.csv:
                from ._render.csv import list_rows

                _print_csv(list_rows(found))
            else:
                _print_lines(_listing(args, found))
            _warn_hidden(found)
        return EXIT_UNEXPECTED if args.allow is not None and found else EXIT_OK
    return _list_hosts(args, hosts)


def _list_hosts(args: argparse.Namespace, hosts: list[str]) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from ._render import json as documents

    def one(host: str) -> list[Socket] | Exception:
        try:
            return _list_one(args, host)
        except PortcheckError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=min(args.workers, len(hosts))) as pool:
        results = dict(zip(hosts, pool.map(one, hosts)))
    answers = {h: r for h, r in results.items() if not isinstance(r, Exception)}
    if not args.quiet:
        if args.json:
            _print_json(documents.list_hosts_document(results, scope=_scope(args)))
        elif args.csv:
            from ._render.csv import list_rows

            _print_csv(list_rows(answers))
        else:
            for i, (host, found) in enumerate(answers.items()):
                _print_lines(([""] if i else []) + [f"== {safe(host)} =="] + _listing(args, found))
        for host, result in results.items():
            if isinstance(result, Exception):
                _say_error(args, result, host)
    if len(answers) < len(results):
        return EXIT_ERROR
    if args.allow is not None and any(answers.values()):
        return EXIT_UNEXPECTED
    return EXIT_OK


def _scope(args: argparse.Namespace) -> str:
    return "all" if args.all else "exposed" if args.exposed else "listening"


def _listing(args: argparse.Namespace, found: list[Socket]) -> list[str]:
    from ._render.table import listing

    none = "no listener outside the allowed ports" if args.allow else f"no {_scope(args)} sockets"
    return listing(found, connections=args.all) or [none]


def _list_one(args: argparse.Namespace, host: str | None) -> list[Socket]:
    from ._listing.allow import exposed, unexpected
    from ._lookup import listening, sockets

    chosen = _filters(args)
    if args.all:
        found = sockets(tool=args.tool, timeout=args.timeout, host=host, **chosen)
    else:
        found = listening(tool=args.tool, timeout=args.timeout, host=host, **chosen)
    if args.exposed:
        found = exposed(found)
    if args.tcp or args.udp:
        protocol = Protocol.TCP if args.tcp else Protocol.UDP
        found = [s for s in found if s.protocol is protocol]
    if args.allow is not None:
        found = unexpected(found, args.allow)
    return found


def _list_wide(args: argparse.Namespace, found: list[Socket]) -> None:
    from ._cli_deploy import wide_document, wide_lines
    from ._render.progress import columns

    found = sorted(found, key=lambda s: (s.local.port, s.pid or 0))
    if args.json:
        _print_json(wide_document(found, scope=_scope(args)))
    else:
        on_terminal = sys.stdout.isatty()
        _print_lines(wide_lines(found, columns() if on_terminal else 1_000_000))


# --- portcheck watch ------------------------------------------------------------

_WATCH_EPILOG = """\
examples:
  portcheck watch                         the listeners now, then each change
  portcheck watch --exposed --no-initial  only changes beyond loopback
  portcheck watch --json                  one JSON event a line (kind "event")
  portcheck watch --exposed --alert       exit 1 at the first listener opening or closing

[exposed dynamic port] marks a listener beyond loopback in the dynamic range
(49152-65535) or this system's ephemeral range.
exit status: 0 when ended by SIGINT or SIGTERM, 1 with --alert, 2 on an error.
"""


def build_watch_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="portcheck watch",
        description="Print a line each time a listener opens or closes on this machine.",
        epilog=_WATCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--interval", metavar="S", type=_positive, default=1.0, help="seconds between looks (1)"
    )
    parser.add_argument(
        "--exposed", action="store_true", help="only listeners not bound to loopback"
    )
    parser.add_argument(
        "--alert",
        action="store_true",
        help="exit 1 at the first listener that opens or closes (and passes the filters)",
    )
    parser.add_argument(
        "--no-initial", action="store_true", help="do not print the listeners present at the start"
    )
    _filter_options(parser)
    _common(parser, csv=False, hosts=False)
    return parser


def _watch_main(args: argparse.Namespace) -> int:
    from ._cli_deploy import watch_main

    return watch_main(
        interval=args.interval,
        initial=not args.no_initial,
        exposed=args.exposed,
        alert=args.alert,
        as_json=args.json,
        quiet=args.quiet,
        tool=args.tool,
        timeout=args.timeout,
        filters=_filters(args),
    )


# --- portcheck run -- CMD ARGS... ---------------------------------------------------

_RUN_EPILOG = """\
examples:
  portcheck run -- python -m http.server {port}
  portcheck run --port 8080 --next -- npm start
  portcheck run --socket -- gunicorn --bind fd://3 app:app
  portcheck run --socket --bind :: -- uvicorn --fd 3 app:app

The command replaces portcheck (exec): its signals and exit status are its
own; portcheck's own words go to stderr. Before that: exit 1 when the port is
taken or the range has no usable port, 2 on an error, 126/127 when the
command cannot be executed.
"""


def build_run_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="portcheck run",
        description="Start CMD on a usable port: $PORT and {port} name it; "
        "--socket hands it the listening socket as fd 3 (no race).",
        epilog=_RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--port", metavar="P", type=_one_port, help="this port, or exit 1 naming who holds it"
    )
    which.add_argument(
        "--range", metavar="A-B", type=_port_range, help="the first usable port of A-B (3000-9999)"
    )
    then = parser.add_mutually_exclusive_group()
    then.add_argument(
        "--next", action="store_true", help="with --port: the next usable port above when taken"
    )
    then.add_argument(
        "--kill",
        action="store_true",
        help="with --port: stop its owners first, by portcheck kill's rules (asks first)",
    )
    parser.add_argument(
        "--force", action="store_true", help="with --kill: SIGKILL what survives SIGTERM"
    )
    parser.add_argument("-y", "--yes", action="store_true", help="with --kill: do not ask")
    parser.add_argument(
        "--env", metavar="NAME", default="PORT", help="the variable set to the port (PORT)"
    )
    parser.add_argument(
        "--socket",
        action="store_true",
        help="bind and listen first, pass the socket as fd 3 (LISTEN_FDS=1, LISTEN_PID)",
    )
    parser.add_argument(
        "--bind", metavar="ADDR", help="with --socket: the address (127.0.0.1; :: dual-stack)"
    )
    parser.add_argument(
        "--wait-open",
        action="store_true",
        help="say on stderr when CMD accepts connections (or that it did not within --timeout); "
        "CMD then runs as a child",
    )
    parser.add_argument(
        "command", metavar="CMD", nargs=argparse.REMAINDER, help="the command, after --"
    )
    _common(parser, tool=False, csv=False, hosts=False)
    return parser


def _one_port(text: str) -> int:
    return _number(text, 1, 65535, "a port (1-65535)")


def _run_main(args: argparse.Namespace) -> int:
    from ._cli_deploy import run_main

    if args.json:
        raise PortcheckError("run prints nothing but a line on stderr: no --json")
    if (args.force or args.yes) and not args.kill:
        raise PortcheckError("--force and --yes go with --kill")
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.kill:
        if args.port is None:
            raise PortcheckError("--kill goes with --port")
        if not command:
            raise PortcheckError("no command to run: portcheck run [options] -- CMD ARGS...")
        status = _run_kill(args)
        if status != EXIT_OK:
            return status
    return run_main(
        command,
        port=args.port,
        port_range=args.range,
        next_free=args.next,
        env_name=args.env,
        use_socket=args.socket,
        bind=args.bind,
        timeout=args.timeout,
        quiet=args.quiet,
        wait_open=args.wait_open,
    )


def _run_kill(args: argparse.Namespace) -> int:
    """`run --kill`: `portcheck kill PORT` as it is, its words on stderr (stdout is CMD's)."""
    import contextlib

    kill_args = build_kill_parser().parse_args([str(args.port)])
    kill_args.force, kill_args.yes, kill_args.quiet = args.force, args.yes, args.quiet
    with contextlib.redirect_stdout(sys.stderr):
        status = _kill_main(kill_args)
    if status == EXIT_TIMEOUT and not args.quiet:
        print(f"portcheck: port {args.port} is still in use; not starting", file=sys.stderr)
    return status


# --- portcheck completion SHELL ------------------------------------------------


def build_completion_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="portcheck completion",
        description="Print a shell completion script, made from the command's own options. "
        "See docs/howto/completion.md to install it.",
    )
    parser.add_argument("shell", choices=("bash", "zsh", "fish", "powershell"))
    _common(parser, tool=False, csv=False, hosts=False)
    return parser


def _completion_main(args: argparse.Namespace) -> int:
    from ._render.completion import script

    if not args.quiet:
        sys.stdout.write(script(args.shell, command_table()))
    return EXIT_OK


def command_table() -> dict[str, list[str]]:
    """Every command ("" for the lookup) and its options, from the parsers themselves."""
    table_: dict[str, list[str]] = {}
    builders = {"": build_parser, **{n: b for n, (b, _) in _commands().items()}}
    for name, build in builders.items():
        parser = build()
        table_[name] = [o for a in parser._actions for o in a.option_strings]
    return table_


def synopsis(width: int = 100) -> str:
    """Every command's usage line, from the parsers: docs/command.md's synopsis (a test
    compares them)."""
    builders = [build_parser, *(b for b, _ in _commands().values())]
    lines = []
    for build in builders:
        parser = build()
        formatter = argparse.HelpFormatter(parser.prog, width=width)
        actions = [a for a in parser._actions if "--help" not in a.option_strings]
        actions = [a for a in actions if "--version" not in a.option_strings]
        formatter.add_usage(None, actions, parser._mutually_exclusive_groups, prefix="")
        lines.append(formatter.format_help().rstrip())
    return "\n".join(lines) + "\n"
