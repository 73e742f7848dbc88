#!/usr/bin/env bash
# The footprint tool (scripts/size/) without a cross compiler: its unit
# tests (tests/size/) on the checked-in linker map and call graphs of a real
# Cortex-M4 build (tests/data/size/), the budgets file (one source for the
# report and tests/integration/70_embedded_size.sh), and pyflakes over the
# Python.  Runs with /usr/bin/python3, the interpreter the tool uses.
set -uo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$SMTPC_ROOT" || exit 1

PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
    echo "SKIP: no $PY"
    exit 77
fi
fail=0
# -B: no __pycache__ left in the tree
if ! "$PY" -B -m unittest discover -s tests/size -t tests/size -v; then
    echo "FAIL: tests/size" >&2
    fail=1
fi
if "$PY" -c 'import pyflakes' 2>/dev/null; then
    if ! PYTHONDONTWRITEBYTECODE=1 "$PY" -m pyflakes scripts/size tests/size tests/data/size; then
        echo "FAIL: pyflakes found problems in the size tool's Python" >&2
        fail=1
    fi
else
    echo "FAIL: pyflakes not installed (scripts/deps.sh installs python3-pyflakes)" >&2
    fail=1
fi
[ "$fail" = 0 ] && echo "70_size_tool OK"
exit "$fail"
