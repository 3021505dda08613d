"""Shared reading of the address forms tools print: `host:port`, `[v6]:port`, `host.port`.

Every parser goes through here so that one rule holds everywhere: host and port
are split at the LAST separator and the port compared as an integer (substring
matching made "3000" hit 30001 in other tools). Forms seen in real captures:
`0.0.0.0:80`, `*:80`, `[::]:80`, `:::80`, `[::1]:80`, `::ffff:10.0.2.15:9300`,
`[fe80::1%24]:5353` (Windows), `[fe80::1]%eth0:123` and `127.0.0.53%lo:53` (ss),
`*.22`, `127.0.0.1.22`, `::1.22` (BSD and macOS), `localhost:smtp` (no `-n`).
"""

from __future__ import annotations

import functools

from .._records import Endpoint, Family

# `ipaddress` and `socket` are imported in the (cached) functions that use them:
# the command's default lookup reads no tool text, and both cost start-up time.

# Used when the services database (/etc/services) is missing, as in slim
# containers, so that captures made elsewhere without -P still resolve.
_COMMON_SERVICES = {
    "ftp-data": 20,
    "ftp": 21,
    "ssh": 22,
    "telnet": 23,
    "smtp": 25,
    "domain": 53,
    "bootps": 67,
    "bootpc": 68,
    "tftp": 69,
    "http": 80,
    "kerberos": 88,
    "pop3": 110,
    "sunrpc": 111,
    "ntp": 123,
    "epmap": 135,
    "netbios-ns": 137,
    "netbios-dgm": 138,
    "netbios-ssn": 139,
    "imap": 143,
    "imap2": 143,
    "snmp": 161,
    "ldap": 389,
    "https": 443,
    "microsoft-ds": 445,
    "submissions": 465,
    "urd": 465,
    "syslog": 514,
    "submission": 587,
    "ipp": 631,
    "ldaps": 636,
    "imaps": 993,
    "pop3s": 995,
    "ms-sql-s": 1433,
    "openvpn": 1194,
    "mysql": 3306,
    "ms-wbt-server": 3389,
    "mdns": 5353,
    "postgresql": 5432,
    "x11": 6000,
    "http-alt": 8080,
    "webcache": 8080,
}

WILDCARD = {Family.IPV4: "0.0.0.0", Family.IPV6: "::"}


@functools.lru_cache(maxsize=512)
def service_port(name: str, protocol: str) -> int | None:
    """Port number of a service name from the services database, or None if unknown."""
    import socket

    try:
        return socket.getservbyname(name, protocol)
    except OSError:
        return _COMMON_SERVICES.get(name)


@functools.lru_cache(maxsize=4096)
def canonical_address(text: str) -> str:
    """Canonical IP text: compressed IPv6, IPv4-mapped kept dotted; names kept as printed.

    `ipaddress` prints `::ffff:10.0.2.15` as `::ffff:a00:20f` before Python 3.13,
    so the mapped form is rebuilt by hand to read the same on every version.
    """
    if text == "*":
        return text
    import ipaddress

    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return f"::ffff:{ip.ipv4_mapped}"
    return ip.compressed


@functools.lru_cache(maxsize=4096)
def family_of(address: str) -> Family | None:
    """Family of an address string, or None for a name or `*`."""
    if address == "*":
        return None
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return Family.IPV6 if ip.version == 6 else Family.IPV4


def _split_zone(host: str) -> tuple[str, str | None]:
    if "%" in host:
        host, zone = host.split("%", 1)
        return host, zone or None
    return host, None


@functools.lru_cache(maxsize=16384)
def split_colon(token: str) -> tuple[str, str | None, str]:
    """Split `host:port` forms (Linux tools, Windows) into (host, zone, port text).

    Raises ValueError when there is no port separator.
    """
    if token.startswith("["):
        close = token.find("]")
        if close < 0 or token[close + 1 : close + 2] not in (":", "%"):
            raise ValueError(f"malformed bracketed address {token!r}")
        host, zone = _split_zone(token[1:close])
        rest = token[close + 1 :]
        if rest.startswith("%"):  # ss: [fe80::1]%eth0:123
            zone_text, sep, port = rest[1:].rpartition(":")
            if not sep:
                raise ValueError(f"no port in {token!r}")
            return host, zone_text or zone, port
        return host, zone, rest[1:]
    host, sep, port = token.rpartition(":")
    if not sep:
        raise ValueError(f"no port in {token!r}")
    host, zone = _split_zone(host)
    return host, zone, port


@functools.lru_cache(maxsize=16384)
def split_dot(token: str) -> tuple[str, str | None, str]:
    """Split BSD/macOS `host.port` forms (`*.22`, `127.0.0.1.22`, `::1.22`)."""
    host, sep, port = token.rpartition(".")
    if not sep:
        raise ValueError(f"no port in {token!r}")
    host, zone = _split_zone(host)
    return host, zone, port


def port_number(text: str, protocol: str) -> tuple[int, str | None]:
    """(port, service name) from a port field: digits, `*`, or a service name."""
    if text.isdigit():
        port = int(text)
        if port > 65535:
            raise ValueError(f"port {text} is out of range")
        return port, None
    if text in ("*", ""):
        return 0, None
    if not text.isascii() or not text.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"unreadable port {text!r}")
    return service_port(text, protocol) or 0, text


@functools.lru_cache(maxsize=16384)
def make_endpoint(
    host: str, zone: str | None, port_text: str, protocol: str, family: Family
) -> Endpoint:
    """Endpoint from split parts; `*` and empty hosts become the family's wildcard.

    Cached (as are the splitters above): peers such as `0.0.0.0:*` and busy
    listeners repeat on thousands of lines, and Endpoint is immutable.
    """
    address = WILDCARD[family] if host in ("*", "") else canonical_address(host)
    if family is Family.IPV6 and family_of(address) is Family.IPV4:
        # An IPv4 peer of a dual-stack IPv6 socket: lsof and net-tools print it
        # as plain IPv4, the kernel (and ss) as IPv4-mapped. One form for all.
        address = f"::ffff:{address}"
    port, service = port_number(port_text, protocol)
    return Endpoint(address=address, port=port, zone=zone, service=service)


def is_unconnected(endpoint: Endpoint) -> bool:
    """True for a peer that means "no peer": `*:*`, `0.0.0.0:0`, `[::]:0`."""
    return endpoint.port == 0 and endpoint.address in ("0.0.0.0", "::") and endpoint.service is None
