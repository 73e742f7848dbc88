#!/usr/bin/env bash
# examples/netxduo/starttls_send.c, a NetX Duo application, sends through
# STARTTLS (mbedTLS over the NetX Duo transport) to aiosmtpd, which
# requires TLS before AUTH and mail: the mail arrives over TLS,
# authenticated, byte for byte.  The application runs unchanged on NetX
# Duo's RAM network; tests/netxduo/sample_harness.c adds the server side
# (its 1.2.3.4:587, relayed to aiosmtpd on loopback).
# Skips (77) without ThreadX/NetX Duo sources, mbedTLS, aiosmtpd or openssl.
set -euo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"

EX=$SMTPC_BUILD/netx_starttls
if [ ! -x "$EX" ]; then
    echo "SKIP: $EX not built: no ThreadX/NetX Duo sources (THREADX_DIR, NETXDUO_DIR," \
         "or ../shared/third_party next to the source tree)"
    exit 77
fi
. "$SMTPC_ROOT/tests/servers/lib.sh"


W=$(harness_tmpdir netx-tls)
rc=0
tls_certs "$W/certs" || rc=$?
[ "$rc" = 0 ] || exit "$rc"
C=$W/certs
rc=0
start_aiosmtpd "$W/aio" --tls-cert "$C/good.pem" --tls-key "$C/good.key" \
    --auth 'myusername:mypassword' --auth-require-tls --require-starttls --auth-required || rc=$?
[ "$rc" = 0 ] || exit "$rc"

step "NetX Duo application, STARTTLS by mbedTLS over NetX Duo"
# The example trusts ca.pem in its working directory.
(cd "$C" && SMTPC_RELAY_HOST=127.0.0.1 SMTPC_RELAY_PORT=$AIO_PORT SMTPC_NETX_PORT=587 \
    timeout 150 "$EX") >"$W/out" 2>&1 || { cat "$W/out" >&2; fail "the example's process failed"; }
cat "$W/out"
if grep -q 'status 0xb6' "$W/out"; then
    echo "SKIP: no TLS backend (mbedTLS) in the NetX Duo build"
    exit 77
fi
grep -q '^mail: status 0x00, last reply 250$' "$W/out" || fail "status: $(cat "$W/out")"
aio_wait_count 1
[ "$(aio_json_get 1 tls)" = true ] || fail "not over TLS"
[ "$(aio_json_get 1 login)" = myusername ] || fail "not authenticated"
[ "$(aio_json_get 1 auth_mechanism)" = PLAIN ] || fail "mechanism"
"$HARNESS_PY" -c '
import sys
d = open(sys.argv[1], "rb").read().partition(b"\r\n\r\n")[2]
want = (b"This message crossed NetX Duo'"'"'s TCP stack inside TLS.\r\n"
        b". A line starting with a dot arrives intact.\r\n")
sys.exit(0 if d == want else "body differs: %r" % d)' "$AIO_DIR/1.eml"
echo "83_netx_starttls: ok"
