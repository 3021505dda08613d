"""Host strings: what `--host`, `host=` and the fleet accept, validated before ssh sees them.

The host string is user input: `parse_host` accepts `[user@]name[:port]`,
`[user@][v6]:port` and a bare IPv6 literal, and refuses anything else.
"""

from __future__ import annotations

import ipaddress
import re

import attrs

_USER = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]{0,63}")
# A host name, an ssh_config alias or an IPv4 address: letters, digits, `.`,
# `_` and `-`, not starting with `-` (ssh would read it as an option) or `.`.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}")
_PORT = re.compile(r"[0-9]{1,5}")
_ZONE = re.compile(r"[A-Za-z0-9_.-]{1,32}")


@attrs.frozen(kw_only=True)
class Target:
    """A validated host: `host` (name, IPv4 or IPv6 address without brackets),
    optional `user` and `port`, and `text`, the string as given."""

    text: str
    host: str
    user: str | None = None
    port: int | None = None


def parse_host(text: str) -> Target:
    """The `Target` named by `text`; ValueError for anything but the accepted forms.

    `[user@]name[:port]`, `[user@][v6addr]:port`, `[user@][v6addr]` or a bare
    IPv6 literal (`::1`). Refused: an empty string, anything starting with
    `-`, whitespace, control or shell characters, a port outside 1-65535.
    """
    if not isinstance(text, str):
        raise TypeError(f"host must be str, not {type(text).__name__}")
    if not text or text.startswith("-") or not text.isascii() or not text.isprintable():
        raise ValueError(f"not a host: {text!r}")
    user, at, rest = text.rpartition("@")
    if at and not _USER.fullmatch(user):
        raise ValueError(f"not a user name in host {text!r}: {user!r}")
    host, port = _split_port(rest, text)
    return Target(text=text, host=host, user=user or None, port=port)


def _split_port(rest: str, text: str) -> tuple[str, int | None]:
    if rest.startswith("["):
        address, bracket, after = rest[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            raise ValueError(f"not a host: {text!r} (expected [IPv6]:port)")
        return _ipv6(address, text), _port(after[1:], text) if after else None
    if rest.count(":") >= 2:
        return _ipv6(rest, text), None  # a bare IPv6 literal: no port
    name, colon, port = rest.partition(":")
    if not _NAME.fullmatch(name) or name.endswith("-"):
        raise ValueError(f"not a host name in {text!r}: {name!r}")
    return name, _port(port, text) if colon else None


def _ipv6(address: str, text: str) -> str:
    bare, percent, zone = address.partition("%")
    try:
        ipaddress.IPv6Address(bare)
    except ValueError:
        raise ValueError(f"not an IPv6 address in {text!r}: {address!r}") from None
    if percent and not _ZONE.fullmatch(zone):
        raise ValueError(f"not an interface zone in {text!r}: {zone!r}")
    return address


def _port(digits: str, text: str) -> int:
    if not _PORT.fullmatch(digits) or not 1 <= int(digits) <= 65535:
        raise ValueError(f"not a port (1-65535) in host {text!r}: {digits!r}")
    return int(digits)
