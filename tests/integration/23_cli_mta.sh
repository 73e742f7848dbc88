#!/usr/bin/env bash
# The CLI through a real MTA: a message with the lines ".", "..", ".x", a
# bare LF, a bare CR and no final newline arrives in Postfix's mailbox byte
# for byte (CRLF-normalised), once with BDAT (Postfix offers CHUNKING) and
# once with DATA and dot-stuffing.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc
W=$(harness_tmpdir cli-mta)

start_mta "$W/mta" || exit $?

printf 'From: a@example.org\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\nMessage-ID: <dots@smtpc.test>\r\nTo: t@localhost\r\nSubject: dots\r\n\r\n.\n..\n.x\nbare LF\nbare\rCR\r\n. \r\n.\r\nend without newline' >"$W/msg"
# The expected bytes: every CR, LF or CRLF becomes CRLF, and a CRLF ends it.
crlf_normalise "$W/msg" "$W/expect"

n=0
for mode in chunking data; do
    extra=()
    [ "$mode" = data ] && extra=(--no-chunking)
    rcpt="$mode@localhost"
    "$SMTPC" -v --server "$(harness_hostport "$MTA_PORT")" --tls none \
        --from a@example.org "${extra[@]}" "$rcpt" <"$W/msg" 2>"$W/err.$mode" ||
        { cat "$W/err.$mode" >&2; fail "smtpc ($mode)"; }
    if [ "$mode" = chunking ]; then
        grep -q '^> BDAT [0-9]* LAST' "$W/err.$mode" || fail "BDAT not used"
    else
        grep -q '^> DATA' "$W/err.$mode" || fail "DATA not used"
    fi
    n=$((n + 1))
    mta_wait_delivery "$n" 30
    f=$(mta_messages_for "$rcpt")
    [ -n "$f" ] || fail "nothing delivered to $rcpt"
    if ! mta_strip_trace --crlf "$f" | cmp - "$W/expect"; then
        mta_strip_trace --crlf "$f" | od -c | head -20 >&2
        fail "$mode: delivered message differs from the CRLF-normalised input"
    fi
    echo "ok: $mode delivery byte-exact"
done
