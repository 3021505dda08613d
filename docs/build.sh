#!/usr/bin/env bash
# Build the documentation site from docs/ with warnings as errors, then run
# every example in it (`{doctest}` blocks and docstrings) as a test.
#
#   bash docs/build.sh            # uses ./.venv (made by the README's commands)
#   VENV=/path/to/venv bash docs/build.sh
#
# The HTML lands in docs/_build/html. Needs Python >= 3.11 for Sphinx 9
# (older Sphinx releases are picked on older Pythons by pip).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -e '.[docs]'
rm -rf docs/_build
"$venv/bin/python" -m sphinx -W --keep-going -q -b html docs docs/_build/html
"$venv/bin/python" -m sphinx -W --keep-going -q -b doctest docs docs/_build/doctest
echo "docs: built in docs/_build/html; examples passed"
