#!/usr/bin/env bash
# --flush-queue sends the due entries queued with the same options (here
# `smtpc -t`, or other recipients on the command line) on one connection,
# each message behind the previous one's end, and every entry keeps its
# own outcome, against a scripted server with PIPELINING:
#   - recipients on the command line may differ; other options start
#     another connection;
#   - refused in every way (MAIL 451, RCPT 550, DATA 451, "." 554) on one
#     connection: the accepted ones leave the queue, the temporary
#     failures stay with their own reason, the refusals go to failed/;
#   - the server closing instead of answering a message: that message and
#     the one pipelined behind it stay queued, the ones after them go on a
#     new connection, none is lost;
#   - the run killed after a delivery (SMTPC_TEST_CRASH=sent): nothing is
#     lost, what the server had taken is sent once more at most.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

queue_setup queue-one
EHLO='EHLO=250-script.test\n250-PIPELINING\n250 8BITMIME'

# queue N: N messages m1..mN (To: rN@example.com), queued while the
# server is away, all with the same words.
queue() {
    local i
    conf "$DOWN"
    rm -rf "$Q"
    for i in $(seq 1 "$1"); do
        printf 'From: a@example.com\nTo: r%d@example.com\nSubject: m%d\n\nbody %d\n' "$i" "$i" "$i" |
            "$SMTPC" -t 2>"$W/err" || fail "queue m$i: $(cat "$W/err")"
        sleep 0.01 # distinct, ordered IDs
    done
    [ "$(entries new)" = "$1" ] || fail "new/ holds $(entries new) of $1"
}
# state_of SUBJECT: the state file of the entry of new/ with that subject.
state_of() { dirname "$(grep -lx "Subject: $1" "$Q"/new/*/message)"; }
# copies SUBJECT: how many times the server received that message.
copies() { tr -d '\r' <"$SCRIPT_LOG" | grep -cx "Subject: $1" || true; }
# connection_of I: the connections (numbers) that carried RCPT TO:<rI@...>.
connection_of() {
    awk -v s="RCPT TO:<r$1@example.com>" '{ sub(/\r$/, "") } /^--- connection/ { n++ } $0 == s { printf "%s%d", sep, n; sep = " " }' \
        "$SCRIPT_LOG"
}
# texts N: the subjects of the messages whose text connection N carried.
texts() { awk -v c="$1" '{ sub(/\r$/, "") } /^--- connection/ { n++ } n == c && /^Subject: m/ { printf "%s%s", sep, $2; sep = " " }' "$SCRIPT_LOG"; }

step "other recipients on the command line: one connection; other options: another"
conf "$DOWN"
for i in 1 2 3; do
    printf 'From: a@example.com\nSubject: m%d\n\nbody %d\n' "$i" "$i" |
        "$SMTPC" -f a@example.com "r$i@example.com" 2>"$W/err" || fail "queue m$i: $(cat "$W/err")"
    sleep 0.01
done
printf 'From: a@example.com\nSubject: m4\n\nbody 4\n' |
    "$SMTPC" -f a@example.com --ehlo other.example r4@example.com 2>"$W/err" || fail "queue m4: $(cat "$W/err")"
sleep 0.01
printf 'From: a@example.com\nSubject: m5\n\nbody 5\n' |
    "$SMTPC" -f a@example.com r5@example.com 2>"$W/err" || fail "queue m5: $(cat "$W/err")"
start_script_server "$EHLO" || fail "script server"
conf "$SCRIPT_PORT"
RC=0
"$SMTPC" --flush-all 2>"$W/err" || RC=$?
expect_rc 0 "flush" "$W/err"
[ "$(connection_of 1) $(connection_of 2) $(connection_of 3) $(connection_of 4) $(connection_of 5)" = "1 1 1 2 3" ] ||
    fail "connections: $(cat "$SCRIPT_LOG")"
[ "$(tr -d '\r' <"$SCRIPT_LOG" | grep -c '^EHLO other.example$')" = 1 ] || fail "m4's options not its own"
[ "$(entries new)" = 0 ] || fail "new/ not empty"
stop_script_server

step "refused in every way on one connection: each entry its own outcome"
queue 6
# The script counts each command over the session: m2 and m3 end with a
# bare "." after their 354 (.#2, .#3), so m5's end is the fourth.
start_script_server "$EHLO" 'MAIL#2=451 4.3.0 sender later' 'RCPT#3=550 5.1.1 no such user' \
    'DATA#4=451 4.3.1 no room now' '.#4=554 5.6.0 content refused' || fail "script server"
conf "$SCRIPT_PORT"
RC=0
"$SMTPC" --flush-all 2>"$W/err" || RC=$?
expect_rc 69 "flush with refusals" "$W/err"
for i in 1 2 3 4 5 6; do
    [ "$(connection_of "$i")" = 1 ] || fail "m$i's envelope on connections '$(connection_of "$i")', not 1: $(cat "$SCRIPT_LOG")"
done
# Refused at MAIL, RCPT or DATA: the text never went ("." at once); at the
# end of the data: it did.
[ "$(texts 1)" = "m1 m5 m6" ] || fail "texts on the connection: $(texts 1)"
[ "$(grep -c '^--- connection' "$SCRIPT_LOG")" = 2 ] ||
    fail "not one connection for the six and one for the bounces: $(grep -c '^--- connection' "$SCRIPT_LOG")"
grep -q ': 4 sent, 2 kept, 2 failed' "$W/err" || fail "summary: $(tail -n 1 "$W/err")"  # the two bounces among the sent
[ "$(entries new)" = 2 ] || fail "new/ holds $(entries new), not m2 and m4"
grep -q '451 4.3.0 sender later' "$(state_of m2)/state" || fail "m2's reason: $(cat "$(state_of m2)/state")"
grep -q '451 4.3.1 no room now' "$(state_of m4)/state" || fail "m4's reason: $(cat "$(state_of m4)/state")"
for s in m3 m5; do
    grep -qx "Subject: $s" "$Q"/failed/*/message || fail "$s not in failed/"
done
grep -q '550 5.1.1 no such user' "$(dirname "$(grep -lx 'Subject: m3' "$Q"/failed/*/message)")/state" ||
    fail "m3's reason in failed/"
grep -q '554 5.6.0 content refused' "$(dirname "$(grep -lx 'Subject: m5' "$Q"/failed/*/message)")/state" ||
    fail "m5's reason in failed/"
# The two bounces (to a@example.com) went too, on their own connection.
[ "$(grep -c '^MAIL FROM:<>' "$SCRIPT_LOG")" = 2 ] || fail "bounces: $(grep -c '^MAIL FROM:<>' "$SCRIPT_LOG")"
stop_script_server

step "the server closes instead of answering m2: m2 stays queued, m3 and m4 go on"
# m3 may have been begun behind m2's end before the close was seen (its
# envelope sent, or not yet when the close came): then it fails with the
# connection and stays queued; else it goes, with m4, on a new connection.
# Either way nothing after m2 is lost or sent twice.
queue 4
start_script_server "$EHLO" '.#2=CLOSE' || fail "script server"
conf "$SCRIPT_PORT"
RC=0
"$SMTPC" --flush-all 2>"$W/err" || RC=$?
expect_rc 75 "flush with a closed connection" "$W/err"
c3=$(connection_of 3)
case "$c3" in
    "" | 1) grep -q ': 2 sent, 2 kept, 0 failed' "$W/err" || fail "summary (m3 kept): $(tail -n 1 "$W/err")" ;;
    2) grep -q ': 3 sent, 1 kept, 0 failed' "$W/err" || fail "summary (m3 sent): $(tail -n 1 "$W/err")" ;;
    *) fail "m3 on connections '$c3'" ;;
esac
[ "$(connection_of 1) $(connection_of 2) $(connection_of 4)" = "1 1 2" ] ||
    fail "connections: $(cat "$SCRIPT_LOG")"
grep -qx 'Subject: m2' "$Q"/new/*/message && ! grep -qx 'Subject: m4' "$Q"/new/*/message ||
    fail "m2 not queued, or m4 still queued"
grep -q 'connection closed by the server' "$(state_of m2)/state" || fail "m2's reason: $(cat "$(state_of m2)/state")"
RC=0
"$SMTPC" --flush-all 2>"$W/err" || RC=$?
expect_rc 0 "second flush" "$W/err"
[ "$(entries new)" = 0 ] || fail "new/ not empty"
for i in 1 3 4; do [ "$(copies "m$i")" = 1 ] || fail "m$i received $(copies "m$i") times"; done
[ "$(copies m2)" = 2 ] || fail "m2 received $(copies m2) times (its text came, its reply did not)"
stop_script_server

step "the run killed after the second delivery: none lost, none sent more than twice"
queue 4
start_script_server "$EHLO" || fail "script server"
conf "$SCRIPT_PORT"
RC=0
SMTPC_TEST_CRASH=sent:2 SMTPC_TEST_CRASH_COUNT=$W/crash-count "$SMTPC" --flush-all 2>"$W/err" || RC=$?
[ "$(wc -c <"$W/crash-count")" -ge 2 ] || fail "the crash point was not reached: $(cat "$W/err")"
RC=0
"$SMTPC" --flush-all 2>"$W/err" || RC=$?
expect_rc 0 "flush after the kill" "$W/err"
[ "$(entries new)" = 0 ] || fail "new/ not empty"
# m2 was delivered, not yet taken out of the queue: sent again.  m3 went
# behind m2's end when m2's reply was not in yet at the kill: sent again
# too.  m1 was settled before, m4 not begun.
[ "$(copies m1) $(copies m2) $(copies m4)" = "1 2 1" ] ||
    fail "copies of m1, m2, m4: $(copies m1) $(copies m2) $(copies m4)"
[ "$(copies m3)" = 1 ] || [ "$(copies m3)" = 2 ] || fail "m3 received $(copies m3) times"
echo "queue-one-connection: all checks passed"
