#!/usr/bin/env bash
# The Cortex-M4 footprint budgets, measured by scripts/size.sh on a real
# cross build.  The budgets are read from scripts/size/budgets.json, the
# one place they are written (code size of the minimal and full profiles,
# sizeof(smtpc_session), stack, no heap, no code of a switched-off feature):
# scripts/size.sh --check exits 1 when one is missed, and this test also
# checks that every budget of the file got its verdict line.
# Skips (77) only when arm-none-eabi-gcc is not installed at all.
set -uo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"

if ! command -v arm-none-eabi-gcc >/dev/null 2>&1; then
    echo "SKIP: arm-none-eabi-gcc not installed (scripts/deps.sh installs gcc-arm-none-eabi)"
    exit 77
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/smtpc-size.XXXXXX")
trap 'rm -rf "$W"' EXIT

"$SMTPC_ROOT/scripts/size.sh" --out "$W/size" --check -q | tee "$W/verdicts"
rc=${PIPESTATUS[0]}
case $rc in
    0) ;;
    77) echo "FAIL: size.sh skipped although arm-none-eabi-gcc exists" >&2; exit 1 ;;
    *) echo "FAIL: a footprint budget is missed (MISS lines above)" >&2; exit 1 ;;
esac

# One verdict line per budget and profile of budgets.json, each "ok".
want=$(cd "$SMTPC_ROOT/scripts" &&
    /usr/bin/python3 -B -c 'from size import budgets; print(budgets.verdict_count(budgets.load()))')
got=$(grep -c '^ok   ' "$W/verdicts")
if [ "$got" != "$want" ] || grep -qv '^ok   ' "$W/verdicts"; then
    echo "FAIL: $got verdict lines ok, budgets.json asks for $want" >&2
    exit 1
fi
echo "70_embedded_size OK ($got verdicts)"
