#!/usr/bin/env bash
# nx_smtp_mail_send_mime (the NetX Duo API's MIME extension, through
# examples/netx_mime_send.c, hosted) against a private Postfix delivering
# into a Maildir: a text + HTML mail with an inline image, a non-ASCII
# subject and sender name, binary attachments from a FileX-shaped callback
# and one from a buffer, a Bcc.  Postfix offers SMTPUTF8 (UTF-8 headers)
# and then not (encoded-words): each delivered message is read back by
# Python's email package and by GMime, which must agree on the subject,
# From, the tree and every attachment byte for byte.  The header fields
# nx_smtp_mail_send adds (Date, Message-ID, X-Priority) are checked too.
# Without SMTPUTF8 a UTF-8 recipient is refused after EHLO, nothing sent.
set -euo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"
. "$SMTPC_ROOT/tests/servers/lib.sh"
. "$SMTPC_ROOT/tests/tools/mime_verify.sh"

EX=$SMTPC_BUILD/example_netx_mime_send
[ -x "$EX" ] || { echo "SKIP: no $EX (built with SMTPC_WITH_MIME)"; exit 77; }
W=$(harness_tmpdir netx-mime)
rc=0; mime_verify_init "$W" || rc=$?
[ $rc = 0 ] || exit $rc

mkdir -p "$W/files"
head -c 200001 /dev/urandom >"$W/files/random.bin"
"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 100 + b"\r\n.\r\nFrom x\n")' \
    >"$W/files/all-bytes.dat"
head -c 3000 /dev/urandom >"$W/files/journal-été.bin"
head -c 7000 /dev/urandom >"$W/files/ram-log.bin"
head -c 9000 /dev/urandom >"$W/image.png"
SUBJECT='Capteur n°7 — alarme 東京 🎉, a subject long enough to be folded over lines'
NAME='Capteur Dœ'
TREE='multipart/mixed(multipart/related(multipart/alternative(text/plain,text/html),image/png),application/octet-stream,application/octet-stream,application/octet-stream,application/octet-stream)'
FILES=("$W/files/random.bin" "$W/files/all-bytes.dat" "$W/files/journal-été.bin")

n=0
for mode in smtputf8 plain; do
    step "Postfix ($mode): nx_smtp_mail_send_mime"
    extra=()
    [ $mode = plain ] && extra=(smtputf8_enable=no)
    harness_started start_mta "$W/mta-$mode" "${extra[@]+"${extra[@]}"}" || exit 77
    "$EX" -n "$NAME" -p high -i "$W/image.png" -M "$W/files/ram-log.bin" \
        -b hidden@smtpc.test 127.0.0.1 "$MTA_PORT" sender@example.com \
        rcpt@smtpc.test "$SUBJECT" "${FILES[@]}" >"$W/out" 2>&1 || { cat "$W/out"; fail "send ($mode)"; }
    cat "$W/out"
    grep -qx 'mail: status 0x00, last reply 250' "$W/out" || fail "status"
    mta_wait_delivery 2 || fail "not delivered to both recipients"
    f=$(mta_messages_for rcpt@smtpc.test)
    [ -n "$f" ] || fail "nothing for rcpt@smtpc.test"
    [ -n "$(mta_messages_for hidden@smtpc.test)" ] || fail "the Bcc got nothing"
    mta_strip_trace --crlf "$f" >"$W/$mode.eml"
    grep -aqi 'hidden@' "$W/$mode.eml" && fail "the Bcc address is in the message"
    head=$(sed '/^\r$/q' "$W/$mode.eml" | tr -d '\r')
    echo "$head" | grep -qx 'X-Priority: 1' || fail "X-Priority"
    echo "$head" | grep -Eqx 'Message-ID: <[0-9a-f]+\.[0-9]+\.[0-9a-f]{8}@example\.com>' || fail "Message-ID"
    echo "$head" | grep -Eqx 'Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} \+0000' || fail "Date"
    if [ $mode = smtputf8 ]; then
        utf8=1
        echo "$head" | grep -q '^Subject: Capteur n°7' || fail "subject not sent in UTF-8"
    else
        utf8=0
        echo "$head" | grep -q '^Subject: =?utf-8?' || fail "subject not encoded"
        LC_ALL=C grep -q $'[\x80-\xff]' <(echo "$head") && fail "8-bit header without SMTPUTF8"
    fi
    mime_verify "$W/$mode.eml" "$W/$mode" $utf8 "$SUBJECT" "$NAME <sender@example.com>" \
        "$TREE" 2 "$W/image.png" "${FILES[@]}" "$W/files/ram-log.bin"
    if [ $mode = plain ]; then
        step "Postfix without SMTPUTF8: a UTF-8 recipient, NX_SMTP_INVALID_PARAM after EHLO"
        before=$(mta_count)
        if "$EX" 127.0.0.1 "$MTA_PORT" sender@example.com 'pé@smtpc.test' x >"$W/out" 2>&1; then
            fail "a UTF-8 address sent without SMTPUTF8"
        fi
        grep -qx 'mail: status 0xa5, last reply 0' "$W/out" || fail "UTF-8 address: $(cat "$W/out")"
        sleep 1
        [ "$(mta_count)" = "$before" ] || fail "UTF-8 address: something was delivered"
        grep -q 'disconnect from .* ehlo=1 quit=1 commands=2$' "$MTA_LOG" ||
            fail "UTF-8 address: the session was not EHLO then QUIT"
    fi
    mta_stop
done

step "a subject with CR LF: NX_SMTP_INVALID_PARAM, nothing sent"
if "$EX" 127.0.0.1 1 sender@example.com rcpt@smtpc.test $'x\r\nBcc: v@smtpc.test' >"$W/out" 2>&1; then
    fail "injection accepted"
fi
grep -qx 'mail: status 0xa5, last reply 0' "$W/out" || fail "injection: $(cat "$W/out")"
echo "85_netx_mime OK"
