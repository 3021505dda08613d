# The documentation of the action plugin of the same name (it runs on the controller).

DOCUMENTATION = r"""
module: who_owns
short_description: Which processes hold a TCP/UDP port on the target
description:
  - Runs the target's own socket tools (ss, lsof or netstat on Linux; lsof or netstat on
    macOS; sockstat, lsof or netstat on the BSDs; netstat -ano and tasklist on Windows)
    over the task's connection and parses their output with the portcheck package on the
    controller. The target needs neither Python nor portcheck.
  - Only reads. Supports check mode and never reports a change.
  - Without become, other users' sockets are reported with their owner hidden
    (pid null); use become to name every owner.
version_added: 0.1.0
options:
  port:
    description: The local port to look up.
    type: int
    required: true
attributes:
  check_mode:
    support: full
  action:
    support: full
requirements:
  - portcheck (Python package) on the controller
author: portcheck contributors
"""

EXAMPLES = r"""
- name: Who holds 8080?
  portcheck.portcheck.who_owns:
    port: 8080
  register: owner

- name: Stop when something else already listens there
  ansible.builtin.assert:
    that: not owner.in_use
    fail_msg: "8080 is taken by {{ owner.sockets | map(attribute='process') | list }}"
"""

RETURN = r"""
sockets:
  description: One object per (socket, owning process), as `portcheck PORT --json` prints them.
  type: list
  elements: dict
  returned: success
in_use:
  description: True when any socket uses the port (owner hidden or not).
  type: bool
  returned: success
hidden:
  description: True when a socket's owner could not be seen (another user's, without become).
  type: bool
  returned: success
"""
