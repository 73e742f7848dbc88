#!/usr/bin/env bash
# Recipients refused one by one (aiosmtpd told to refuse some): the mail
# still goes to the others, exit 0 with one warning per refused recipient;
# --json says "partial" and gives each recipient's own reply.  When every
# recipient is refused: 69 if all refusals are permanent, 75 if one is not.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

W=$(harness_tmpdir partial)
printf 'From: a@example.com\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\nMessage-ID: <partial@smtpc.test>\r\nSubject: partial\r\n\r\nhello\r\n' >"$W/msg"
start_cli_aiosmtpd "$W/aio" \
    --reject 'nobody@example.com=550 5.1.1 no such user' \
    --reject 'later@example.com=450 4.2.1 mailbox busy' \
    --reject 'gone@example.com=551 5.1.6 user has moved'
S=$(harness_hostport "$AIO_PORT")

step "one of three refused: sent, warning, exit 0"
run_smtpc "$W/out" "$W/err" --json --server "$S" --tls none --timeout 20 \
    --from a@example.com ok1@example.com nobody@example.com ok2@example.com <"$W/msg"
expect_rc 0 "partial delivery" "$W/err"
[ "$(cat "$W/err")" = "smtpc: recipient <nobody@example.com> refused: 550 5.1.1 no such user" ] \
    || fail "stderr: $(cat "$W/err")"
aio_wait_count 1
[ "$(aio_json_get 1 rcpt_tos | tr '\n' ' ')" = "ok1@example.com ok2@example.com " ] \
    || fail "stored recipients: $(aio_json_get 1 rcpt_tos)"
cmp "$W/msg" "$AIO_DIR/1.eml" || fail "message bytes"
"$PY" - "$W/out" <<'EOF' || fail "--json: $(cat "$W/out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "partial" and r["exit"] == 0, r
assert r["code"] == 250 and r["queue"] == "OK queued as 1", r
rc = r["recipients"]
assert [x["address"] for x in rc] == ["ok1@example.com", "nobody@example.com", "ok2@example.com"], rc
assert [x["accepted"] for x in rc] == [True, False, True], rc
assert rc[1]["code"] == 550 and rc[1]["enhanced"] == "5.1.1" and rc[1]["text"] == "no such user", rc
assert rc[0]["code"] == 250 and rc[2]["code"] == 250, rc
EOF

step "every recipient refused, all 5xx: 69, nothing stored"
run_smtpc "$W/out" "$W/err" --json --server "$S" --tls none --timeout 20 \
    --from a@example.com nobody@example.com gone@example.com <"$W/msg"
expect_rc 69 "all refused (5xx)" "$W/err"
grep -qx 'smtpc: recipient <nobody@example.com> refused: 550 5.1.1 no such user' "$W/err" \
    || fail "warning for nobody"
grep -qx 'smtpc: recipient <gone@example.com> refused: 551 5.1.6 user has moved' "$W/err" \
    || fail "warning for gone"
grep -qx 'smtpc: no recipient accepted' "$W/err" || fail "final message: $(cat "$W/err")"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["status"]=="rejected" and r["exit"]==69 and r["phase"]=="rcpt" and not any(x["accepted"] for x in r["recipients"]), r' \
    "$W/out" || fail "--json all refused: $(cat "$W/out")"

step "every recipient refused, one 4xx: 75"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --timeout 20 \
    --from a@example.com nobody@example.com later@example.com <"$W/msg"
expect_rc 75 "all refused, one 4xx" "$W/err"
grep -qx 'smtpc: recipient <later@example.com> refused: 450 4.2.1 mailbox busy' "$W/err" \
    || fail "warning for later"
sleep 0.3
[ "$(aio_count)" = 1 ] || fail "a message was stored without recipients"

step "100 recipients, one refused"
rcpts=()
for i in $(seq 1 100); do rcpts+=("user$i@example.com"); done
rcpts[49]=nobody@example.com
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --timeout 20 \
    --from a@example.com "${rcpts[@]}" <"$W/msg"
expect_rc 0 "100 recipients" "$W/err"
[ "$(wc -l <"$W/err")" = 1 ] || fail "expected one warning: $(cat "$W/err")"
aio_wait_count 2
[ "$(aio_json_get 2 rcpt_tos | wc -l)" = 99 ] || fail "stored recipients: $(aio_json_get 2 rcpt_tos | wc -l)"
echo "ok"
