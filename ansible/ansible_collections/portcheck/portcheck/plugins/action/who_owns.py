"""Action plugin portcheck.portcheck.who_owns: the sockets on one port of the target."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

try:
    import portcheck  # noqa: F401  (the controller needs it; the target does not)
except ImportError:  # pragma: no cover - reported when the task runs
    portcheck = None

ARGUMENT_SPEC = {
    "port": {"type": "int", "required": True},
}


def make_execute(action):
    """`execute(command)` over the task's connection, returning exact bytes."""

    def execute(command):
        done = action._low_level_execute_command(command, encoding_errors="surrogateescape")
        return (
            done.get("rc", 1),
            done.get("stdout", "").encode("utf-8", "surrogateescape"),
            done.get("stderr", "").encode("utf-8", "surrogateescape"),
        )

    return execute


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        _, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if portcheck is None:
            raise AnsibleActionFail("the portcheck Python package is missing on the controller")
        from portcheck._remote.ansible import failure, who_owns_result

        port = args["port"]
        if not 1 <= port <= 65535:
            raise AnsibleActionFail(f"port must be 1-65535, not {port}")
        host = str((task_vars or {}).get("inventory_hostname", "target"))
        try:
            result.update(who_owns_result(port, make_execute(self), host))
        except Exception as exc:  # noqa: BLE001 - this host's answer, whatever went wrong
            result.update(failed=True, msg=failure(exc), changed=False)
        return result
