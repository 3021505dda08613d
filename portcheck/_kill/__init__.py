"""Stopping a port's owners safely (`stop_owners`, `portcheck kill`).

`policy.py` decides whom to stop and refuses, with the reason and the command
to use instead, what must not be stopped (init, ancestors, managed services,
hidden owners); `engine.py` carries the plan out (grab, re-check, signal,
wait, escalate, look again); `stoppers.py` knows how each OS signals and
re-checks a process; `results.py` holds the records the caller gets. The
policy never signals, and the engine never decides.
"""
