#!/usr/bin/env bash
# Self-test of the test-server harness (tests/servers/lib.sh), with swaks as
# the client: every server starts on loopback, receives a message, stores it
# where the helpers look, and is gone after the script.  smtpc is not used.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"

command -v swaks >/dev/null || { echo "swaks missing"; exit 77; }

W=$(harness_tmpdir work)

# A message with lines that need dot-stuffing, CRLF line ends, no trailing
# blank line: what the servers store must be exactly this (modulo LF/CRLF).
printf '%s\r\n' \
    "From: Harness <harness@example.org>" \
    "To: Test <test@localhost>" \
    "Subject: harness self-test" \
    "Message-ID: <harness-selftest@example.org>" \
    "" \
    "first line" \
    ".a line starting with a dot" \
    ".." \
    "." \
    " .not at the start" \
    "last line" >"$W/msg.eml"

# swaks dot-stuffs the data and ends it with CRLF.CRLF, after adding a CRLF
# of its own when the data ends with one: give it the message without its
# last CRLF.  (--no-data-fixup would turn dot-stuffing off too.)
head -c -2 "$W/msg.eml" >"$W/msg.swaks"

swaks_send() {   # swaks_send SERVER_PORT [swaks options...]: send msg.eml
    local port=$1
    shift
    swaks --server "$(harness_hostport "$port")" --from harness@example.org \
        --to test@localhost --data "@$W/msg.swaks" \
        --timeout 20 "$@" >"$W/swaks.log" 2>&1 || {
        cat "$W/swaks.log" >&2
        return 1
    }
}

# ------------------------------------------------------------ smtp-sink
step "smtp-sink"
start_sink "$W/sink"
echo "sink on port $SINK_PORT"
swaks_send "$SINK_PORT" || fail "swaks to smtp-sink"
grep -q '^<-  250-PIPELINING' "$W/swaks.log" || fail "smtp-sink does not offer PIPELINING"
sink_wait_count 1
f=$(sink_files | head -n 1)
sink_strip --crlf "$f" >"$W/sink.out"
cmp "$W/msg.eml" "$W/sink.out" || fail "smtp-sink stored something else"
grep -q '^X-Rcpt-Args: <test@localhost>' "$f" || fail "smtp-sink envelope"
stop_sink
kill -0 "$SINK_PID" 2>/dev/null && fail "smtp-sink still running" || true

# ------------------------------------------------------------ aiosmtpd
step "aiosmtpd, no AUTH"
start_aiosmtpd "$W/aio0"
swaks_send "$AIO_PORT" || fail "swaks to aiosmtpd"
grep -q '250-AUTH' "$W/swaks.log" && fail "AUTH offered without --auth"
aio_wait_count 1
cmp "$W/msg.eml" "$W/aio0/1.eml" || fail "aiosmtpd stored something else"
[ "$(aio_json_get 1 mail_from)" = harness@example.org ] || fail "mail_from"
[ "$(aio_json_get 1 rcpt_tos)" = test@localhost ] || fail "rcpt_tos"
[ "$(aio_json_get 1 login)" = "" ] || fail "login without AUTH"
stop_aiosmtpd

step "aiosmtpd, AUTH PLAIN and LOGIN, SMTPUTF8"
start_aiosmtpd "$W/aio1" --auth alice:'s3cr3t pa:ss' --smtputf8
swaks_send "$AIO_PORT" --auth PLAIN --auth-user alice --auth-password 's3cr3t pa:ss' \
    || fail "AUTH PLAIN"
grep -q '^<-  250-SMTPUTF8' "$W/swaks.log" || fail "SMTPUTF8 not offered"
swaks_send "$AIO_PORT" --auth LOGIN --auth-user alice --auth-password 's3cr3t pa:ss' \
    || fail "AUTH LOGIN"
if swaks_send "$AIO_PORT" --auth PLAIN --auth-user alice --auth-password wrong 2>/dev/null; then
    fail "a wrong password was accepted"
fi
grep -q '^<\*\* 535 ' "$W/swaks.log" || fail "no 535 for a wrong password"
aio_wait_count 2
[ "$(aio_count)" = 2 ] || fail "a message was stored after failed AUTH"
[ "$(aio_json_get 1 login)" = alice ] && [ "$(aio_json_get 1 auth_mechanism)" = PLAIN ] \
    || fail "AUTH PLAIN not recorded"
[ "$(aio_json_get 2 login)" = alice ] && [ "$(aio_json_get 2 auth_mechanism)" = LOGIN ] \
    || fail "AUTH LOGIN not recorded"
cmp "$W/msg.eml" "$W/aio1/2.eml" || fail "aiosmtpd stored something else"
stop_aiosmtpd

step "aiosmtpd, STARTTLS and implicit TLS"
if swaks --help 2>&1 | grep -q tls-on-connect && perl -MNet::SSLeay -e1 2>/dev/null; then
    tls_certs "$W/certs"
    start_aiosmtpd "$W/aio2" --tls-cert "$CERTS/good.pem" --tls-key "$CERTS/good.key" \
        --auth bob:pw --auth-require-tls
    swaks_send "$AIO_PORT" --quit-after EHLO || fail "EHLO"
    grep -q '250-STARTTLS' "$W/swaks.log" || fail "STARTTLS not offered"
    grep -q '250-AUTH' "$W/swaks.log" && fail "AUTH offered before TLS"
    swaks_send "$AIO_PORT" --tls --tls-verify --tls-ca-path "$CERTS/ca.pem" \
        --auth PLAIN --auth-user bob --auth-password pw || fail "STARTTLS + AUTH"
    aio_wait_count 1
    [ "$(aio_json_get 1 tls)" = true ] && [ "$(aio_json_get 1 login)" = bob ] \
        || fail "TLS/AUTH not recorded"
    if swaks_send "$AIO_PORT" --tls --tls-verify --tls-ca-path "$CERTS/other-ca.pem" 2>/dev/null; then
        fail "a certificate from another CA was accepted"
    fi
    stop_aiosmtpd
    start_aiosmtpd "$W/aio3" --tls-cert "$CERTS/good.pem" --tls-key "$CERTS/good.key" \
        --implicit-tls --auth bob:pw
    swaks_send "$AIO_PORT" --tls-on-connect --tls-verify --tls-ca-path "$CERTS/ca.pem" \
        --auth LOGIN --auth-user bob --auth-password pw || fail "implicit TLS"
    grep -q '250-STARTTLS' "$W/swaks.log" && fail "STARTTLS offered inside TLS"
    aio_wait_count 1
    [ "$(aio_json_get 1 tls)" = true ] || fail "implicit TLS not recorded"
    cmp "$W/msg.eml" "$W/aio3/1.eml" || fail "aiosmtpd (TLS) stored something else"
    stop_aiosmtpd
else
    echo "(skipped: swaks without TLS support, install libnet-ssleay-perl)"
fi

# ------------------------------------------------------------ Postfix
step "Postfix MTA"
if harness_started start_mta "$W/mta"; then
    echo "mta on port $MTA_PORT"
    swaks_send "$MTA_PORT" --to test@localhost,Other@Example.COM || fail "swaks to Postfix"
    for kw in PIPELINING 8BITMIME SMTPUTF8 CHUNKING; do
        grep -Eq "^<-  250[- ]$kw" "$W/swaks.log" || fail "Postfix does not offer $kw"
    done
    mta_wait_delivery 2
    [ "$(mta_count)" = 2 ] || fail "expected 2 deliveries, have $(mta_count)"
    f=$(mta_messages_for test@localhost)
    [ -n "$f" ] || fail "nothing for test@localhost"
    mta_strip_trace --crlf "$f" >"$W/mta.out"
    cmp "$W/msg.eml" "$W/mta.out" || {
        diff <(cat -A "$W/msg.eml") <(cat -A "$W/mta.out") >&2 || true
        fail "Postfix delivered something else"
    }
    [ -n "$(mta_messages_for other@example.com)" ] || fail "nothing for Other@Example.COM"
    cfg=$MTA_CONFIG
    mta_stop
    [ -z "$(_harness_postfix_pids "$cfg")" ] || fail "Postfix processes left"
fi

echo "harness OK"
