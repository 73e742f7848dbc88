#!/usr/bin/env bash
# scripts/demo.sh: smtpc in one minute.  Starts a throwaway SMTP server
# (aiosmtpd, on 127.0.0.1, a free high port), sends it a sample message with
# build/smtpc -v (the SMTP dialogue goes to stderr), then shows exactly what
# the server received, and stops the server.
#
#   make demo          (builds first)
#   scripts/demo.sh    SMTPC=/path/to/smtpc to use another binary
set -euo pipefail
SMTPC_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export SMTPC_ROOT
SMTPC=${SMTPC:-${SMTPC_BUILD:-$SMTPC_ROOT/build}/smtpc}

if [ ! -x "$SMTPC" ]; then
    echo "demo: $SMTPC is not built yet; run 'make' first" >&2
    exit 1
fi

. "$SMTPC_ROOT/tests/servers/lib.sh"

W=$(harness_tmpdir demo)
printf '%s\r\n' \
    "From: Demo <demo@example.org>" \
    "To: Alice <alice@example.com>" \
    "Subject: Hello from smtpc" \
    "Date: $(LC_ALL=C date -R)" \
    "Message-ID: <demo.$$.$(date +%s)@example.org>" \
    "" \
    "Hello Alice," \
    "" \
    ".this line starts with a dot: smtpc dot-stuffs it on the wire" \
    "and the server removes the extra dot again." \
    "" \
    "-- " \
    "smtpc demo" >"$W/message.eml"

rc=0
start_aiosmtpd "$W/received" || rc=$?
if [ "$rc" != 0 ]; then
    [ "$rc" != 77 ] || echo "demo: no server to send to; 'scripts/deps.sh demo' installs it" >&2
    exit "$rc"
fi
echo "== server: aiosmtpd on 127.0.0.1:$AIO_PORT =="
echo "== the message (smtpc's stdin) =="
cat "$W/message.eml" | tr -d '\r'
echo
echo "== smtpc -v --server 127.0.0.1:$AIO_PORT --tls none --from demo@example.org alice@example.com =="
rc=0
"$SMTPC" -v --server "127.0.0.1:$AIO_PORT" --tls none --from demo@example.org \
    alice@example.com <"$W/message.eml" || rc=$?
echo "== smtpc exit status: $rc =="
if [ "$rc" != 0 ]; then
    exit "$rc"
fi

aio_wait_count 1 10
echo
echo "== what the server received =="
echo "envelope: MAIL FROM:<$(aio_json_get 1 mail_from)> RCPT TO:<$(aio_json_get 1 rcpt_tos)>"
tr -d '\r' <"$W/received/1.eml"
if cmp -s "$W/message.eml" "$W/received/1.eml"; then
    echo "== identical to the message sent, byte for byte =="
else
    echo "== DIFFERENT from the message sent ==" >&2
    exit 1
fi
