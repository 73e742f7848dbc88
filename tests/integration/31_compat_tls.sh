#!/usr/bin/env bash
# The compat API's TLS extension (nx_smtp_client_tls_set) against aiosmtpd:
#   - STARTTLS required by the server for AUTH and mail: delivered, byte-exact,
#     authenticated, over TLS; with the certificate name given separately
#     from the address (the shim path) too;
#   - implicit TLS;
#   - an untrusted CA and a wrong certificate name: NX_SMTP_TLS_CERT_ERROR,
#     nothing stored;
#   - a server without STARTTLS: NX_SMTP_TLS_UNAVAILABLE, no AUTH, nothing
#     stored.
# Skips (77) without aiosmtpd, openssl, or a TLS backend in the build.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"

EX=$SMTPC_BUILD/example_netx_style_send
[ -x "$EX" ] || fail "$EX not built"
W=$(harness_tmpdir compat-tls)
tls_certs "$W/certs" || exit $?
C=$CERTS

printf 'over TLS\n.\n..\nlast' >"$W/body"
printf 'over TLS\r\n.\r\n..\r\nlast\r\n' >"$W/body.expect"

# body_of FILE: what follows the header block.
body_of() {
    "$PY" -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(d.partition(b"\r\n\r\n")[2])' "$1"
}

export SMTP_PASSWORD='tls pass'
send() {   # send OUT [options...]
    local out=$1
    shift
    "$EX" -f sender@example.com -t test@smtpc.test -d example.com -b "$W/body" "$@" \
        >"$out" 2>&1
}

# ------------------------------------------------------------------ STARTTLS
step "STARTTLS required, AUTH PLAIN after TLS"
rc=0
start_aiosmtpd "$W/st" --tls-cert "$C/good.pem" --tls-key "$C/good.key" \
    --auth 'netx:tls pass' --auth-require-tls --require-starttls --auth-required || rc=$?
[ "$rc" = 0 ] || exit "$rc"
ST_PORT=$AIO_PORT ST_DIR=$AIO_DIR
if ! send "$W/o1" -u netx -a plain -T starttls -C "$C/ca.pem" 127.0.0.1 "$ST_PORT"; then
    grep -q 'tls_set: status 0xb6' "$W/o1" && { echo "no TLS backend: skipped"; exit 77; }
    cat "$W/o1" >&2
    fail "STARTTLS send"
fi
aio_wait_count 1
[ "$(aio_json_get 1 tls)" = true ] || fail "STARTTLS: not over TLS"
[ "$(aio_json_get 1 login)" = netx ] || fail "STARTTLS: not authenticated"
body_of "$ST_DIR/1.eml" | cmp - "$W/body.expect" || fail "STARTTLS: body differs"

step "STARTTLS, certificate name given apart from the address"
send "$W/o2" -u netx -a login -T starttls -N localhost -C "$C/ca.pem" 127.0.0.1 "$ST_PORT" \
    || { cat "$W/o2" >&2; fail "STARTTLS -N localhost"; }
aio_wait_count 2
[ "$(aio_json_get 2 auth_mechanism)" = LOGIN ] || fail "-N: mechanism"

step "untrusted CA: NX_SMTP_TLS_CERT_ERROR, nothing stored"
if send "$W/o3" -u netx -a plain -T starttls -C "$C/other-ca.pem" 127.0.0.1 "$ST_PORT"; then
    fail "untrusted CA accepted"
fi
grep -q '^mail 1: status 0xb5' "$W/o3" || fail "untrusted CA: $(cat "$W/o3")"

step "wrong certificate name: NX_SMTP_TLS_CERT_ERROR"
if send "$W/o4" -u netx -a plain -T starttls -N mail.example.net -C "$C/ca.pem" \
    127.0.0.1 "$ST_PORT"; then
    fail "wrong name accepted"
fi
grep -q '^mail 1: status 0xb5' "$W/o4" || fail "wrong name: $(cat "$W/o4")"
sleep 1
[ "$(aio_count "$ST_DIR")" = 2 ] || fail "a refused certificate still delivered"

# ------------------------------------------------------------------ implicit
step "implicit TLS"
start_aiosmtpd "$W/imp" --tls-cert "$C/good.pem" --tls-key "$C/good.key" \
    --implicit-tls --auth 'netx:tls pass'
send "$W/o5" -u netx -a plain -T implicit -C "$C/ca.pem" 127.0.0.1 "$AIO_PORT" \
    || { cat "$W/o5" >&2; fail "implicit TLS"; }
aio_wait_count 1
[ "$(aio_json_get 1 tls)" = true ] || fail "implicit: not over TLS"
body_of "$AIO_DIR/1.eml" | cmp - "$W/body.expect" || fail "implicit: body differs"

# ------------------------------------------------------------------ downgrade
step "no STARTTLS offered: NX_SMTP_TLS_UNAVAILABLE, no AUTH, nothing stored"
start_aiosmtpd "$W/plain" --auth 'netx:tls pass'
if send "$W/o6" -u netx -a plain -T starttls -C "$C/ca.pem" 127.0.0.1 "$AIO_PORT"; then
    fail "sent without TLS"
fi
grep -q '^mail 1: status 0xb3' "$W/o6" || fail "no STARTTLS: $(cat "$W/o6")"
sleep 1
[ "$(aio_count)" = 0 ] || fail "no STARTTLS: a message was stored"
grep -q ">> b'AUTH" "$AIO_LOG" && fail "no STARTTLS: AUTH was attempted"

echo "31_compat_tls: ok"
