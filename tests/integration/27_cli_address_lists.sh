#!/usr/bin/env bash
# Recipient arguments are RFC 5322 address lists, as cron passes MAILTO
# ("a@x, b@y" in one argument) and people write them: display names,
# quoted strings with commas, comments, groups.  Each mailbox is checked
# as any address; one bad member refuses the run (64) before it connects.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc
W=$(harness_tmpdir rcpt-lists)

start_cli_aiosmtpd "$W/aio"
S=$(harness_hostport "$AIO_PORT")
printf 'From: cron@example.com\nDate: Tue, 1 Dec 2026 12:00:00 +0000\nMessage-ID: <l@x>\nSubject: job\n\nok\n' >"$W/msg"
n=0

# rcpts WANT ARGS...: smtpc ARGS delivers, and the RCPTs were WANT.
rcpts() {
    local want=$1 got
    shift
    run_smtpc "$W/out" "$W/err" --server "$S" --tls none --timeout 20 "$@" <"$W/msg"
    expect_rc 0 "smtpc $*" "$W/err"
    n=$((n + 1))
    aio_wait_count $n || fail "smtpc $*: not stored"
    got=$(aio_json_get $n rcpt_tos | tr '\n' ' ')
    [ "$got" = "$want " ] || fail "smtpc $*: RCPTs $got, expected $want"
}

step "cron's MAILTO: a comma-separated list in one argument"
rcpts "ops@example.com dev@example.org" -f cron@example.com 'ops@example.com,dev@example.org'
rcpts "ops@example.com dev@example.org root@example.com" -f cron@example.com \
    --qualify-domain example.com 'ops@example.com, dev@example.org, root'

step "display names, quoted commas, comments, groups; duplicates once"
rcpts "j@example.com ann@example.org team1@example.net team2@example.net b@example.com" \
    -f cron@example.com '"Doe, John" <j@example.com>, Ann Other <ann@example.org>' \
    'Team: team1@example.net, (second) team2@example.net;' \
    'b@example.com (Bee), <j@example.com>' 'undisclosed-recipients:;'

step "a bad member refuses the whole run before connecting"
before=$(aio_connections)
for bad in 'ok@example.com, bad@' '"Doe, John <j@example.com>' 'a@example.com; b@example.com' \
    'Name Only' 'x@example.com, root'; do
    run_smtpc "$W/out" "$W/err" --server "$S" --tls none -f cron@example.com "$bad" <"$W/msg"
    expect_rc 64 "recipient '$bad'" "$W/err"
    grep -q '^smtpc: invalid recipient address' "$W/err" || fail "'$bad': $(cat "$W/err")"
done
[ "$(aio_connections)" = "$before" ] || fail "a refused list opened a session"
echo "ok"
