#!/usr/bin/env bash
# The minimal profile end to end: the examples built with
# -DSMTPC_PROFILE_MINIMAL=1 (the one engine and client with the features
# folded out), under ASan and UBSan, against real servers:
#   - examples/netx_style_send.c (NetX Duo API, POSIX TCP) runs every case
#     of 30_compat_mta.sh: the hard body byte-exact through Postfix, AUTH
#     PLAIN and LOGIN and a refused password with aiosmtpd, two mails per
#     client, header injection refused;
#   - examples/superloop.c (the engine driven directly, several sessions
#     from one poll() loop), with status names on, runs every case of
#     73_superloop.sh.
# Skips (77) when no C compiler is here or no server could run.
set -euo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
R=$SMTPC_ROOT
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || { echo "SKIP: no C compiler"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/tmp}/smtpc-minimal.XXXXXX")
trap 'rm -rf "$W"' EXIT

# build OUT ARGS...: the core with the minimal profile, plus ARGS (sources,
# options).
build() {
    local out=$1
    shift
    "$CC" -std=c99 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
        -Wall -Wextra -Werror -DSMTPC_PROFILE_MINIMAL=1 -D_POSIX_C_SOURCE=200809L \
        -ffunction-sections -Wl,--gc-sections \
        -I"$R/include" -I"$R/src" \
        "$R"/src/engine/*.c "$R"/src/client/*.c "$R"/src/compat/*.c \
        "$R/src/transport/tcp_posix.c" "$@" -o "$out"
    # It must really be the minimal build: code of the features it turns
    # off (CRAM-MD5's MD5, BDAT chunks, DSN's xtext) must not be linked
    # (--gc-sections drops what nothing calls).
    if nm "$out" | grep -E ' T (smtpc_e_md5_init|smtpc_e_hmac_md5|smtpc_e_chunk_seal|smtpc_e_cmd_add_xtext)$'; then
        echo "FAIL: $(basename "$out") linked code of a feature the minimal profile turns off" >&2
        exit 1
    fi
}
build "$W/netx_style_send" "$R/examples/netx_style_send.c"
# The superloop prints status names: English text (SMTPC_WITH_STATUS_TEXT)
# on top of the minimal profile.
build "$W/superloop" -DSMTPC_WITH_STATUS_TEXT=1 "$R/examples/superloop.c"

rc=0
SMTPC_COMPAT_EXAMPLE=$W/netx_style_send bash "$R/tests/integration/30_compat_mta.sh" || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 77 ] || exit "$rc"
rc2=0
SMTPC_SUPERLOOP_EXAMPLE=$W/superloop bash "$R/tests/integration/73_superloop.sh" || rc2=$?
[ "$rc2" = 0 ] || [ "$rc2" = 77 ] || exit "$rc2"
[ "$rc" = 0 ] || [ "$rc2" = 0 ] || exit 77
echo "32_minimal_profile: ok"
