#!/usr/bin/env bash
# The Cortex-M4 footprint budgets, measured by scripts/size.sh:
#   - minimal profile: engine+client under 4 KB of .text+.rodata: a target
#     not met yet; the test fails only above the ceiling in scripts/size.sh
#   - full profile: engine under 14 KB of .text+.rodata
#   - sizeof(smtpc_session) under 512 bytes
#   - peak stack of any public engine call under 512 bytes
#   - no malloc/free/stdio referenced by the engine, client and compat objects
#   - the minimal profile links no code of the features it turns off
# The budgets themselves are written once, at the top of scripts/size.sh.
# Skips (77) only when arm-none-eabi-gcc is not installed at all.
set -uo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"

if ! command -v arm-none-eabi-gcc >/dev/null 2>&1; then
    echo "SKIP: arm-none-eabi-gcc not installed (scripts/deps.sh installs gcc-arm-none-eabi)"
    exit 77
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/smtpc-size.XXXXXX")
trap 'rm -rf "$W"' EXIT

"$SMTPC_ROOT/scripts/size.sh" --out "$W/size" --check
rc=$?
case $rc in
    0) echo "70_embedded_size OK" ;;
    77) echo "FAIL: size.sh skipped although arm-none-eabi-gcc exists" >&2; exit 1 ;;
    *) echo "FAIL: a footprint budget is missed (MISS lines above)" >&2; exit 1 ;;
esac
