#!/usr/bin/env bash
# Certificate checks, end to end: a certificate for another name, an expired
# one, a self-signed one, one from a CA the client does not trust, a pin that
# does not match.  Each must stop smtpc with exit 69 and a message naming
# the reason, and the server (tls_hostile.py, which records every line the
# client sends) must see nothing after STARTTLS: no EHLO, no AUTH, no MAIL.
# --insecure-skip-verify is the one way through.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

W=$(harness_tmpdir tls41)
tls_certs "$W/certs" || exit $?
printf 'From: sender@example.org\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\nMessage-ID: <cert@smtpc.test>\r\nSubject: cert test\r\n\r\nbody\r\n' >"$W/msg.eml"
export SMTPC_T41_PW='cert-test-password'
USER_OPTS=(--user alice@example.org --password-env SMTPC_T41_PW)

# refused CERT "reason" ARGS...: the hostile server in scenario "good" with
# certs/CERT.pem; smtpc must exit 69, print the reason, send nothing after
# STARTTLS, and never send AUTH or MAIL.
refused() {
    local cert=$1 reason=$2 name=$3
    shift 3
    step "$name: exit 69, \"$reason\""
    start_hostile "$W/h.$name" good --password "$SMTPC_T41_PW" \
        --cert "$CERTS/$cert.pem" --key "$CERTS/$cert.key" "$@"
    run_smtpc "$W/$name.out" "$W/$name.err" --server "localhost:$HOSTILE_PORT" \
        --from sender@example.org "${SMTPC_ARGS[@]}" rcpt@example.com <"$W/msg.eml"
    expect_rc 69 "$name" "$W/$name.err"
    grep -qF -- "$reason" "$W/$name.err" || {
        sed 's/^/  stderr: /' "$W/$name.err" >&2
        fail "$name: the message does not say \"$reason\""
    }
    for verb in AUTH MAIL RCPT DATA; do
        if hostile_sent "$verb"; then
            sed 's/^/  transcript: /' "$HOSTILE_DIR/transcript" >&2
            fail "$name: the client sent $verb"
        fi
    done
    # Nothing at all after STARTTLS (implicit: nothing at all).
    local after
    case " $* " in
        *" --implicit-tls "*) after=$(hostile_client_lines) ;;
        *) hostile_sent STARTTLS || fail "$name: the client never sent STARTTLS"
           after=$(hostile_client_lines | sed '1,/^STARTTLS$/d') ;;
    esac
    if [ -n "$after" ]; then
        sed 's/^/  transcript: /' "$HOSTILE_DIR/transcript" >&2
        fail "$name: the client went on after a failed handshake"
    fi
    hostile_events | grep -q '^tls up' && fail "$name: the server saw a completed handshake"
    grep -qF -- "$SMTPC_T41_PW" "$W/$name.err" && fail "$name: password in output"
    stop_hostile
}

CA=(--cafile "$CERTS/ca.pem")

SMTPC_ARGS=(--tls starttls "${CA[@]}" "${USER_OPTS[@]}" -v)
refused wrong 'hostname mismatch' wrong-name
refused expired 'certificate has expired' expired
refused selfsigned 'self-signed certificate' self-signed

SMTPC_ARGS=(--tls starttls "${USER_OPTS[@]}")
refused good 'unable to get local issuer certificate' system-store

SMTPC_ARGS=(--tls starttls "${CA[@]}" --pin-sha256 "$OTHER_PIN" "${USER_OPTS[@]}")
refused good 'public key pin mismatch' pin-mismatch

# --tls auto without credentials: STARTTLS is offered, so it is used, and a
# bad certificate ends the session; no fallback to plaintext.
SMTPC_ARGS=("${CA[@]}")
refused selfsigned 'self-signed certificate' auto-no-credentials

SMTPC_ARGS=(--tls implicit "${CA[@]}" "${USER_OPTS[@]}")
refused wrong 'hostname mismatch' implicit-wrong-name --implicit-tls

# ------------------------------------------------------------------ accepted
accepted() {   # accepted NAME CERT ARGS...: delivered through tls_hostile
    local name=$1 cert=$2
    shift 2
    start_hostile "$W/h.$name" good --password "$SMTPC_T41_PW" \
        --cert "$CERTS/$cert.pem" --key "$CERTS/$cert.key"
    run_smtpc "$W/$name.out" "$W/$name.err" --server "localhost:$HOSTILE_PORT" \
        --from sender@example.org "$@" "${USER_OPTS[@]}" rcpt@example.com <"$W/msg.eml"
    expect_rc 0 "$name" "$W/$name.err"
    [ -f "$HOSTILE_DIR/1.eml" ] && cmp -s "$W/msg.eml" "$HOSTILE_DIR/1.eml" \
        || fail "$name: message not stored as sent"
    hostile_events | grep -q '^auth-ok PLAIN' || fail "$name: no AUTH after TLS"
    stop_hostile
}

step "pin match with the CA: delivered"
accepted pin-match good --tls starttls "${CA[@]}" --pin-sha256 "$GOOD_PIN"
step "pin with curl's sha256// prefix"
accepted pin-prefix good --tls starttls "${CA[@]}" --pin-sha256 "sha256//$GOOD_PIN"
step "--insecure-skip-verify accepts a self-signed certificate"
accepted insecure-self selfsigned --tls starttls --insecure-skip-verify
step "--insecure-skip-verify accepts a certificate for another name"
accepted insecure-wrong wrong --tls starttls --insecure-skip-verify

step "--insecure-skip-verify with a pin that does not match: still refused"
SMTPC_ARGS=(--tls starttls --insecure-skip-verify --pin-sha256 "$OTHER_PIN" "${USER_OPTS[@]}")
refused selfsigned 'public key pin mismatch' insecure-pin-mismatch

# ------------------------------------------------------------------ bad options
step "a --pin-sha256 that is not base64 of 32 bytes: usage error, no connection"
start_hostile "$W/h.badpin" good
run_smtpc "$W/badpin.out" "$W/badpin.err" --server "localhost:$HOSTILE_PORT" \
    --from sender@example.org --tls starttls --pin-sha256 'not-a-pin' rcpt@example.com \
    <"$W/msg.eml"
expect_rc 64 "bad pin" "$W/badpin.err"
grep -q 'pin-sha256' "$W/badpin.err" || fail "bad pin: message does not name --pin-sha256"
[ -s "$HOSTILE_DIR/transcript" ] && grep -q 'connect' "$HOSTILE_DIR/transcript" \
    && fail "bad pin: smtpc connected anyway"

step "a --cafile that does not exist: config error, no connection"
run_smtpc "$W/nocafile.out" "$W/nocafile.err" --server "localhost:$HOSTILE_PORT" \
    --from sender@example.org --tls starttls --cafile "$W/nonexistent.pem" rcpt@example.com \
    <"$W/msg.eml"
[ "$RC" = 78 ] || {
    sed 's/^/  stderr: /' "$W/nocafile.err" >&2
    fail "missing --cafile: exit $RC"
}
grep -q 'cafile' "$W/nocafile.err" || fail "missing --cafile: message does not name it"
grep -q 'connect' "$HOSTILE_DIR/transcript" && fail "missing cafile: smtpc connected anyway"
stop_hostile

echo "41_tls_certs OK"
