#!/usr/bin/env bash
# smtpc as the machine's sendmail, run the ways daemons and users run it,
# against a real MTA (a private Postfix on loopback):
#   - with standard input, output or error closed (a daemon's child): the
#     message is the empty one, not bytes from the socket, and -v's trace
#     never goes into the SMTP session;
#   - the system-wide setup of docs/SENDMAIL.md (a root-owned log file and
#     queue) as root and as an unprivileged user: the log or queue that user
#     cannot write is a warning, and the mail goes.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

W=$(harness_tmpdir sendmail-env)
start_mta "$W/mta" || exit $?
UP=$(harness_hostport "$MTA_PORT")

# The system-wide configuration, as root installs it (mode 644, root's).
mkdir -p "$W/etc" "$W/log" "$W/spool"
chmod 755 "$W/etc" "$W/log" "$W/spool"
printf '%s\n' "server $UP" 'tls none' 'from host1@example.com' 'qualify-domain example.com' \
    "log $W/log/smtpc.log" "queue $W/spool/smtpc" >"$W/etc/smtpc.conf"
chmod 644 "$W/etc/smtpc.conf"
export SMTPC_CONFIG=$W/etc/smtpc.conf
printf 'To: root\nSubject: %s\n\nbody\n' env-root >"$W/root.msg"
printf 'To: www@example.com\nSubject: %s\n\nbody\n' env-nobody >"$W/nobody.msg"

n=0
# arrived SUBJECT: the one delivered copy with that subject, checked.
arrived() {
    local f
    n=$((n + 1))
    mta_wait_delivery "$n" 30 || fail "$1: not delivered"
    f=$(grep -lx "Subject: $1" "$MTA_MAILDIR"/new/* || true)
    [ "$(printf '%s\n' "$f" | grep -c .)" = 1 ] || fail "$1: delivered $(printf '%s\n' "$f" | grep -c .) times"
    echo "$f"
}

step "as root: sendmail -t -i delivers, logs, and the queue is root's"
run_smtpc "$W/out" "$W/err" -t -i <"$W/root.msg"
expect_rc 0 "root" "$W/err"
arrived env-root >/dev/null
grep -q '"status":"ok"' "$W/log/smtpc.log" || fail "root's run not logged"
[ "$(stat -c %a "$W/log/smtpc.log")" = 600 ] || fail "log mode $(stat -c %a "$W/log/smtpc.log")"
[ -d "$W/spool/smtpc/new" ] || fail "no queue"

if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
    step "as nobody: the root-owned log and queue are warnings, the mail goes"
    lines=$(wc -l <"$W/log/smtpc.log")
    # The program where any user can run it, as /usr/sbin/sendmail is: the
    # build may be in a checkout nobody cannot reach (a clone under /root).
    mkdir -p "$W/bin"
    cp "$SMTPC" "$W/bin/smtpc"
    chmod 755 "$W/bin" "$W/bin/smtpc"
    RC=0
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
        env HOME=/nonexistent SMTPC_CONFIG="$SMTPC_CONFIG" "$W/bin/smtpc" -t -i <"$W/nobody.msg" >"$W/out" 2>"$W/err" || RC=$?
    expect_rc 0 "nobody, root's log and queue" "$W/err"
    grep -q '^smtpc: warning: cannot open the --log file ".*smtpc.log": Permission denied (the mail goes on, unlogged)$' "$W/err" \
        || fail "no warning about the log: $(cat "$W/err")"
    grep -q '^smtpc: --queue: sending without a queue$' "$W/err" || fail "no warning about the queue: $(cat "$W/err")"
    f=$(arrived env-nobody)
    [ "$(mta_recipient "$f")" = www@example.com ] || fail "delivered to $(mta_recipient "$f")"
    [ "$(wc -l <"$W/log/smtpc.log")" = "$lines" ] || fail "the log changed"
else
    echo "(skipped: no user nobody or no setpriv)"
fi

step "standard input closed: the empty message, not the server's bytes"
printf '%s\n' "server $UP" 'tls none' "log $W/log/closed.log" >"$W/closed.conf"
chmod 600 "$W/closed.conf"
RC=0
"$SMTPC" -C "$W/closed.conf" -f a@example.com closed-in@example.com 0<&- >"$W/out" 2>"$W/err" || RC=$?
expect_rc 0 "stdin closed" "$W/err"
n=$((n + 1))
mta_wait_delivery "$n" 30 || fail "stdin closed: not delivered"
f=$(mta_messages_for closed-in@example.com)
[ -n "$f" ] || fail "stdin closed: nothing for closed-in@"
[ -z "$(mta_strip_trace "$f")" ] || fail "stdin closed: the message is not empty: $(mta_strip_trace "$f" | head -c 200)"

step "standard error closed with -v: the trace does not go into the session"
printf 'From: a@example.com\nDate: Wed, 2 Dec 2026 12:00:00 +0000\nMessage-ID: <closed-err@example.com>\nSubject: closed-err\n\nline\n' >"$W/err.msg"
RC=0
"$SMTPC" -C "$W/closed.conf" -v --json -f a@example.com closed-err@example.com <"$W/err.msg" >"$W/out" 2>&- || RC=$?
expect_rc 0 "stderr closed" ""
grep -q '"status":"ok"' "$W/out" || fail "stderr closed: $(cat "$W/out")"
n=$((n + 1))
mta_wait_delivery "$n" 30 || fail "stderr closed: not delivered"
f=$(mta_messages_for closed-err@example.com)
mta_strip_trace "$f" | cmp - "$W/err.msg" || fail "stderr closed: the message arrived changed"

step "standard output and error closed with --json -v"
RC=0
"$SMTPC" -C "$W/closed.conf" -v --json -f a@example.com closed-all@example.com <"$W/err.msg" >&- 2>&- || RC=$?
expect_rc 0 "stdout and stderr closed" ""
n=$((n + 1))
mta_wait_delivery "$n" 30 || fail "stdout and stderr closed: not delivered"
mta_strip_trace "$(mta_messages_for closed-all@example.com)" | cmp - "$W/err.msg" || fail "stdout/stderr closed: changed"
grep -c '"status":"ok"' "$W/log/closed.log" | grep -qx 3 || fail "the runs were not all logged: $(cat "$W/log/closed.log")"
echo "sendmail-env: all checks passed"
