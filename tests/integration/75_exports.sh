#!/usr/bin/env bash
# The shared library exports exactly the functions the public headers mark
# SMTPC_API: nothing internal (engine, client, TLS helpers) leaks out, and
# nothing public is missing.
set -euo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"
lib=$SMTPC_BUILD/libsmtpc.so
[ -e "$lib" ] || { echo "SKIP: no $lib"; exit 77; }

declared=$(grep -hE '^SMTPC_API ' \
               "$SMTPC_ROOT"/include/smtpc/*.h "$SMTPC_ROOT"/include/nxd_smtp_client.h |
           grep -oE '[a-z_0-9]+\(' | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort -u)

# A build without a TLS backend has no smtpc_tls_* transport functions.
if ! grep -qx 'smtpc_tls_new' <<<"$exported"; then
    declared=$(grep -vxE 'smtpc_tls_(new|transport|error|info|params|peer_cert|free|backend|session_[a-z]+)' <<<"$declared")
fi
if [ "$declared" != "$exported" ]; then
    echo "FAIL: exported symbols differ from the SMTPC_API declarations" >&2
    diff <(echo "$declared") <(echo "$exported") >&2 || true
    exit 1
fi
echo "OK: $(wc -l <<<"$exported") functions exported, all declared SMTPC_API"
