"""What a port number is, and which ports a server can use.

`describe.py` answers "what is this port and who holds it" (IANA range,
ephemeral range, services, each socket's role); `ephemeral.py` and
`reserved.py` read the system's ephemeral range, reserved ranges and
privileged limit; `find.py` picks ports that really bind
(`find_free_ports`). Parsing of the ranges' text lives in
`_parsers/port_ranges.py`.
"""
