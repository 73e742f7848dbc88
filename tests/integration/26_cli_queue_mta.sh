#!/usr/bin/env bash
# The queue against a real MTA (a private Postfix on loopback that defers
# one recipient with 450 and refuses another with 550):
#   - each message is retried on its own: one the server keeps deferring
#     does not hold up the others; its tries, last error and next try are
#     kept and listed (--list-queue, -bp, mailq);
#   - a name server that cannot be reached is a temporary failure (75,
#     queued), not an unknown host;
#   - past --queue-lifetime the message moves to failed/ and its sender gets
#     a bounce, delivered by Postfix;
#   - crash safety: smtpc killed (SIGKILL, from a test hook) at each step of
#     queueing and flushing loses no message and sends one at most once
#     more; two flushes at once send each message once.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

W=$(harness_tmpdir queue-mta)
Q=$W/queue
start_mta "$W/mta" \
    'smtpd_recipient_restrictions=check_recipient_access inline:{ {later@example.com=450 4.2.1 mailbox busy}, {never@example.com=550 5.1.1 no such user} }, permit_mynetworks, reject' \
    || exit $?
UP=$(harness_hostport "$MTA_PORT")
DOWN=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# conf SERVER [LINES...]: the configuration every run and flush reads.
conf() {
    local server=$1
    shift
    printf '%s\n' "server $server" 'tls none' "queue $Q" "$@" >"$W/smtpc.conf"
    chmod 600 "$W/smtpc.conf"
}
export SMTPC_CONFIG=$W/smtpc.conf
entries() { find "$Q/$1" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l; }
# msg SUBJECT: a message with that subject on stdout.
msg() { printf 'From: sender@example.com\nSubject: %s\n\nbody of %s\n' "$1" "$1"; }
# delivered SUBJECT: how many copies Postfix delivered with that subject.
delivered() { { grep -lx "Subject: $1" "$MTA_MAILDIR"/new/* 2>/dev/null || true; } | wc -l; }
# drain: waits until Postfix has delivered all it accepted.
drain() {
    local i
    for i in $(seq 1 100); do
        postqueue -c "$MTA_CONFIG" -p 2>/dev/null | grep -q 'Mail queue is empty' && return 0
        sleep 0.1
    done
    fail "Postfix did not deliver its queue"
}

step "server away: three messages queued; one recipient the server defers"
conf "127.0.0.1:$DOWN"
msg first | "$SMTPC" -f sender@example.com one@example.com 2>"$W/err" || fail "queue first: $(cat "$W/err")"
msg slow | "$SMTPC" -f sender@example.com later@example.com 2>"$W/err" || fail "queue slow: $(cat "$W/err")"
msg third | "$SMTPC" -f sender@example.com three@example.com 2>"$W/err" || fail "queue third: $(cat "$W/err")"
[ "$(entries new)" = 3 ] || fail "new/ holds $(entries new)"
for f in "$Q"/new/*; do
    [ -s "$f/state" ] && [ -s "$f/envelope" ] || fail "$f: no state or envelope"
done

step "a name server that cannot be reached: 75, or queued; the resolver's reason"
conf "mta.smtpc-test.invalid:$MTA_PORT"
dns=0
if unshare -n true 2>/dev/null; then
    RC=0
    msg dns | unshare -n "$SMTPC" --no-queue -f sender@example.com dns@example.com 2>"$W/err" || RC=$?
    if [ "$RC" = 68 ]; then
        echo "(skipped: the resolver answers without the network: $(cat "$W/err"))"
    else
        expect_rc 75 "resolver unreachable, no queue" "$W/err"
        grep -q 'cannot resolve host "mta.smtpc-test.invalid": Temporary failure in name resolution' "$W/err" \
            || fail "no resolver reason: $(cat "$W/err")"
        msg dns | unshare -n "$SMTPC" -f sender@example.com dns@example.com 2>"$W/err" \
            || fail "resolver unreachable, queued: $(cat "$W/err")"
        grep -q '^smtpc: queued as' "$W/err" || fail "not queued: $(cat "$W/err")"
        dns=1
    fi
else
    echo "(skipped: cannot unshare the network here)"
fi
# A name that does not exist is still an unknown host (68), not queued.
conf "host.smtpc-test.invalid:$MTA_PORT"
RC=0
msg nxdomain | "$SMTPC" -f sender@example.com nx@example.com 2>"$W/err" || RC=$?
if [ "$RC" != 75 ]; then # 75: no name server here at all
    expect_rc 68 "unknown host" "$W/err"
    [ "$(entries new)" = $((3 + dns)) ] || fail "an unknown host was queued"
fi

step "the server back: every due message tried, the deferred one kept on its own schedule"
conf "$UP"
RC=0
"$SMTPC" --flush-all 2>"$W/err" || RC=$?
expect_rc 75 "flush with one deferred" "$W/err"
grep -q "$((2 + dns)) sent, 1 kept, 0 failed, 0 expired" "$W/err" || fail "summary: $(cat "$W/err")"
drain
for s in first third; do [ "$(delivered "$s")" = 1 ] || fail "$s delivered $(delivered "$s") times"; done
[ "$dns" = 0 ] || [ "$(delivered dns)" = 1 ] || fail "the message queued at the DNS failure was not delivered"
[ "$(delivered slow)" = 0 ] || fail "slow delivered"
[ "$(entries new)" = 1 ] || fail "new/ holds $(entries new)"
grep -qx 'attempts 2' "$Q"/new/*/state || fail "state: $(cat "$Q"/new/*/state)"

step "--list-queue, -bp and mailq: envelope, age, tries, last error, next try"
"$SMTPC" --list-queue >"$W/list" 2>"$W/err" || fail "--list-queue: $(cat "$W/err")"
grep -q '^Queued (1):' "$W/list" || fail "list: $(cat "$W/list")"
grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+ +[0-9]+  [0-9]+s +in [0-9]+m +2  <sender@example.com>$' "$W/list" || fail "list: $(cat "$W/list")"
grep -q '^    (.*450 4.2.1 .*mailbox busy; no recipient accepted)$' "$W/list" || fail "no last error: $(cat "$W/list")"
grep -qx '    later@example.com' "$W/list" || fail "no recipient: $(cat "$W/list")"
"$SMTPC" -bp >"$W/list2" || fail "-bp"
ln -s "$SMTPC" "$W/mailq"
"$W/mailq" >"$W/list3" || fail "mailq"
# The same list, but for the ages and times, which may have moved on.
untimed() { sed -E 's/ [0-9]+[smhd]([0-9]+[smh])? / T /g' "$1"; }
[ "$(untimed "$W/list")" = "$(untimed "$W/list2")" ] && [ "$(untimed "$W/list")" = "$(untimed "$W/list3")" ] \
    || fail "-bp or mailq list differently: $(cat "$W/list2" "$W/list3")"

step "a flush leaves what is not due yet"
RC=0
"$SMTPC" --flush-queue 2>"$W/err" || RC=$?
expect_rc 0 "flush, nothing due" "$W/err"
grep -q '0 sent, 0 kept, 0 failed, 0 expired .* 0 busy, 1 not due' "$W/err" || fail "summary: $(cat "$W/err")"

step "past the queue lifetime: moved to failed/, the sender gets a bounce"
RC=0
"$SMTPC" --flush-queue --queue-lifetime 0 --log "$W/flush.log" 2>"$W/err" || RC=$?
expect_rc 69 "expired" "$W/err"
"$PY" - "$W/flush.log" <<'EOF' || fail "log: $(cat "$W/flush.log")"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
g = [r for r in rs if r["status"] == "given-up"]
assert len(g) == 1 and g[0]["bounce"].endswith(".bounce") and g[0]["attempts"] == 3, rs
assert "queue lifetime" in g[0]["error"] and "450 4.2.1" in g[0]["error"], g
EOF
grep -q '1 sent, 0 kept, 0 failed, 1 expired (moved to failed/), 1 bounces queued' "$W/err" || fail "summary: $(cat "$W/err")"
[ "$(entries new)$(entries failed)" = 01 ] || fail "new $(entries new), failed $(entries failed)"
grep -q '^error still undelivered after the queue lifetime (0s); last error: .*450 4.2.1 .*mailbox busy' "$Q"/failed/*/state \
    || fail "reason: $(cat "$Q"/failed/*/state)"
drain
b=$(grep -l '^Subject: Undelivered Mail Returned to Sender' "$MTA_MAILDIR"/new/* | head -n 1)
[ -n "$b" ] || fail "no bounce delivered"
[ "$(mta_recipient "$b")" = sender@example.com ] || fail "bounce to $(mta_recipient "$b")"
grep -qx 'Return-Path: <>' "$b" || fail "bounce not from the null sender"
grep -q '450 4.2.1 .*mailbox busy' "$b" && grep -qx 'Subject: slow' "$b" && grep -qx '  later@example.com' "$b" \
    || fail "bounce: $(cat "$b")"
"$SMTPC" --list-queue >"$W/list" || fail "--list-queue"
grep -q '^Failed, kept in failed/ (1):' "$W/list" || fail "list: $(cat "$W/list")"

step "a refused message: failed/ at once, one bounce"
before=$(grep -l '^Subject: Undelivered' "$MTA_MAILDIR"/new/* | wc -l)
conf "127.0.0.1:$DOWN"
msg refused | "$SMTPC" -f sender@example.com never@example.com 2>"$W/err" || fail "queue: $(cat "$W/err")"
conf "$UP"
RC=0
"$SMTPC" --flush-all 2>"$W/err" || RC=$?
expect_rc 69 "refused" "$W/err"
drain
[ "$(grep -l '^Subject: Undelivered' "$MTA_MAILDIR"/new/* | wc -l)" = $((before + 1)) ] || fail "not one bounce"
rm -rf "$Q"/failed/*

# ---- crash safety
# round POINT: queues three messages (the second refused for good), runs a
# flush that SMTPC_TEST_CRASH=POINT kills, checks that nothing was lost,
# then flushes to the end.  Each message must arrive once, or twice when
# the kill came after the server had taken it.
round=0
kills=0
dups=0
crash_round() {
    local point=$1 allow_dup=$2 i s n rc
    round=$((round + 1))
    conf "127.0.0.1:$DOWN"
    for i in 1 2 3; do
        s="crash-$round-$i"
        rcpt=ok$i@example.com
        [ "$i" = 2 ] && rcpt=never@example.com
        msg "$s" | "$SMTPC" -f sender@example.com "$rcpt" 2>"$W/err" || fail "queue $s: $(cat "$W/err")"
    done
    conf "$UP"
    rc=0
    rm -f "$W/crash-count"
    SMTPC_TEST_CRASH=$point SMTPC_TEST_CRASH_COUNT=$W/crash-count \
        "$SMTPC" --flush-all >/dev/null 2>"$W/err" || rc=$?
    kills=$((kills + 1))
    drain
    for i in 1 3; do
        s="crash-$round-$i"
        n=$(delivered "$s")
        if [ "$n" = 0 ] && ! grep -qx "Subject: $s" "$Q"/new/*/message 2>/dev/null; then
            fail "$point: $s lost (neither delivered nor queued; flush exit $rc)"
        fi
    done
    # The rest, as a later flush would.
    rc=0
    "$SMTPC" --flush-all >/dev/null 2>"$W/err" || rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 69 ] || fail "$point: completing flush exit $rc: $(cat "$W/err")"
    drain
    [ "$(entries new)" = 0 ] || fail "$point: new/ not empty: $(ls "$Q/new")"
    for i in 1 3; do
        s="crash-$round-$i"
        n=$(delivered "$s")
        [ "$n" = 1 ] || { [ "$n" = 2 ] && [ "$allow_dup" = dup ]; } || fail "$point: $s delivered $n times"
        [ "$n" = 1 ] || dups=$((dups + 1))
    done
    # The refused one: in failed/, bounced once (or twice, likewise).
    [ "$(grep -lx "Subject: crash-$round-2" "$Q"/failed/*/message | wc -l)" = 1 ] || fail "$point: refused message not in failed/"
    n=$(delivered "crash-$round-2")
    [ "$n" = 1 ] || { [ "$n" = 2 ] && [ "$allow_dup" = dup ]; } || fail "$point: $n bounces for the refused message"
    rm -rf "$Q"/failed/*
}
step "crash safety: a flush killed at each step"
# The three messages go to one run of smtpc (the same options), the
# bounce to a second one.
crash_round sending:1 once        # locked, before running smtpc
crash_round sending:2 once        # the bounce
crash_round sent:1 dup            # smtpc delivered, killed before it took the
                                  # entry out of the queue
crash_round sent:2 dup           # (the third message)
crash_round sent:3 dup           # (the bounce of the second)
crash_round delivered:1 once      # the flush, after a delivery, before settling:
                                  # the run had already taken it out of new/
crash_round delivered:2 once
crash_round failing:1 once        # refused: reason written, no bounce yet
crash_round bounced:1 once        # bounce queued, entry not yet moved
crash_round no-crash once

step "crash safety: queueing killed before and after the rename into new/"
conf "127.0.0.1:$DOWN"
rc=0
msg spooled | SMTPC_TEST_CRASH=spooled "$SMTPC" -f sender@example.com x@example.com 2>/dev/null || rc=$?
[ "$rc" = 137 ] || fail "spooled: exit $rc"
grep -lx 'Subject: spooled' "$Q"/tmp/*/message >/dev/null || fail "spooled: the copy is gone"
rc=0
msg queued | SMTPC_TEST_CRASH=queued "$SMTPC" -f sender@example.com x@example.com 2>/dev/null || rc=$?
[ "$rc" = 137 ] || fail "queued: exit $rc"
grep -lx 'Subject: queued' "$Q"/new/*/message >/dev/null || fail "queued: not in new/"
kills=$((kills + 2))
conf "$UP"
"$SMTPC" --flush-all >/dev/null 2>&1 || fail "flush after the killed queueing"
drain
[ "$(delivered queued)" = 1 ] || fail "queued: delivered $(delivered queued) times"
rm -rf "$Q"/tmp/*

step "two flushes at once send each message once"
conf "127.0.0.1:$DOWN"
for i in $(seq 1 12); do
    msg "both-$i" | "$SMTPC" -f sender@example.com "both$i@example.com" 2>/dev/null || fail "queue both-$i"
done
conf "$UP"
"$SMTPC" --flush-all >"$W/f1.out" 2>"$W/f1.err" &
p1=$!
"$SMTPC" --flush-all >"$W/f2.out" 2>"$W/f2.err" &
p2=$!
wait "$p1" || fail "flush 1: $(tail -n 1 "$W/f1.err")"
wait "$p2" || fail "flush 2: $(tail -n 1 "$W/f2.err")"
drain
for i in $(seq 1 12); do
    [ "$(delivered "both-$i")" = 1 ] || fail "both-$i delivered $(delivered "both-$i") times"
done
[ "$(entries new)" = 0 ] || fail "new/ not empty"
echo "queue-mta: all checks passed ($kills kills, none lost, $dups sent once more after a kill)"
