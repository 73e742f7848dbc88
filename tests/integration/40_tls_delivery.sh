#!/usr/bin/env bash
# TLS delivery through real servers (aiosmtpd): STARTTLS + AUTH, implicit
# TLS + AUTH, trust from --cafile / --capath, a public key pin, IP literals;
# every message compared byte for byte, and the -v dialogue checked for the
# password.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

W=$(harness_tmpdir tls40)
tls_certs "$W/certs" || exit $?

# CRLF lines, lines that need dot-stuffing, 8-bit-free, ends with CRLF: what
# the server stores must be exactly these bytes.
printf '%s\r\n' \
    "From: TLS test <sender@example.org>" \
    "Date: Tue, 1 Dec 2026 12:00:00 +0000" \
    "Message-ID: <tls@smtpc.test>" \
    "To: <rcpt@example.com>" \
    "Subject: smtpc over TLS" \
    "" \
    "first line" \
    ".a line starting with a dot" \
    "." \
    ".." \
    "last line" >"$W/msg.eml"

# A password with characters that matter in PLAIN and in shells.
export SMTPC_T40_PW='s3cr3t P@ss:w0rd%'
PW_B64_PLAIN=$(printf '\0alice\0%s' "$SMTPC_T40_PW" | base64 -w0)

# no_secret_in FILE: neither the password nor its PLAIN encoding appear.
no_secret_in() {
    if grep -qF -- "$SMTPC_T40_PW" "$1" || grep -qF -- "$PW_B64_PLAIN" "$1"; then
        sed 's/^/  stderr: /' "$1" >&2
        fail "the password appears in $1"
    fi
}

# delivered N DIR: message N in DIR is msg.eml, byte for byte.
delivered() {
    AIO_DIR=$2 aio_wait_count "$1" 10 || fail "message $1 not stored"
    cmp "$W/msg.eml" "$2/$1.eml" || {
        diff <(cat -A "$W/msg.eml") <(cat -A "$2/$1.eml") >&2 || true
        fail "message $1 differs from what was sent"
    }
}

send() {   # send OUT-PREFIX ARGS...: smtpc with msg.eml on stdin
    local p=$1
    shift
    run_smtpc "$W/$p.out" "$W/$p.err" --from sender@example.org "$@" \
        rcpt@example.com <"$W/msg.eml"
}

# ------------------------------------------------------------------ STARTTLS
step "STARTTLS, AUTH only after TLS, mail only after AUTH (aiosmtpd)"
start_aiosmtpd "$W/st" --tls-cert "$CERTS/good.pem" --tls-key "$CERTS/good.key" \
    --auth "alice:$SMTPC_T40_PW" --auth-require-tls --require-starttls --auth-required
send st1 --server "localhost:$AIO_PORT" --tls starttls --cafile "$CERTS/ca.pem" \
    --user alice --password-env SMTPC_T40_PW -v
expect_rc 0 "--tls starttls" "$W/st1.err"
delivered 1 "$W/st"
[ "$(aio_json_get 1 tls)" = true ] || fail "aiosmtpd did not see TLS"
[ "$(aio_json_get 1 login)" = alice ] || fail "aiosmtpd did not see alice log in"
grep -q 'STARTTLS' "$W/st1.err" || fail "-v does not show STARTTLS"
no_secret_in "$W/st1.err"
no_secret_in "$W/st1.out"

step "--tls auto (the default) on a server that offers STARTTLS, with --json"
send st2 --server "localhost:$AIO_PORT" --cafile "$CERTS/ca.pem" \
    --user alice --password-env SMTPC_T40_PW -v --json
expect_rc 0 "--tls auto" "$W/st2.err"
delivered 2 "$W/st"
[ "$(aio_json_get 2 tls)" = true ] || fail "auto did not use STARTTLS"
grep -q 'TLSv1\.[23]' "$W/st2.out" || {
    cat "$W/st2.out" >&2
    fail "--json does not name the TLS version"
}
no_secret_in "$W/st2.err"
no_secret_in "$W/st2.out"

step "IP literal 127.0.0.1 checked against the certificate's IP address"
if [ "$HARNESS_ADDR" = 127.0.0.1 ]; then
    send st3 --server "127.0.0.1:$AIO_PORT" --tls starttls --cafile "$CERTS/ca.pem" \
        --user alice --password-env SMTPC_T40_PW
    expect_rc 0 "--server 127.0.0.1" "$W/st3.err"
    delivered 3 "$W/st"
fi

step "wrong password over TLS: 77, nothing stored"
export SMTPC_T40_BAD='not the password'
n=$(aio_count "$W/st")
send st4 --server "localhost:$AIO_PORT" --tls starttls --cafile "$CERTS/ca.pem" \
    --user alice --password-env SMTPC_T40_BAD -v
expect_rc 77 "wrong password" "$W/st4.err"
grep -qF 'not the password' "$W/st4.err" && fail "the wrong password appears in -v"
sleep 0.2
[ "$(aio_count "$W/st")" = "$n" ] || fail "a message was stored after a failed AUTH"
stop_aiosmtpd

# ------------------------------------------------------------------ implicit
step "implicit TLS + AUTH (aiosmtpd)"
start_aiosmtpd "$W/im" --tls-cert "$CERTS/good.pem" --tls-key "$CERTS/good.key" \
    --implicit-tls --auth "alice:$SMTPC_T40_PW" --auth-required
send im1 --server "localhost:$AIO_PORT" --tls implicit --cafile "$CERTS/ca.pem" \
    --user alice --password-env SMTPC_T40_PW -v
expect_rc 0 "--tls implicit" "$W/im1.err"
delivered 1 "$W/im"
[ "$(aio_json_get 1 tls)" = true ] && [ "$(aio_json_get 1 login)" = alice ] \
    || fail "implicit: TLS or login not recorded"
grep -q 'STARTTLS' "$W/im1.err" && fail "STARTTLS sent inside implicit TLS"
no_secret_in "$W/im1.err"

step "implicit TLS, trust from --capath, with a matching --pin-sha256"
send im2 --server "localhost:$AIO_PORT" --tls implicit --capath "$CERTS/capath" \
    --pin-sha256 "$GOOD_PIN" --user alice --password-env SMTPC_T40_PW
expect_rc 0 "--capath + --pin-sha256" "$W/im2.err"
delivered 2 "$W/im"

step "password from a file"
printf '%s\n' "$SMTPC_T40_PW" >"$W/pwfile"
chmod 600 "$W/pwfile"
send im3 --server "localhost:$AIO_PORT" --tls implicit --cafile "$CERTS/ca.pem" \
    --user alice --password-file "$W/pwfile" -v
expect_rc 0 "--password-file" "$W/im3.err"
delivered 3 "$W/im"
no_secret_in "$W/im3.err"
stop_aiosmtpd

# ------------------------------------------------------------------ IPv6
step "STARTTLS over IPv6 to [::1] (name check on the IPv6 address)"
if [ -n "$(ip -6 addr show lo 2>/dev/null | grep '::1')" ]; then
    HARNESS_ADDR=::1 start_aiosmtpd "$W/v6" --tls-cert "$CERTS/good.pem" \
        --tls-key "$CERTS/good.key" --auth "alice:$SMTPC_T40_PW" --auth-require-tls
    send v61 --server "[::1]:$AIO_PORT" --tls starttls --cafile "$CERTS/ca.pem" \
        --user alice --password-env SMTPC_T40_PW
    expect_rc 0 "[::1]" "$W/v61.err"
    delivered 1 "$W/v6"
    stop_aiosmtpd
else
    echo "(no ::1 here: skipped)"
fi

echo "40_tls_delivery OK"
