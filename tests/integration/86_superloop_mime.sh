#!/usr/bin/env bash
# examples/superloop.c -a: the first mail of the first session carries a
# file attached by the MIME writer while the poll() loop runs (pull API,
# a callback that says "later" every other block), beside plain mails of
# other sessions.  Postfix delivers it into a Maildir; Python's email
# package and GMime must both read back the subject, the tree and the
# file byte for byte; the other mails arrive as before.
set -euo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"
. "$SMTPC_ROOT/tests/servers/lib.sh"
. "$SMTPC_ROOT/tests/tools/mime_verify.sh"

EX=$SMTPC_BUILD/example_superloop
[ -x "$EX" ] || fail "$EX not built"
W=$(harness_tmpdir superloop-mime)
rc=0; mime_verify_init "$W" || rc=$?
[ $rc = 0 ] || exit $rc

"$PY" -c 'import os, sys; sys.stdout.buffer.write(bytes(range(256)) * 40 + os.urandom(50001))' \
    >"$W/sensor-log.bin"

step "Postfix: 3 sessions x 2 mails, session 1 mail 1 with an attachment"
harness_started start_mta "$W/mta" || exit 77
"$EX" -n 3 -m 2 -a "$W/sensor-log.bin" -f superloop@example.org -t rcpt@smtpc.test \
    -T 20 127.0.0.1 "$MTA_PORT" >"$W/out" 2>&1 || { cat "$W/out"; fail "superloop failed"; }
cat "$W/out"
grep -qx 'superloop: 6 of 6 mails accepted, [0-9]* sessions at once' "$W/out" || fail "summary"
mta_wait_delivery 6 || fail "not 6 messages delivered"
f=$(grep -l '^X-Superloop: session 1 mail 1$' $(mta_messages))
[ "$(echo "$f" | wc -w)" = 1 ] || fail "session 1 mail 1 delivered $(echo "$f" | wc -w) times"
mta_strip_trace --crlf "$f" >"$W/att.eml"
mime_verify "$W/att.eml" "$W/att" 0 "superloop session 1 mail 1, with a file" \
    " <superloop@example.org>" "multipart/mixed(text/plain,application/octet-stream)" 1 \
    "$W/sensor-log.bin"
for s in 1 2 3; do
    for m in 1 2; do
        [ "$(cat $(mta_messages) | grep -c "^X-Superloop: session $s mail $m\$")" = 1 ] ||
            fail "session $s mail $m not delivered once"
    done
done
[ "$(cat $(mta_messages) | grep -c '^\.this line starts with a dot$')" = 5 ] ||
    fail "the plain mails' dot line"
echo "86_superloop_mime OK"
