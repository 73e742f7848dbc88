#!/usr/bin/env bash
# Issue 2's "done when", through the CLI and a real MTA: a message with the
# lines ".", "..", ".x", a bare LF, a bare CR and no final newline arrives
# in Postfix's mailbox byte for byte (CRLF-normalised), once with BDAT
# (Postfix offers CHUNKING) and once with DATA and dot-stuffing.
set -euo pipefail
. "$SMTPC_ROOT/tests/servers/lib.sh"
SMTPC=$SMTPC_BUILD/smtpc
PY=/usr/bin/python3
W=$(harness_tmpdir cli-mta)

start_mta "$W/mta" || exit $?

printf 'From: a@example.org\r\nTo: t@localhost\r\nSubject: dots\r\n\r\n.\n..\n.x\nbare LF\nbare\rCR\r\n. \r\n.\r\nend without newline' >"$W/msg"
# The expected bytes: every CR, LF or CRLF becomes CRLF, and a CRLF ends it.
"$PY" - "$W/msg" "$W/expect" <<'PYEOF'
import re, sys
data = open(sys.argv[1], 'rb').read()
data = re.sub(rb'\r\n|\r|\n', b'\r\n', data)
if not data.endswith(b'\r\n'):
    data += b'\r\n'
open(sys.argv[2], 'wb').write(data)
PYEOF

n=0
for mode in chunking data; do
    extra=()
    [ "$mode" = data ] && extra=(--no-chunking)
    rcpt="$mode@localhost"
    "$SMTPC" -v --server "$(harness_hostport "$MTA_PORT")" --tls none \
        --from a@example.org "${extra[@]}" "$rcpt" <"$W/msg" 2>"$W/err.$mode" ||
        { cat "$W/err.$mode" >&2; echo "FAIL: smtpc ($mode)" >&2; exit 1; }
    if [ "$mode" = chunking ]; then
        grep -q '^> BDAT [0-9]* LAST' "$W/err.$mode" || { echo "FAIL: BDAT not used" >&2; exit 1; }
    else
        grep -q '^> DATA' "$W/err.$mode" || { echo "FAIL: DATA not used" >&2; exit 1; }
    fi
    n=$((n + 1))
    mta_wait_delivery "$n" 30
    f=$(mta_messages_for "$rcpt")
    [ -n "$f" ] || { echo "FAIL: nothing delivered to $rcpt" >&2; exit 1; }
    if ! mta_strip_trace --crlf "$f" | cmp - "$W/expect"; then
        echo "FAIL: $mode: delivered message differs from the CRLF-normalised input" >&2
        mta_strip_trace --crlf "$f" | od -c | head -20 >&2
        exit 1
    fi
    echo "ok: $mode delivery byte-exact"
done
