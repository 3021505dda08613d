# The documentation of the action plugin of the same name (it runs on the controller).

DOCUMENTATION = r"""
module: listen_ports_facts
short_description: The target's listening TCP and UDP ports, as facts
description:
  - Sets C(tcp_listen) and C(udp_listen) with the fields of
    community.general.listen_ports_facts (address, name, pid, port, protocol, stime, user),
    so playbooks written for it keep working, plus portcheck's fields (family, state,
    uid, no_owner, ...).
  - Works on Linux, macOS, FreeBSD, NetBSD, OpenBSD and Windows: it runs the target's own
    tools over the task's connection and parses them with portcheck on the controller.
  - C(stime) is the owner's start time as the target's C(ps -o lstart) prints it, or null
    where the target does not give it (Windows, no ps, owner hidden).
  - A hidden owner (another user's socket, without become) has C(pid), C(name) null and
    C(no_owner) "hidden": never a made-up number.
  - Only reads. Supports check mode and never reports a change.
version_added: 0.1.0
options:
  allowed:
    description:
      - Ports and ranges expected to listen (C(22), C("8000-8100")). When given, the result
        holds C(unexpected), the listeners on any other port.
    type: list
    elements: raw
  fail_on_unexpected:
    description: Fail the task when C(unexpected) is not empty (fact gatherers do not fail by default).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  facts:
    support: full
requirements:
  - portcheck (Python package) on the controller
author: portcheck contributors
"""

EXAMPLES = r"""
- name: Gather the listeners
  portcheck.portcheck.listen_ports_facts:

- name: Compliance - only ssh, https and the app range may listen
  portcheck.portcheck.listen_ports_facts:
    allowed: [22, 443, "8000-8100"]
    fail_on_unexpected: true
"""

RETURN = r"""
ansible_facts:
  description: C(tcp_listen) and C(udp_listen), lists of listeners.
  type: dict
  returned: success
unexpected:
  description: The listeners on ports outside C(allowed) (only when C(allowed) is given).
  type: list
  elements: dict
  returned: when allowed is given
"""
