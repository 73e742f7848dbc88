#!/usr/bin/env bash
# The hostile-server suite (tests/hostile/): build/smtpc against scripted
# servers that send malformed, over-long, endless, unsolicited or early
# replies, close, reset, stall, trickle, or stop reading, at every step of
# the dialogue.  Each scenario checks the exit status, the phase, the exact
# bytes sent after the server's script (QUIT after an orderly error,
# nothing after a close or a timeout), the time taken against --timeout 2,
# sanitizer output, and memory (peak resident size against the plain
# session's, measured by build*/peak_rss from tests/tools/).  The scenarios
# run in parallel threads of one Python process (about 30-40 s); records
# stay in the test log's dir.
#
# Env: HOSTILE_JOBS (parallel scenarios, default 8), HOSTILE_FILTER (regex
# on scenario names).
set -uo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"
PY=${HARNESS_PY:-/usr/bin/python3}
SMTPC=$SMTPC_BUILD/smtpc
PEAK_RSS=$SMTPC_BUILD/peak_rss

if [ ! -x "$SMTPC" ]; then
    echo "smtpc not built at $SMTPC: skipping"
    exit 77
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 9))'; then
    echo "$PY is missing or older than 3.9: skipping"
    exit 77
fi

OUT=$(mktemp -d "${TMPDIR:-/tmp}/smtpc-hostile.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
args=(--smtpc "$SMTPC" --out "$OUT" --jobs "${HOSTILE_JOBS:-8}")
[ -n "${HOSTILE_FILTER:-}" ] && args+=(-k "$HOSTILE_FILTER")
if [ -x "$PEAK_RSS" ]; then
    args+=(--peak-rss "$PEAK_RSS")
else
    echo "$PEAK_RSS not built: memory is not checked"
fi
# The library must not leak even when a session fails half-way.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
"$PY" "$SMTPC_ROOT/tests/hostile/scenarios.py" "${args[@]}"
