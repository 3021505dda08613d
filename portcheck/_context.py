"""`context_for`: where a lookup looks, decided in one place for every entry point.

Every public function that looks at sockets (the lookup, `describe`,
`find_free_ports`, `stop_owners`, `--raw`, the ephemeral range) turns its
`host`, and the tests' `platform` and `runner`, into one `Context` here: this
machine with the system's runner by default, another platform's tools through
an injected runner in tests, or a host over ssh. Nothing else defaults them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._validate import check_seconds

if TYPE_CHECKING:
    from ._backends.context import Context
    from ._records import Platform
    from ._run import Runner


def context_for(
    *,
    host: str | None = None,
    platform: str | Platform | None = None,
    runner: Runner | None = None,
    timeout: float = 10.0,
    listening: bool = False,
) -> Context:
    """The context of a look at `host` over ssh, or at this machine.

    `timeout` bounds each tool run on this machine, and the whole look at a
    host. `platform` (tests, `--raw` replays) makes this machine's lookup use
    that platform's backends; it is read from the host over ssh, so giving
    both is a ValueError. `runner` replaces the system's (for a host, the
    runner that starts ssh). `listening` tells backends only listeners are
    wanted.
    """
    seconds = check_seconds("timeout", timeout)
    if host is not None:
        if platform is not None:
            raise ValueError("platform is read from the host; give host or platform, not both")
        from ._remote.probe import connect

        ctx = connect(host, timeout=seconds, runner=runner)
        if listening:
            import attrs

            ctx = attrs.evolve(ctx, listening=True)
        return ctx
    from ._backends.context import local_context
    from ._records import Platform

    if runner is None:
        from ._run import SystemRunner

        runner = SystemRunner()
    where = Platform.current() if platform is None else Platform.of(platform)
    return local_context(where, runner, seconds, listening=listening)
