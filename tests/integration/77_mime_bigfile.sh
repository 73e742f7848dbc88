#!/usr/bin/env bash
# The MIME writer streams: examples/send_attachment.c mails a 10 MB and a
# 200 MB file (read by a callback, base64 on the fly) to smtp-sink, and
# its peak resident size (tests/tools/peak_rss.c) is the same for both.
# The 10 MB attachment is decoded back by Python's email package and must
# equal the file.  MIME_BIG_MB changes the large size (1024 for a 1 GB run
# by hand).
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"
. "$SMTPC_ROOT/tests/servers/lib.sh"

EX=$SMTPC_BUILD/example_send_attachment
RSS=$SMTPC_BUILD/peak_rss
[ -x "$EX" ] && [ -x "$RSS" ] || { echo "example_send_attachment or peak_rss not built"; exit 77; }
BIG=${MIME_BIG_MB:-200}

W=$(harness_tmpdir bigmime)
start_sink "$W/sink" || exit $?
head -c $((10 * 1024 * 1024)) /dev/urandom >"$W/small.bin"
head -c $((BIG * 1024 * 1024)) /dev/urandom >"$W/big.bin"

# send FILE: mails FILE, prints the sender's peak RSS in KiB.
send() {
    "$RSS" "$W/rss" "$EX" "$HARNESS_ADDR" "$SINK_PORT" a@example.com \
        b@example.org "big attachment" "$1" >"$W/out" 2>&1 ||
        { cat "$W/out" >&2; fail "sending $1 failed"; }
    cat "$W/rss"
}

step "10 MB"
t0=$(date +%s.%N)
r1=$(send "$W/small.bin")
t1=$(date +%s.%N)
sink_wait_count 1 || fail "the sink did not get the 10 MB mail"
step "$BIG MB"
r2=$(send "$W/big.bin")
t2=$(date +%s.%N)
sink_wait_count 2 60 || fail "the sink did not get the $BIG MB mail"
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
echo "peak RSS: 10 MB file ${r1} KiB ($(secs "$t0" "$t1") s), $BIG MB file ${r2} KiB ($(secs "$t1" "$t2") s)"
[ -n "$r1" ] && [ -n "$r2" ] || fail "no RSS figure"
[ $((r2 - r1)) -lt 4096 ] || fail "peak memory grew by $((r2 - r1)) KiB with the file"

step "the 10 MB attachment decodes to the file"
f=$(sink_files | head -n 1)
sink_strip --crlf "$f" >"$W/got.eml"
mkdir -p "$W/parts"
/usr/bin/python3 "$SMTPC_ROOT/tests/tools/mime_check.py" "$W/got.eml" "$W/parts" ||
    fail "Python found defects"
cmp "$W/small.bin" "$W/parts/2" || fail "the attachment differs"
rm -f "$W/big.bin" "$W/sink"/*
echo "77_mime_bigfile OK"
