"""Action plugin portcheck.portcheck.listen_ports_facts: the target's listeners, as facts."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

try:
    import portcheck  # noqa: F401  (the controller needs it; the target does not)
except ImportError:  # pragma: no cover - reported when the task runs
    portcheck = None

ARGUMENT_SPEC = {
    "allowed": {"type": "list", "elements": "raw", "required": False},
    "fail_on_unexpected": {"type": "bool", "default": False},
}


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
        from portcheck._remote.ansible import failure, listen_ports_result

        host = str((task_vars or {}).get("inventory_hostname", "target"))
        execute = _execute(self)
        try:
            found = listen_ports_result(execute, host, args.get("allowed"))
        except Exception as exc:  # noqa: BLE001 - this host's answer, whatever went wrong
            result.update(failed=True, msg=failure(exc), changed=False)
            return result
        result.update(found)
        unexpected = found.get("unexpected") or []
        if args["fail_on_unexpected"] and unexpected:
            listed = ", ".join(
                f"{u['protocol']}/{u['port']} ({u['name'] or 'owner hidden'})" for u in unexpected
            )
            result.update(failed=True, msg=f"unexpected listeners: {listed}")
        return result


def _execute(action):
    from ansible_collections.portcheck.portcheck.plugins.action.who_owns import make_execute

    return make_execute(action)
