"""A runner that replays captured tool output, so backends of any OS run on Linux CI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Union

import attrs

from portcheck._run import Completed

Reply = Union[tuple[int, bytes, bytes], Exception]


def _as_dict(replies: Mapping[tuple[str, ...], Reply]) -> dict[tuple[str, ...], Reply]:
    """A copy the test may add to; any mapping is accepted (it is covariant, dict is not)."""
    return dict(replies)


@attrs.define
class FakeRunner:
    """Answers `which` from `tools` and `run` from `replies`, recording every argv run.

    `tools` maps a tool name to the absolute path it is "installed" at; a name
    missing from it is not installed. `replies` maps an exact argv tuple to
    (exit status, stdout bytes, stderr bytes), or to an exception to raise
    (a timeout). Running an argv with no reply fails the test loudly.
    """

    tools: dict[str, str] = attrs.field(factory=dict)
    replies: dict[tuple[str, ...], Reply] = attrs.field(factory=dict, converter=_as_dict)
    calls: list[tuple[str, ...]] = attrs.field(factory=list)

    def which(self, name: str) -> str | None:
        return self.tools.get(name)

    def run(self, argv: Sequence[str], *, timeout: float) -> Completed:
        key = tuple(argv)
        self.calls.append(key)
        if key not in self.replies:
            raise AssertionError(f"unexpected command {key!r}; known: {list(self.replies)!r}")
        reply = self.replies[key]
        if isinstance(reply, Exception):
            raise reply
        returncode, stdout, stderr = reply
        return Completed(argv=key, returncode=returncode, stdout=stdout, stderr=stderr)
