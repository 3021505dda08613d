"""Records as plain JSON-ready dicts: the shape `--json` prints and golden files hold."""

from __future__ import annotations

import enum
from typing import Any

import attrs

from ._records import Socket


def _plain(_instance: object, _field: object, value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def socket_to_dict(sock: Socket) -> dict[str, Any]:
    """A socket as a dict of str, int, bool and None (enums by their value)."""
    return attrs.asdict(sock, value_serializer=_plain)
