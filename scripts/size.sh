#!/bin/sh
# scripts/size.sh: smtpc's footprint on a Cortex-M4, as a firmware links it.
#
#   scripts/size.sh [--out DIR] [--doc FILE] [--check] [--features] [-q]
#
# The work is done by the Python package next to this file (scripts/size/,
# standard library only; `scripts/size.sh --help` lists the options); this
# only picks the system interpreter, the one Debian's packages are for.
# The budgets are in scripts/size/budgets.json.
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" exec "$PY" -m size "$@"
