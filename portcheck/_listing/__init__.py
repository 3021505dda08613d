"""The listing of a machine's sockets, and what is kept of it.

`select.py` holds the filters of `listening()`, `sockets()`, `watch()` and
`portcheck list` (port lists, name globs, pid, user, state, unit, container);
`allow.py` the port-list syntax shared by every command (`80,443,8000-8010`),
the allowlist of `list --allow` and the exposed-listener test; `watch.py`
turns successive listings into `opened`/`closed` events. The listing itself is
the one lookup loop (`_lookup.lookup` with `port=None`).
"""
