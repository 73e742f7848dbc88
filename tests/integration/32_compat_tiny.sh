#!/usr/bin/env bash
# The minimal profile end to end: examples/netx_style_send.c built with
# -DSMTPC_PROFILE_MINIMAL=1, so on the tiny engine and client
# (src/engine/tiny.c, src/client/tiny.c) with the NetX Duo API and POSIX
# TCP, under ASan and UBSan, runs every case of 30_compat_mta.sh: the hard
# body byte-exact through Postfix, AUTH PLAIN and LOGIN and a refused
# password with aiosmtpd, two mails per client, header injection refused.
# Skips (77) when no C compiler or neither server is here.
set -euo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
R=$SMTPC_ROOT
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || { echo "SKIP: no C compiler"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/tmp}/smtpc-tiny.XXXXXX")
trap 'rm -rf "$W"' EXIT

EX=$W/example_netx_style_send_minimal
"$CC" -std=c99 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
    -Wall -Wextra -Werror -DSMTPC_PROFILE_MINIMAL=1 -D_POSIX_C_SOURCE=200809L \
    -I"$R/include" -I"$R/src" \
    "$R"/src/engine/*.c "$R"/src/client/*.c "$R"/src/compat/*.c \
    "$R/src/transport/tcp_posix.c" "$R/examples/netx_style_send.c" -o "$EX"

# The build must really be the tiny one: none of the full engine's or full
# driver's internal functions may be in it.
if nm "$EX" | grep -E ' T (smtpc_e_mail_pump|smtpc_e_cmd_begin|smtpc_client_run)$'; then
    echo "FAIL: the minimal build linked the full engine" >&2
    exit 1
fi

SMTPC_COMPAT_EXAMPLE=$EX bash "$R/tests/integration/30_compat_mta.sh"
echo "32_compat_tiny: ok"
