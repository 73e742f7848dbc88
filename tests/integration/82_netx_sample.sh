#!/usr/bin/env bash
# NetX Duo's own sample, samples/demo_netxduo_smtp_client.c, compiled
# unchanged against smtpc (only its file list and include paths differ:
# cmake/netxduo.cmake), delivers through NetX Duo's TCP stack to Postfix,
# byte for byte.
#
# The sample sends from 1.2.3.5 to 1.2.3.4:25 with AUTH PLAIN as
# myusername/mypassword; tests/netxduo/sample_harness.c adds 1.2.3.4 to the
# RAM network with a relay to a private Postfix on loopback, which offers
# AUTH through Cyrus SASL (a sasldb holding that one user).
# Skips (77) without ThreadX/NetX Duo sources, Postfix, or saslpasswd2.
set -euo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"

EX=$SMTPC_BUILD/netx_demo_sample
if [ ! -x "$EX" ]; then
    echo "SKIP: $EX not built: no ThreadX/NetX Duo sources (THREADX_DIR, NETXDUO_DIR," \
         "or ../shared/third_party next to the source tree)"
    exit 77
fi
command -v saslpasswd2 >/dev/null || { echo "SKIP: saslpasswd2 missing (sasl2-bin)"; exit 77; }
. "$SMTPC_ROOT/tests/servers/lib.sh"


PY=$HARNESS_PY
W=$(harness_tmpdir netx-sample)

rc=0
start_mta "$W/maildir" "${MTA_SASL_PARAMS[@]}" || rc=$?
[ "$rc" = 0 ] || exit "$rc"
mta_sasl_user myusername mypassword || fail "mta_sasl_user"

step "NetX Duo's sample, unchanged, through NetX Duo to Postfix (AUTH PLAIN)"
SMTPC_RELAY_HOST=127.0.0.1 SMTPC_RELAY_PORT=$MTA_PORT timeout 150 "$EX" >"$W/out" 2>&1 \
    || { cat "$W/out" >&2; fail "the sample's process failed"; }
cat "$W/out"
mta_wait_delivery 1 || fail "nothing delivered"
f=$(mta_messages | head -n 1)
[ "$(mta_recipient "$f")" = your@yourcompany.com ] || fail "recipient: $(mta_recipient "$f")"
grep -q 'sasl_method=PLAIN, sasl_username=myusername' "$MTA_LOG" \
    || fail "Postfix did not see AUTH PLAIN as myusername"

mta_strip_trace --crlf "$f" >"$W/got"
"$PY" - "$W/got" <<'PYEOF'
import re, sys
msg = open(sys.argv[1], "rb").read()
# The sample's MAIL_BODY, as its C string literal spells it.
body = (b"NetX SMTP client is a simple SMTP client implementation  \r\n"
        b"that allow embedded devices to send email to an SMTP server. \r\n"
        b"This feature is intended to allow a device to send simple status\r\n "
        b"reports using the most universal Internet application, email.\r\n")
head, sep, got = msg.partition(b"\r\n\r\n")
assert sep, "no end of header"
want = [
    b"To: your@yourcompany.com",
    b"From: my@mycompany.com",
    b"Subject: NetX SMTP Client Demo",
    re.compile(rb"Message-ID: <[0-9a-f]+\.\d+\.[0-9a-f]{8}@mycompany\.com>"),
    b"X-Priority: 3",
    b"MIME-Version: 1.0",
    b'Content-Type: text/plain; charset="utf-8"',
    b"Content-Transfer-Encoding: 8bit",
]
lines = head.split(b"\r\n")
assert len(lines) == len(want), lines
for l, w in zip(lines, want):
    assert (w.fullmatch(l) if hasattr(w, "fullmatch") else l == w), (l, w)
if got != body:
    sys.stderr.write("body differs:\n got  %r\n want %r\n" % (got, body))
    sys.exit(1)
PYEOF
echo "82_netx_sample: ok"
