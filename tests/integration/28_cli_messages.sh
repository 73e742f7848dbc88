#!/usr/bin/env bash
# Errors said clearly and early, against aiosmtpd and the script server:
# an --auth mechanism the server does not offer (78, nothing sent); the
# server's whole reply (every line, however long) on stderr, in --json and
# in the log; a 4xx after the data "temporarily refused"; each stderr line
# one write(2); -v showing UTF-8 as UTF-8 and control bytes escaped.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc
W=$(harness_tmpdir messages)
PY=$HARNESS_PY
printf 'From: a@example.com\nDate: Tue, 1 Dec 2026 12:00:00 +0000\nMessage-ID: <m@x>\nSubject: s\n\nbody\n' >"$W/msg"
printf 'pw\n' >"$W/pw"

start_cli_aiosmtpd "$W/aio" --auth alice:pw
S=$(harness_hostport "$AIO_PORT")

step "--auth cram-md5, which aiosmtpd does not offer: 78 before AUTH"
run_smtpc "$W/out" "$W/err" -v --server "$S" --tls none --auth cram-md5 \
    --user alice --password-file "$W/pw" -f a@example.com b@example.com <"$W/msg"
expect_rc 78 "--auth cram-md5 not offered" "$W/err"
grep -q '^> AUTH' "$W/err" && fail "AUTH was sent: $(grep '^> AUTH' "$W/err")"
grep -q 'no usable authentication mechanism: the server offers PLAIN LOGIN' "$W/err" ||
    grep -q 'no usable authentication mechanism: the server offers LOGIN PLAIN' "$W/err" ||
    fail "message: $(grep -v '^[<>*]' "$W/err")"
[ "$(aio_count "$AIO_DIR")" = 0 ] || fail "a message was stored"
step "--auth plain, offered: sent"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --auth plain \
    --user alice --password-file "$W/pw" -f a@example.com b@example.com <"$W/msg"
expect_rc 0 "--auth plain" "$W/err"

step "--dsn-notify with a server that offers no DSN: the extension named"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --dsn-notify failure \
    -f a@example.com b@example.com <"$W/msg"
expect_rc 69 "DSN not offered" "$W/err"
grep -q 'the server does not offer DSN' "$W/err" || fail "stderr: $(cat "$W/err")"

step "a --cafile that holds no PEM certificate is named (78)"
printf 'not a certificate\n' >"$W/bad.pem"
before=$(aio_connections)
run_smtpc "$W/out" "$W/err" --server "$S" --tls starttls --cafile "$W/bad.pem" \
    -f a@example.com b@example.com <"$W/msg"
expect_rc 78 "non-PEM --cafile" "$W/err"
grep -qF -- "--cafile \"$W/bad.pem\"" "$W/err" || fail "stderr: $(cat "$W/err")"
[ "$(aio_connections)" = "$before" ] || fail "connected with a bad --cafile"
stop_aiosmtpd

LONG='5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table'
start_cli_aiosmtpd "$W/aio2" --reject "nobody@example.com=550 $LONG"
S=$(harness_hostport "$AIO_PORT")
step "a long refusal is kept whole: stderr, --json, --log"
run_smtpc "$W/out" "$W/err" --json --log "$W/log" --server "$S" --tls none \
    -f a@example.com b@example.com nobody@example.com <"$W/msg"
expect_rc 0 "one of two refused" "$W/err"
grep -qxF "smtpc: recipient <nobody@example.com> refused: 550 $LONG" "$W/err" ||
    fail "stderr: $(cat "$W/err")"
for f in "$W/out" "$W/log"; do
    "$PY" - "$f" "${LONG#5.1.1 }" <<'PYEOF' || fail "$f: $(cat "$f")"
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
t = [x for x in r["recipients"] if x["address"] == "nobody@example.com"][0]["text"]
assert t == sys.argv[2], t
PYEOF
done

step "--flush-queue: each entry's messages name its queue id"
DOWN=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '%s\n' "server 127.0.0.1:$DOWN" 'tls none' "queue $W/q" >"$W/q.conf"
chmod 600 "$W/q.conf"
SMTPC_CONFIG=$W/q.conf run_smtpc "$W/out" "$W/err" -f a@example.com b@example.com \
    nobody@example.com <"$W/msg"
expect_rc 0 "queued" "$W/err"
id=$(sed -n 's/^smtpc: queued as \([^ ]*\) in .*/\1/p' "$W/err")
[ -n "$id" ] || fail "no queue id: $(cat "$W/err")"
printf '%s\n' "server $S" 'tls none' "queue $W/q" >"$W/q.conf"
SMTPC_CONFIG=$W/q.conf run_smtpc "$W/out" "$W/err" --flush-queue
expect_rc 0 "flush" "$W/err"
grep -qxF "smtpc: queue $id: recipient <nobody@example.com> refused: 550 $LONG" "$W/err" ||
    fail "flush stderr: $(cat "$W/err")"
grep -q "^smtpc: queue $id: sent (250 " "$W/err" || fail "flush stderr: $(cat "$W/err")"
stop_aiosmtpd

# The script server: replies no real server sends on demand.
start_script_server \
    'GREETING=220-script.test ESMTP café ☕\n220 and '$'\e''[31mred' \
    'RCPT=550-5.1.1 first line\n550-5.1.1 second line\n550 5.1.1 third line' \
    '.=451 4.3.0 try again later'
S=$(harness_hostport "$SCRIPT_PORT")
step "a multi-line refusal: each line, on stderr and in --json"
run_smtpc "$W/out" "$W/err" --json --server "$S" --tls none -f a@example.com b@example.com <"$W/msg"
expect_rc 69 "every recipient refused" "$W/err"
printf 'smtpc: recipient <b@example.com> refused: 550 5.1.1 first line\n    second line\n    third line\n' >"$W/want"
head -n 3 "$W/err" | cmp "$W/want" - || fail "stderr: $(cat "$W/err")"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); t=r["recipients"][0]["text"]; assert t == "first line\nsecond line\nthird line", t' \
    "$W/out" || fail "--json: $(cat "$W/out")"

step "451 after the data: temporarily refused, 75"
stop_script_server
start_script_server '.=451 4.3.0 try again later'
S=$(harness_hostport "$SCRIPT_PORT")
run_smtpc "$W/out" "$W/err" --server "$S" --tls none -f a@example.com b@example.com <"$W/msg"
expect_rc 75 "451 after the data" "$W/err"
grep -qxF 'smtpc: message temporarily refused: 451 4.3.0 try again later' "$W/err" ||
    fail "stderr: $(cat "$W/err")"

step "-v: UTF-8 as UTF-8, an escape sequence escaped"
stop_script_server
start_script_server 'GREETING=220-script.test ESMTP café ☕\n220 and '$'\e''[31mred'
S=$(harness_hostport "$SCRIPT_PORT")
run_smtpc "$W/out" "$W/err" -v --server "$S" --tls none -f a@example.com b@example.com <"$W/msg"
expect_rc 0 "-v" "$W/err"
grep -qxF '< 220-script.test ESMTP café ☕' "$W/err" || fail "UTF-8 in -v: $(grep '^< 220' "$W/err")"
grep -qxF '< 220 and \x1b[31mred' "$W/err" || fail "escape in -v: $(grep '^< 220' "$W/err")"

step "each line of stderr is one write(2)"
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
    stop_script_server
    start_script_server 'RCPT=550-5.1.1 first line\n550 5.1.1 second line'
    S=$(harness_hostport "$SCRIPT_PORT")
    RC=0
    ASAN_OPTIONS=detect_leaks=0 strace -f -qq -s 100000 -e trace=write -o "$W/strace" \
        "$SMTPC" -v --server "$S" --tls none -f a@example.com b@example.com c@example.com \
        <"$W/msg" >/dev/null 2>"$W/err" || RC=$?
    expect_rc 69 "under strace" "$W/err"
    grep -E '^[0-9]+ +write\(2, ' "$W/strace" >"$W/writes" || fail "no write to stderr"
    bad=$(grep -Ev '\\n", [0-9]+\) += [0-9]+$' "$W/writes" || true)
    [ -z "$bad" ] || fail "stderr written in pieces: $(head -n 5 <<<"$bad")"
    [ "$(wc -l <"$W/writes")" -ge 5 ] || fail "too few writes seen: $(cat "$W/writes")"
else
    echo "strace cannot run here: skipped"
fi
echo "ok"
