#!/usr/bin/env bash
# Errors said clearly and early, against aiosmtpd and the script server:
# an --auth mechanism the server does not offer (78, nothing sent).
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc
W=$(harness_tmpdir messages)
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
[ "$(aio_count)" = 0 ] || fail "a message was stored"
step "--auth plain, offered: sent"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --auth plain \
    --user alice --password-file "$W/pw" -f a@example.com b@example.com <"$W/msg"
expect_rc 0 "--auth plain" "$W/err"
echo "ok"
