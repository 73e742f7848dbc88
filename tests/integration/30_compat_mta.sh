#!/usr/bin/env bash
# The NetX Duo compatible API (nx_smtp_mail_send, through
# examples/netx_style_send.c) against real servers on loopback:
#   - a private Postfix delivering into a Maildir: the body with lines ".",
#     "..", ".x", bare LF, bare CR and no final newline arrives byte for byte
#     (CRLF-normalised), under exactly the header block smtpc writes;
#   - aiosmtpd with AUTH PLAIN and LOGIN: same body, the right mechanism and
#     login, a wrong password refused with NX_SMTP_AUTHENTICATION_ERROR;
#   - one client reused for two mails (two sessions, distinct Message-IDs);
#   - a subject carrying "\r\nBcc:" refused with nothing sent.
# Skips (77) only when neither server can run here.  SMTPC_COMPAT_EXAMPLE
# names another build of the example (32_minimal_profile.sh: the minimal
# profile).
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"

EX=${SMTPC_COMPAT_EXAMPLE:-$SMTPC_BUILD/example_netx_style_send}
[ -x "$EX" ] || fail "$EX not built"
W=$(harness_tmpdir compat)

# The hard body, and what must arrive: every line end CRLF, one CRLF added
# at the end (there is none), nothing else changed.
printf '.\r\n..\r\n.x\nbare LF above\rbare CR above\r.after CR\n...\n\n\r\nlast line, no newline' \
    >"$W/body"
crlf_normalise "$W/body" "$W/body.expect"

# check_message FILE SUBJECT PRIORITY: FILE (CRLF, as sent) is exactly the
# header block smtpc writes followed by the expected body.
check_message() {
    "$PY" - "$1" "$W/body.expect" "$2" "$3" <<'EOF'
import re, sys
msg = open(sys.argv[1], "rb").read()
body = open(sys.argv[2], "rb").read()
subject, prio = sys.argv[3].encode(), sys.argv[4].encode()
head, sep, got = msg.partition(b"\r\n\r\n")
assert sep, "no end of header"
lines = head.split(b"\r\n")
want = [
    b"To: test@smtpc.test",
    b"From: sender@example.com",
    b"Subject: " + subject,
    re.compile(rb"Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000"),
    re.compile(rb"Message-ID: <[0-9a-f]+\.\d+\.[0-9a-f]{8}@example\.com>"),
    b"X-Priority: " + prio,
    b"MIME-Version: 1.0",
    b'Content-Type: text/plain; charset="utf-8"',
    b"Content-Transfer-Encoding: 8bit",
]
assert len(lines) == len(want), (lines, "header count")
for l, w in zip(lines, want):
    ok = w.fullmatch(l) if hasattr(w, "fullmatch") else l == w
    assert ok, (l, w)
if got != body:
    sys.stderr.write("body differs:\n got  %r\n want %r\n" % (got, body))
    sys.exit(1)
EOF
}

# send OUT [example options...]: runs the example; its output in OUT.
send() {
    local out=$1
    shift
    "$EX" -f sender@example.com -t test@smtpc.test -d example.com "$@" >"$out" 2>&1
}

ran=0

# ------------------------------------------------------------------ Postfix
step "Postfix: hard body, byte-exact, header block"
if harness_started start_mta "$W/maildir"; then
    ran=1
    send "$W/out" -s "compat dots" -p high -b "$W/body" 127.0.0.1 "$MTA_PORT" \
        || { cat "$W/out" >&2; fail "send through Postfix"; }
    grep -q '^mail 1: status 0x00, last reply 250$' "$W/out" || fail "status: $(cat "$W/out")"
    mta_wait_delivery 1
    [ "$(mta_recipient "$(mta_messages | head -n 1)")" = test@smtpc.test ] || fail "recipient"
    mta_strip_trace --crlf "$(mta_messages | head -n 1)" >"$W/mta.got"
    check_message "$W/mta.got" "compat dots" 1 || fail "Postfix: message differs"

    step "Postfix: one client, two mails"
    send "$W/out" -s "twice" -n 2 -b "$W/body" 127.0.0.1 "$MTA_PORT" \
        || { cat "$W/out" >&2; fail "two sends"; }
    [ "$(grep -c 'status 0x00, last reply 250$' "$W/out")" = 2 ] || fail "two sends: $(cat "$W/out")"
    mta_wait_delivery 3
    ids=$(for f in $(mta_messages | tail -n 2); do grep -i '^Message-ID:' "$f"; done | sort -u | wc -l)
    [ "$ids" = 2 ] || fail "two sends: Message-IDs not distinct"
    for f in $(mta_messages | tail -n 2); do
        mta_strip_trace --crlf "$f" >"$W/mta2.got"
        check_message "$W/mta2.got" "twice" 3 || fail "second-client message differs"
    done

    step "Postfix: subject with CRLF injection refused, nothing sent"
    if send "$W/out" -s $'Hi\r\nBcc: victim@smtpc.test' -b "$W/body" 127.0.0.1 "$MTA_PORT"; then
        fail "injection accepted"
    fi
    grep -q '^mail 1: status 0xa5' "$W/out" || fail "injection: $(cat "$W/out")"
    sleep 1
    [ "$(mta_count)" = 3 ] || fail "injection: something was delivered"
    [ -z "$(mta_messages_for victim@smtpc.test)" ] || fail "injection: victim got mail"
fi

# ------------------------------------------------------------------ aiosmtpd
step "aiosmtpd: AUTH PLAIN"
if harness_started start_aiosmtpd "$W/aio" --auth 'netx:pa ss:1'; then
    ran=1
    export SMTP_PASSWORD='pa ss:1'
    send "$W/out" -u netx -a plain -s "plain" -b "$W/body" 127.0.0.1 "$AIO_PORT" \
        || { cat "$W/out" >&2; fail "AUTH PLAIN send"; }
    aio_wait_count 1
    [ "$(aio_json_get 1 auth_mechanism)" = PLAIN ] || fail "PLAIN: mechanism"
    [ "$(aio_json_get 1 login)" = netx ] || fail "PLAIN: login"
    [ "$(aio_json_get 1 mail_from)" = sender@example.com ] || fail "PLAIN: mail_from"
    [ "$(aio_json_get 1 rcpt_tos)" = test@smtpc.test ] || fail "PLAIN: rcpt"
    [ "$(aio_json_get 1 helo)" = example.com ] || fail "PLAIN: EHLO name"
    check_message "$AIO_DIR/1.eml" plain 3 || fail "PLAIN: message differs"

    step "aiosmtpd: AUTH LOGIN, low priority"
    send "$W/out" -u netx -a login -s "login" -p low -b "$W/body" 127.0.0.1 "$AIO_PORT" \
        || { cat "$W/out" >&2; fail "AUTH LOGIN send"; }
    aio_wait_count 2
    [ "$(aio_json_get 2 auth_mechanism)" = LOGIN ] || fail "LOGIN: mechanism"
    [ "$(aio_json_get 2 login)" = netx ] || fail "LOGIN: login"
    check_message "$AIO_DIR/2.eml" login 5 || fail "LOGIN: message differs"

    step "aiosmtpd: one client, two mails with AUTH"
    send "$W/out" -u netx -a plain -s "again" -n 2 -b "$W/body" 127.0.0.1 "$AIO_PORT" \
        || { cat "$W/out" >&2; fail "two sends"; }
    aio_wait_count 4
    for n in 3 4; do
        [ "$(aio_json_get $n login)" = netx ] || fail "reuse: mail $n not authenticated"
        check_message "$AIO_DIR/$n.eml" again 3 || fail "reuse: mail $n differs"
    done

    step "aiosmtpd: wrong password -> NX_SMTP_AUTHENTICATION_ERROR, nothing stored"
    export SMTP_PASSWORD='wrong'
    if send "$W/out" -u netx -a plain -b "$W/body" 127.0.0.1 "$AIO_PORT"; then
        fail "wrong password accepted"
    fi
    grep -q '^mail 1: status 0xa0, last reply 535$' "$W/out" || fail "wrong password: $(cat "$W/out")"
    sleep 1
    [ "$(aio_count)" = 4 ] || fail "wrong password: a message was stored"
fi

[ "$ran" = 1 ] || exit 77
echo "30_compat_mta: ok"
