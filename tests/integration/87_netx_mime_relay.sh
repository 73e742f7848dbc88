#!/usr/bin/env bash
# nx_smtp_mail_send_mime over NetX Duo's TCP/IP stack: tests/netxduo/
# netx_relay.c -A runs the MIME extension on one NX_IP of the RAM network,
# the relay thread carries the connection to a private Postfix on loopback
# that delivers into a Maildir.  Text + HTML, a non-ASCII subject, binary
# attachments from a FileX-shaped callback and one from a buffer, over IPv4
# and IPv6 and twice with one client; Python's email package and GMime
# must read back the subject, the tree and every attachment byte for byte.
# Last, a 1 MB attachment in BDAT chunks (Postfix offers CHUNKING), then
# the same with DATA (CHUNKING off).  netx_relay fails by itself when a
# packet of the client's pools or the relay's is not back.
set -euo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"

EX=$SMTPC_BUILD/netx_relay
if [ ! -x "$EX" ]; then
    echo "SKIP: $EX not built: no ThreadX/NetX Duo sources"
    exit 77
fi
. "$SMTPC_ROOT/tests/servers/lib.sh"
. "$SMTPC_ROOT/tests/tools/mime_verify.sh"
W=$(harness_tmpdir netx-mime-relay)
rc=0; mime_verify_init "$W" || rc=$?
[ $rc = 0 ] || exit $rc

mkdir -p "$W/f"
head -c 5001 /dev/urandom >"$W/f/capture.bin"
"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 12 + b"\r\n.\r\nFrom x\n")' \
    >"$W/f/all-bytes.dat"
head -c 2000 /dev/urandom >"$W/f/réglages.cfg"
head -c 3000 /dev/urandom >"$W/f/ram-buffer.bin"
SUBJECT='NetX Duo — rapport du capteur 東京 ✓'
TREE='multipart/mixed(multipart/alternative(text/plain,text/html),application/octet-stream,application/octet-stream,application/octet-stream,application/octet-stream)'
ATT=("$W/f/capture.bin" "$W/f/all-bytes.dat" "$W/f/réglages.cfg")

# send_check RUN N ARGS...: netx_relay sends N mails; each delivered one
# is checked by both parsers.
total=0
send_check() {
    local run=$1 n=$2 f i
    shift 2
    timeout 180 "$EX" "$@" -f sender@example.com -t rcpt@smtpc.test -d example.com \
        -s "$SUBJECT" -b "$W/f/ram-buffer.bin" -n $n >"$W/$run.out" 2>&1 ||
        { cat "$W/$run.out" >&2; fail "netx_relay ($run)"; }
    cat "$W/$run.out"
    [ "$(grep -c 'status 0x00, last reply 250$' "$W/$run.out")" = $n ] || fail "$run: status"
    total=$((total + n))
    mta_wait_delivery $total || fail "$run: not delivered"
    i=0
    for f in $(mta_messages | tail -n $n); do
        i=$((i + 1))
        mta_strip_trace --crlf "$f" >"$W/$run.$i.eml"
        grep -aqx $'X-Priority: 1\r' "$W/$run.$i.eml" || fail "$run: X-Priority"
        # Postfix offers SMTPUTF8: the subject goes in UTF-8 (RFC 6532).
        grep -aq '^Subject: NetX Duo — ' "$W/$run.$i.eml" || fail "$run: subject not UTF-8"
        mime_verify "$W/$run.$i.eml" "$W/$run.$i" 1 "$SUBJECT" " <sender@example.com>" \
            "$TREE" 2 "${ATT[@]}" "$W/f/ram-buffer.bin"
    done
}

harness_started start_mta "$W/mta" || exit 77
a=()
for f in "${ATT[@]}"; do a+=(-A "$f"); done
for run in v4 v6 twice; do
    step "Postfix over NetX Duo ($run): nx_smtp_mail_send_mime"
    case $run in
        v4) send_check v4 1 -H 127.0.0.1 -P "$MTA_PORT" "${a[@]}" ;;
        v6) send_check v6 1 -6 -H 127.0.0.1 -P "$MTA_PORT" "${a[@]}" ;;
        twice) send_check twice 2 -H 127.0.0.1 -P "$MTA_PORT" "${a[@]}" ;;
    esac
done
# One client's mails have distinct Message-IDs.  (Two runs of this
# simulated board boot identically: same ticks, same addresses, so the
# same first Message-ID, as nx_smtp_mail_send gives it.)
ids=$(for f in $(mta_messages | tail -n 2); do grep -i '^Message-ID:' "$f"; done | sort -u | wc -l)
[ "$ids" = 2 ] || fail "Message-IDs of one client not distinct"

# A reply a chunk comes back while the chunks flow: Postfix's log says
# the mail went in BDAT chunks, each accepted ("bdat=N/M" if not).
head -c 1000001 /dev/urandom >"$W/f/capture.bin"
step "Postfix over NetX Duo: a 1 MB attachment in BDAT chunks"
send_check bdat 1 -H 127.0.0.1 -P "$MTA_PORT" "${a[@]}"
s=$(mta_session $total)
echo "Postfix: $s"
[[ $s =~ \ bdat=([0-9]+)\  && $s != *data=* ]] && [ "${BASH_REMATCH[1]}" -gt 100 ] ||
    fail "bdat: Postfix logged $s"
mta_stop

step "Postfix without CHUNKING over NetX Duo: the 1 MB attachment with DATA"
harness_started start_mta "$W/mta-big" smtpd_discard_ehlo_keywords=chunking || exit 77
total=0
send_check data 1 -H 127.0.0.1 -P "$MTA_PORT" "${a[@]}"
s=$(mta_session 1)
echo "Postfix: $s"
[[ $s == *" data=1 "* && $s != *bdat=* ]] || fail "data: Postfix logged $s"
echo "87_netx_mime_relay OK"
