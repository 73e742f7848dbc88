#!/usr/bin/env bash
# smtpc delivers through real servers on loopback (--tls none): smtp-sink
# and aiosmtpd with AUTH PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER.  The message
# arrives byte for byte (CRLF-normalised) whatever dots and line ends it
# holds; --json parses; -v shows the dialogue and never a secret.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

W=$(harness_tmpdir deliver)
PASS='s3cr3t pa:ss'
TOKEN='ya29.tok-EN_with.dots~'

# The hard message: lines ".", "..", ".x", a bare LF line end, a bare CR
# line end, CRLF ones, a line starting with a dot after a bare CR, and no
# final line end.
printf 'From: a@example.com\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\nMessage-ID: <hard@smtpc.test>\r\nTo: b@example.com\r\nSubject: dots\r\n\r\n.\r\n..\r\n.x\nbare LF above\rbare CR above\r.after CR\n...\n\n\r\nlast line, no newline' \
    >"$W/hard.msg"
crlf_normalise "$W/hard.msg" "$W/hard.expect"
# What the engine must produce is easy to get wrong by one byte: check the
# expectation itself once.
[ "$(tail -c 2 "$W/hard.expect" | od -An -c | tr -d ' ')" = '\r\n' ] || fail "expectation"

# ------------------------------------------------------------------ sink
# smtp-sink answers AUTH with 250, not 235 (RFC 4954): AUTH is tested
# against aiosmtpd below.
step "smtp-sink, pipelined, byte-exact"
start_sink "$W/sink"
export SMTPC_TEST_PW=$PASS
run_smtpc "$W/out" "$W/err" --server "$(harness_hostport "$SINK_PORT")" --tls none \
    --from a@example.com --timeout 20 b@example.com c@example.com <"$W/hard.msg"
expect_rc 0 "smtp-sink delivery" "$W/err"
[ -s "$W/err" ] && { cat "$W/err" >&2; fail "stderr not empty on success"; }
[ -s "$W/out" ] && fail "stdout not empty on success without --json"
sink_wait_count 1
f=$(sink_files | head -n 1)
sink_strip --crlf "$f" >"$W/sink.got"
cmp "$W/hard.expect" "$W/sink.got" || fail "smtp-sink received different bytes"
grep -q '^X-Rcpt-Args: <b@example.com>' "$f" || fail "sink: first recipient"
grep -q '^X-Rcpt-Args: <c@example.com>' "$f" || fail "sink: second recipient"

step "smtp-sink, empty message"
: >"$W/empty.msg"
run_smtpc "$W/out" "$W/err" --server "$(harness_hostport "$SINK_PORT")" --tls none \
    --from a@example.com --timeout 20 b@example.com <"$W/empty.msg"
expect_rc 0 "empty message" "$W/err"
sink_wait_count 2

# ------------------------------------------------------------------ aiosmtpd
start_cli_aiosmtpd "$W/aio" --auth "alice:$PASS" --oauth "alice:$TOKEN"
S=$(harness_hostport "$AIO_PORT")
n=0
# delivered N WHAT: message N is stored and is exactly hard.expect
delivered() {
    aio_wait_count "$1" || fail "$2: not stored"
    cmp "$W/hard.expect" "$AIO_DIR/$1.eml" || fail "$2: aiosmtpd received different bytes"
}

step "aiosmtpd, AUTH LOGIN, password file with a trailing newline"
printf '%s\n' "$PASS" >"$W/pwfile"
chmod 600 "$W/pwfile"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --from a@example.com \
    --user alice --password-file "$W/pwfile" --auth login --timeout 20 \
    b@example.com <"$W/hard.msg"
expect_rc 0 "AUTH LOGIN" "$W/err"
n=$((n + 1)); delivered $n "AUTH LOGIN"
[ "$(aio_json_get $n login)" = alice ] || fail "LOGIN: login not recorded"
[ "$(aio_json_get $n auth_mechanism)" = LOGIN ] || fail "LOGIN: mechanism"
[ "$(aio_json_get $n mail_from)" = a@example.com ] || fail "LOGIN: mail_from"
[ "$(aio_json_get $n rcpt_tos)" = b@example.com ] || fail "LOGIN: rcpt_tos"

step "aiosmtpd, AUTH auto (PLAIN), -v and --json"
run_smtpc "$W/out" "$W/err" -v --json --server "$S" --tls none --from a@example.com \
    --user alice --password-env SMTPC_TEST_PW --timeout 20 b@example.com <"$W/hard.msg"
expect_rc 0 "AUTH auto" "$W/err"
n=$((n + 1)); delivered $n "AUTH auto"
[ "$(aio_json_get $n auth_mechanism)" = PLAIN ] || fail "auto did not pick PLAIN"
# -v: the dialogue, with prefixes, AUTH redacted, no secret in any form.
grep -q '^< 220 ' "$W/err" || fail "-v: no greeting line"
grep -q '^> EHLO ' "$W/err" || fail "-v: no EHLO line"
grep -q '^> AUTH PLAIN' "$W/err" || fail "-v: no AUTH line"
grep -q '<redacted>' "$W/err" || fail "-v: AUTH payload not shown as <redacted>"
grep -q '^< 235 ' "$W/err" || fail "-v: no 235"
grep -q '^\* ' "$W/err" || fail "-v: no information line"
plain_b64=$(printf '\0alice\0%s' "$PASS" | base64 -w0)
pass_b64=$(printf '%s' "$PASS" | base64 -w0)
for secret in "$PASS" "$plain_b64" "$pass_b64" "s3cr3t"; do
    if grep -qF -- "$secret" "$W/err" "$W/out"; then
        fail "-v/--json output contains a secret ($secret)"
    fi
done
"$PY" - "$W/out" "$AIO_PORT" <<'EOF' || fail "--json: $(cat "$W/out")"
import json, sys
text = open(sys.argv[1]).read()
assert text.count("\n") == 1, "not one line"
r = json.loads(text)
assert r["status"] == "ok", r
assert r["exit"] == 0 and r["error"] is None and r["phase"] is None, r
assert r["code"] == 250, r
assert "queued as" in r["queue"], r
assert r["server"] == "127.0.0.1" or r["server"] == "::1", r
assert r["port"] == int(sys.argv[2]), r
assert r["auth"] == "PLAIN", r
assert r["recipients"] == [{"address": "b@example.com", "accepted": True,
                            "code": 250, "enhanced": "2.1.5", "text": "OK"}], r["recipients"]
EOF

step "aiosmtpd, -v with AUTH LOGIN shows no secret"
run_smtpc "$W/out" "$W/err" -v --server "$S" --tls none --from a@example.com \
    --user alice --password-env SMTPC_TEST_PW --auth login --timeout 20 b@example.com <"$W/hard.msg"
expect_rc 0 "AUTH LOGIN -v" "$W/err"
n=$((n + 1)); delivered $n "AUTH LOGIN -v"
for secret in "$PASS" "$pass_b64" "s3cr3t"; do
    grep -qF -- "$secret" "$W/err" && fail "-v LOGIN output contains a secret ($secret)"
done
grep -q '^< 334 ' "$W/err" || fail "-v: no LOGIN challenge shown"

step "aiosmtpd, wrong password: 77, nothing stored"
export SMTPC_TEST_BADPW='wrong-password-123'
run_smtpc "$W/out" "$W/err" -v --json --server "$S" --tls none --from a@example.com \
    --user alice --password-env SMTPC_TEST_BADPW --timeout 20 b@example.com <"$W/hard.msg"
expect_rc 77 "wrong password" "$W/err"
grep -q '^smtpc: authentication failed: 535 5\.7\.8 ' "$W/err" || fail "wrong password message"
grep -qF 'wrong-password-123' "$W/err" "$W/out" && fail "a refused password was printed"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["status"]=="auth-failed" and r["exit"]==77 and r["code"]==535 and r["phase"]=="auth", r' \
    "$W/out" || fail "--json auth failure: $(cat "$W/out")"
sleep 0.3
[ "$(aio_count)" = $n ] || fail "a message was stored after failed AUTH"

step "aiosmtpd, XOAUTH2 with the token from a command (stdin left alone)"
printf '%s\n' "$TOKEN" >"$W/token"
run_smtpc "$W/out" "$W/err" -v --server "$S" --tls none --from a@example.com \
    --user alice --auth xoauth2 --oauth2-token-cmd "cat >/dev/null; cat '$W/token'" \
    --timeout 20 b@example.com <"$W/hard.msg"
expect_rc 0 "XOAUTH2" "$W/err"
n=$((n + 1)); delivered $n "XOAUTH2"
[ "$(aio_json_get $n auth_mechanism)" = XOAUTH2 ] || fail "XOAUTH2 not used"
grep -qF -- "$TOKEN" "$W/err" && fail "-v shows the token"
grep -qF -- "$(printf 'user=alice\001auth=Bearer %s\001\001' "$TOKEN" | base64 -w0)" "$W/err" \
    && fail "-v shows the XOAUTH2 payload"

step "aiosmtpd, OAUTHBEARER chosen by auto, token from a file"
run_smtpc "$W/out" "$W/err" --json --server "$S" --tls none --from a@example.com \
    --user alice --oauth2-token-file "$W/token" --timeout 20 b@example.com <"$W/hard.msg"
expect_rc 0 "OAUTHBEARER" "$W/err"
n=$((n + 1)); delivered $n "OAUTHBEARER"
[ "$(aio_json_get $n auth_mechanism)" = OAUTHBEARER ] || fail "auto did not pick OAUTHBEARER"
grep -q '"auth":"OAUTHBEARER"' "$W/out" || fail "--json auth: $(cat "$W/out")"

step "aiosmtpd, wrong token: error challenge answered, 77"
export SMTPC_TEST_BADTOKEN='not-the-token-456'
run_smtpc "$W/out" "$W/err" -v --server "$S" --tls none --from a@example.com \
    --user alice --auth xoauth2 --oauth2-token-env SMTPC_TEST_BADTOKEN --timeout 20 \
    b@example.com <"$W/hard.msg"
expect_rc 77 "wrong token" "$W/err"
grep -q '^< 334 ' "$W/err" || fail "no error challenge in the dialogue"
grep -q '^smtpc: authentication failed: 535' "$W/err" || fail "wrong token message"
grep -qF 'not-the-token-456' "$W/err" && fail "a refused token was printed"

step "aiosmtpd, a NUL byte in the message: 65, nothing delivered"
printf 'Subject: nul\r\n\r\nbefore\0after\r\n' >"$W/nul.msg"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --from a@example.com \
    --timeout 20 b@example.com <"$W/nul.msg"
expect_rc 65 "NUL byte" "$W/err"
grep -q 'NUL byte' "$W/err" || fail "NUL message: $(cat "$W/err")"
sleep 0.3
[ "$(aio_count)" = $n ] || fail "a message with a NUL byte was stored"

step "aiosmtpd, empty stdin"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --from '' --timeout 20 \
    b@example.com </dev/null
expect_rc 0 "empty stdin, null sender" "$W/err"
n=$((n + 1)); aio_wait_count $n
[ ! -s "$AIO_DIR/$n.eml" ] || fail "empty message stored as $(wc -c <"$AIO_DIR/$n.eml") bytes"
case "$(aio_json_get $n mail_from)" in ""|"<>") ;; *) fail "null reverse-path" ;; esac
grep -q "MAIL FROM:<>" "$AIO_LOG" || fail "MAIL FROM:<> not sent"

echo "ok"
