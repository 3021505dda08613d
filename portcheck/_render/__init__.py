"""Presentation: records in, text for people and documents for scripts out.

`table.py` (the command's tables), `explain.py` (sentences), `json.py` (every
JSON document), `words.py` (warnings, units and commands in words; `safe()`
and the owner phrases come from core `portcheck._words`), `kill.py`,
`hosts.py`, `progress.py` and `raw.py`. It depends on core, never the reverse
(`tests/test_architecture.py`).
"""
