#!/usr/bin/env bash
# --queue and --flush-queue: with the server away, a message is kept (exit
# 0, as sendmail once it has queued) and a later flush sends it, byte for
# byte, with its -t envelope; a message refused for good moves to failed/
# and its sender gets a bounce; nothing is queued for a sent message or a
# mistake; a flush skips an entry another flush holds, tries only what is
# due (--flush-all: everything) and never stops at a temporary failure.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

# W, Q, DOWN (connections refused: exit 75), conf PORT, entries SUB.
queue_setup queue

printf 'From: a@example.com\nDate: Tue, 1 Dec 2026 12:00:00 +0000\nMessage-ID: <one@smtpc.test>\nTo: b@example.com\nBcc: hidden@example.com\nSubject: one\n\nfirst\n.\nline after a dot\n' >"$W/one.msg"
printf 'From: a@example.com\nDate: Tue, 1 Dec 2026 12:00:00 +0000\nMessage-ID: <two@smtpc.test>\nSubject: two\n\nsecond\n' >"$W/two.msg"
printf 'Subject: three\n\nthird\n' >"$W/three.msg"

step "server away: each message queued, exit 0"
conf "$DOWN"
run_smtpc "$W/out" "$W/err" --json -t <"$W/one.msg"
expect_rc 0 "queued -t message" "$W/err"
grep -q '^smtpc: queued as [0-9.]* in ' "$W/err" || fail "no 'queued as': $(cat "$W/err")"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert (r["status"], r["exit"], r["phase"]) == ("queued", 0, "connect") and r["queued"], r' \
    "$W/out" || fail "--json when queued: $(cat "$W/out")"
[ "$(entries new)" = 1 ] || fail "new/ holds $(entries new) entries"
cmp "$W/one.msg" "$Q"/new/*/message || fail "the queued copy differs from the input"
[ "$(stat -c %a "$Q")" = 700 ] || fail "queue mode $(stat -c %a "$Q")"
sleep 0.01 # distinct, ordered IDs
run_smtpc "$W/out" "$W/err" -f a@example.com c@example.com <"$W/two.msg"
expect_rc 0 "queued message" "$W/err"
run_smtpc "$W/out" "$W/err" -f a@example.com nobody@example.com <"$W/three.msg"
expect_rc 0 "queued message to be refused" "$W/err"
[ "$(entries new)" = 3 ] || fail "new/ holds $(entries new) entries"
[ "$(entries tmp)" = 0 ] || fail "tmp/ not empty"

step "flush at once: nothing is due yet"
run_smtpc "$W/out" "$W/err" --flush-queue
expect_rc 0 "flush, nothing due" "$W/err"
grep -q '0 sent, 0 kept, 0 failed, 0 expired .*, 0 busy, 3 not due' "$W/err" || fail "summary: $(cat "$W/err")"

step "flush-all with the server still away: each tried, each kept"
run_smtpc "$W/out" "$W/err" --flush-all
expect_rc 75 "flush, server away" "$W/err"
grep -q '0 sent, 3 kept, 0 failed, 0 expired .*, 0 busy, 0 not due' "$W/err" || fail "summary: $(cat "$W/err")"
[ "$(entries new)" = 3 ] || fail "a message left the queue"
grep -qx 'attempts 2' "$Q"/new/*/state || fail "tries not counted: $(cat "$Q"/new/*/state)"

step "flush with the credentials to fix (exit 78 each): kept, not failed"
conf "$DOWN"
printf '%s\n' 'user alice' "password-file $W/no-such-file" >>"$W/smtpc.conf"
run_smtpc "$W/out" "$W/err" --flush-all
expect_rc 75 "flush, password file missing" "$W/err"
grep -q '0 sent, 3 kept, 0 failed, 0 expired .*, 0 busy, 0 not due' "$W/err" || fail "summary: $(cat "$W/err")"
[ "$(entries new)$(entries failed)" = 30 ] || fail "new $(entries new), failed $(entries failed)"

step "flush skips an entry another flush holds; the refused one is bounced"
first=$(find "$Q/new" -mindepth 1 -maxdepth 1 -type d | sort | head -n 1)
start_cli_aiosmtpd "$W/aio" --reject 'nobody@example.com=550 5.1.1 no such user'
conf "$AIO_PORT"
flock "$first/args" sleep 3 &
holder=$!
sleep 0.5
run_smtpc "$W/out" "$W/err" --flush-all
expect_rc 69 "flush with one busy, one refused" "$W/err"
# The message to c@, then the bounce of the refused one to its sender.
grep -q '2 sent, 0 kept, 1 failed, 0 expired .*, 1 bounces queued, 1 busy, 0 not due' "$W/err" || fail "summary: $(cat "$W/err")"
wait "$holder"
[ -d "$first" ] || fail "the held entry was touched"
[ "$(entries failed)" = 1 ] || fail "failed/ holds $(entries failed)"
cmp "$W/three.msg" "$Q"/failed/*/message || fail "failed/ holds another message"
grep -q '^error .*550 5.1.1 no such user' "$Q"/failed/*/state || fail "no reason kept: $(cat "$Q"/failed/*/state)"
aio_wait_count 2 || fail "no bounce"
[ "$(aio_json_get 2 mail_from)" = "<>" ] && [ "$(aio_json_get 2 rcpt_tos)" = a@example.com ] \
    || fail "bounce envelope: <$(aio_json_get 2 mail_from)> $(aio_json_get 2 rcpt_tos)"
grep -q '^Subject: Undelivered Mail Returned to Sender' "$AIO_DIR/2.eml" || fail "bounce: $(cat "$AIO_DIR/2.eml")"
grep -q '550 5.1.1 no such user' "$AIO_DIR/2.eml" || fail "bounce without the reason"
grep -q '^Subject: three' "$AIO_DIR/2.eml" || fail "bounce without the message's header"

step "flush again: the held one is sent, with its Bcc recipient and without the Bcc field"
run_smtpc "$W/out" "$W/err" --flush-all
expect_rc 0 "last flush" "$W/err"
[ "$(entries new)" = 0 ] || fail "new/ not empty"
aio_wait_count 3 || fail "not delivered"
for i in 1 3; do
    case "$(aio_json_get $i rcpt_tos | tr '\n' ' ')" in
        "c@example.com ") two=$i ;;
        "b@example.com hidden@example.com ") one=$i ;;
    esac
done
[ -n "${one:-}" ] && [ -n "${two:-}" ] || fail "envelopes: $(aio_json_get 1 rcpt_tos) / $(aio_json_get 2 rcpt_tos)"
grep -v '^Bcc:' "$W/one.msg" >"$W/one.sent"
crlf_normalise "$W/one.sent" "$W/one.want"
cmp "$W/one.want" "$AIO_DIR/$one.eml" || fail "message one arrived changed"
crlf_normalise "$W/two.msg" "$W/two.want"
cmp "$W/two.want" "$AIO_DIR/$two.eml" || fail "message two arrived changed"

step "nothing queued for a message sent now, or for a mistake"
run_smtpc "$W/out" "$W/err" -f a@example.com c@example.com <"$W/two.msg"
expect_rc 0 "sent at once" "$W/err"
aio_wait_count 4 || fail "not delivered"
printf 'Subject: no one\n\nx\n' >"$W/none.msg"
run_smtpc "$W/out" "$W/err" -t <"$W/none.msg"
expect_rc 65 "no recipient in the message" "$W/err"
conf "$DOWN"
run_smtpc "$W/out" "$W/err" --no-queue -f a@example.com c@example.com <"$W/two.msg"
expect_rc 75 "--no-queue, server away" "$W/err"
[ "$(entries new)$(entries tmp)" = 00 ] || fail "queued: new $(entries new), tmp $(entries tmp)"

step "a queue that cannot be written: sent without it, with a warning"
conf "$AIO_PORT"
: >"$W/not-a-dir"
run_smtpc "$W/out" "$W/err" --queue "$W/not-a-dir" -f a@example.com c@example.com <"$W/two.msg"
expect_rc 0 "unusable queue, server up" "$W/err"
grep -q '^smtpc: --queue: sending without a queue$' "$W/err" || fail "no warning: $(cat "$W/err")"
aio_wait_count 5 || fail "not delivered without the queue"

step "usage"
SMTPC_CONFIG= run_smtpc "$W/out" "$W/err" --flush-queue
expect_rc 64 "--flush-queue without --queue" "$W/err"
run_smtpc "$W/out" "$W/err" --flush-queue c@example.com
expect_rc 64 "--flush-queue with a recipient" "$W/err"
grep -q 'takes no recipient' "$W/err" || fail "$(cat "$W/err")"
run_smtpc "$W/out" "$W/err" --queue-lifetime 5x --flush-queue
expect_rc 64 "bad --queue-lifetime" "$W/err"
echo "queue: all checks passed"
