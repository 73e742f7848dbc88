#!/usr/bin/env bash
# examples/superloop.c: several sessions at once from one poll() loop, no
# threads, the engine driven directly over non-blocking sockets.
#   1. Postfix's smtp-sink (PIPELINING): 6 sessions x 3 mails; every mail
#      arrives exactly once, sessions overlap.
#   2. aiosmtpd with AUTH required (no PIPELINING): 4 sessions x 2 mails,
#      each stored byte for byte as generated (dot-stuffing undone), each
#      authenticated; a wrong password fails every session, nothing stored.
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"

# SMTPC_SUPERLOOP_EXAMPLE names another build (32_minimal_profile.sh).
EX=${SMTPC_SUPERLOOP_EXAMPLE:-$SMTPC_BUILD/example_superloop}
[ -x "$EX" ] || fail "$EX not built"
W=$(harness_tmpdir superloop)

# expected S M: the message superloop.c sends as mail M of session S.
expected() {
    printf '%s\r\n' "From: <superloop@example.org>" "To: <rcpt@example.com>" \
        "Subject: superloop session $1 mail $2" "X-Superloop: session $1 mail $2" "" \
        "Mail $2 of session $1, sent from a poll() superloop." \
        ".this line starts with a dot" "last line"
}

# ---------------------------------------------------------------- smtp-sink
step "smtp-sink: 6 sessions x 3 mails, pipelined"
start_sink "$W/sink" || exit $?
"$EX" -n 6 -m 3 -T 20 127.0.0.1 "$SINK_PORT" >"$W/sink.out" 2>&1
rc=$?
cat "$W/sink.out"
[ "$rc" = 0 ] || fail "superloop exit $rc against smtp-sink"
grep -qx 'superloop: 18 of 18 mails accepted, [0-9]* sessions at once' "$W/sink.out" \
    || fail "summary line missing"
at_once=$(sed -n 's/^superloop: .*, \([0-9]*\) sessions at once$/\1/p' "$W/sink.out")
[ "$at_once" -ge 2 ] || fail "sessions did not overlap (at most $at_once with a mail in flight)"
sink_wait_count 18 10 || fail "smtp-sink did not store 18 messages"
[ "$(sink_count)" = 18 ] || fail "smtp-sink stored $(sink_count) messages, not 18"
for s in 1 2 3 4 5 6; do
    for m in 1 2 3; do
        n=$(cat $(sink_files) | grep -c "^X-Superloop: session $s mail $m\$")
        [ "$n" = 1 ] || fail "session $s mail $m arrived $n times"
    done
done
# Dot-stuffing survived the pipelined path: the body line is intact.
n=$(cat $(sink_files) | grep -c '^\.this line starts with a dot$')
[ "$n" = 18 ] || fail "the dot line arrived intact in $n of 18 mails"
# Every session sent its commands in one connection each.
[ "$(cat $(sink_files) | grep -c '^X-Helo-Args: superloop.example.org$')" = 18 ] \
    || fail "EHLO name not seen in every mail"
stop_sink

# ---------------------------------------------------------------- aiosmtpd
step "aiosmtpd: 4 sessions x 2 mails with AUTH, byte for byte"
start_aiosmtpd "$W/aio" --auth alice:s3cret --auth-required || exit $?
SMTP_PASSWORD=s3cret "$EX" -n 4 -m 2 -u alice -T 20 127.0.0.1 "$AIO_PORT" >"$W/aio.out" 2>&1
rc=$?
cat "$W/aio.out"
[ "$rc" = 0 ] || fail "superloop exit $rc against aiosmtpd"
grep -qx 'superloop: 8 of 8 mails accepted, [0-9]* sessions at once' "$W/aio.out" \
    || fail "summary line missing"
aio_wait_count 8 10 || fail "aiosmtpd did not store 8 messages"
[ "$(aio_count)" = 8 ] || fail "aiosmtpd stored $(aio_count) messages, not 8"
found=0
for f in "$AIO_DIR"/*.eml; do
    hdr=$(grep -a '^X-Superloop: ' "$f" | tr -d '\r')
    s=$(echo "$hdr" | awk '{print $3}')
    m=$(echo "$hdr" | awk '{print $5}')
    [ -n "$s" ] && [ -n "$m" ] || fail "$(basename "$f"): no X-Superloop header"
    cmp -s "$f" <(expected "$s" "$m") || {
        diff <(cat -A "$f") <(expected "$s" "$m" | cat -A) >&2 || true
        fail "session $s mail $m was not stored as sent"
    }
    [ "$(AIO_DIR=$AIO_DIR aio_json_get "$(basename "${f%.eml}")" login)" = alice ] \
        || fail "session $s mail $m: not authenticated as alice"
    found=$((found + 1))
done
[ "$found" = 8 ] || fail "checked $found messages"
for s in 1 2 3 4; do
    for m in 1 2; do
        n=$(cat "$AIO_DIR"/*.eml | grep -ac "^X-Superloop: session $s mail $m"$'\r'"\$")
        [ "$n" = 1 ] || fail "aiosmtpd: session $s mail $m stored $n times"
    done
done

step "aiosmtpd: a wrong password fails every session, nothing more stored"
SMTP_PASSWORD=wrong "$EX" -n 3 -m 1 -u alice -T 20 127.0.0.1 "$AIO_PORT" >"$W/bad.out" 2>&1
rc=$?
cat "$W/bad.out"
[ "$rc" = 1 ] || fail "wrong password: exit $rc, expected 1"
[ "$(grep -c 'session authentication failed' "$W/bad.out")" = 3 ] \
    || fail "wrong password: not every session reports the AUTH failure"
[ "$(aio_count)" = 8 ] || fail "wrong password: a message was stored"

echo "73_superloop OK"
