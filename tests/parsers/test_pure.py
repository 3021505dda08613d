"""The parsers run where Windows runs: with pwd, grp, fcntl, termios and resource missing.

Each (platform, tool) of the parser table parses its fixtures in a fresh
interpreter in which those modules cannot be imported, as on a Windows
controller reading output collected from Linux or macOS servers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from portcheck._parsers import PARSERS
from tests.support import golden

BLOCKED = ("pwd", "grp", "fcntl", "termios", "resource")

CHILD = textwrap.dedent(
    """
    import json, sys
    for name in {blocked!r}:
        sys.modules[name] = None  # import raises ImportError, as on Windows
    import portcheck
    from portcheck._parsers import PARSERS
    counts = {{}}
    for path, tool, platform in json.loads(sys.stdin.read()):
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        counts[platform + "/" + tool] = counts.get(platform + "/" + tool, 0) + len(
            portcheck.parse(text, tool=tool, platform=platform)
        )
    print(json.dumps({{"counts": counts, "pairs": len(PARSERS)}}))
    """
).format(blocked=BLOCKED)


def test_every_parser_works_without_posix_only_modules() -> None:
    jobs = [
        (str(capture), golden.tool_of(capture), golden.platform_of(capture))
        for capture in golden.captures()
    ]
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    covered = set(result["counts"])
    # Every pair of the table parsed at least one fixture, and found sockets there.
    assert covered == {f"{p.value}/{t}" for p, t in PARSERS}
    assert all(count > 0 for count in result["counts"].values()), result["counts"]


def test_the_blocking_works() -> None:
    # The test above means something only if a blocked module really cannot import.
    probe = (
        "import sys\nsys.modules['pwd'] = None\n"
        "try:\n import pwd\nexcept ImportError:\n print('blocked')"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "blocked"
