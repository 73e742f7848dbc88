#!/usr/bin/env bash
# The MIME writer against real parsers: examples/send_attachment.c sends
# a text + HTML mail with an inline image, a non-ASCII subject and binary
# attachments (random bytes, every byte value, an empty file, a non-ASCII
# file name) to aiosmtpd on loopback, once without SMTPUTF8 (RFC 2047
# encoded-words) and once with it (UTF-8 headers, RFC 6532).  Each received
# message is read back by Python's email package (default policy, no
# defect allowed) and by GMime (a small C program, tests/tools/): both must
# see the subject and addresses given, the tree of parts a mail client
# builds, and every attachment byte for byte.
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"
. "$SMTPC_ROOT/tests/servers/lib.sh"

EX=$SMTPC_BUILD/example_send_attachment
[ -x "$EX" ] || { echo "no $EX (built with the examples)"; exit 77; }
PY=/usr/bin/python3
. "$SMTPC_ROOT/tests/tools/mime_verify.sh"

W=$(harness_tmpdir mime)
rc=0; mime_verify_init "$W" || rc=$?
[ $rc = 0 ] || exit $rc

# The files: random bytes over several base64 lines and read blocks, all
# 256 byte values (CR, LF, NUL, "=", ".", 8-bit) many times, an empty
# file, a name that needs RFC 2231, an "image".
mkdir -p "$W/files"
head -c 300001 /dev/urandom >"$W/files/random.bin"
"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 300 + b"\r\n.\r\nFrom x\n")' \
    >"$W/files/all-bytes.dat"
: >"$W/files/empty.txt"
head -c 5000 /dev/urandom >"$W/files/données d'été — 東京.bin"
head -c 20000 /dev/urandom >"$W/image.png"
SUBJECT='Grüße aus Köln — 東京の天気 🎉 e'$'\xcc\x81'' and a subject long enough to need several encoded words, commas, "quotes"'
NAME='Dœ, Jöhn "JD" \\ 山田'
WANT_TREE='multipart/mixed(multipart/related(multipart/alternative(text/plain,text/html),image/png),application/octet-stream,application/octet-stream,application/octet-stream,application/octet-stream)'

# check N: message N read by both parsers (tests/tools/mime_verify.sh),
# every header line at most 78 characters; then the text and HTML bodies.
check() {
    local tool
    MIME_VERIFY_HEADER_MAX=78 mime_verify "$AIO_DIR/$1.eml" "$W/$1" "${UTF8:-0}" "$SUBJECT" \
        "$NAME <sender@example.com>" "$WANT_TREE" 2 "$W/image.png" "${FILES[@]}"
    for tool in python gmime; do
        "$PY" - "$W/$1.$tool.d/0" "$W/$1.$tool.d/1" <<'PYEOF' || fail "$tool: the text or HTML body differs"
import sys
t = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
h = open(sys.argv[2], "rb").read().replace(b"\r\n", b"\n")
assert t == b"Hello,\n\nthe files are attached.\n", t
assert b'<img src="cid:image1@smtpc">' in h, h
PYEOF
    done
}

FILES=("$W/files/random.bin" "$W/files/all-bytes.dat" "$W/files/empty.txt"
       "$W/files/données d'été — 東京.bin")

n=0
for mode in plain smtputf8; do
    step "aiosmtpd ($mode)"
    opts=() UTF8=
    [ $mode = smtputf8 ] && opts=(--smtputf8) UTF8=1
    start_aiosmtpd "$W/aio-$mode" "${opts[@]}" || exit $?
    "$EX" -i "$W/image.png" -n "$NAME" "$HARNESS_ADDR" "$AIO_PORT" sender@example.com \
        rcpt@example.org "$SUBJECT" "${FILES[@]}" || fail "send_attachment failed ($mode)"
    aio_wait_count 1 || fail "aiosmtpd got nothing"
    n=1
    # The size announced is the size received, exactly.
    got=$(wc -c <"$AIO_DIR/$n.eml")
    size=$(aio_json_get "$n" mail_options | sed -n 's/^SIZE=//p')
    echo "  received $got bytes, SIZE=$size"
    [ "$size" = "$got" ] || fail "SIZE=$size announced, $got bytes received"
    utf8=$(aio_json_get "$n" smtp_utf8)
    if [ $mode = smtputf8 ]; then
        [ "$utf8" = true ] || fail "UTF-8 headers sent without SMTPUTF8"
        grep -q "^Subject: Grüße" "$AIO_DIR/$n.eml" || fail "subject not in UTF-8"
    else
        grep -q '^Subject: =?utf-8?' "$AIO_DIR/$n.eml" || fail "subject not encoded"
        LC_ALL=C grep -q $'^[^\r]*[\x80-\xff]' <(sed '/^\r$/q' "$AIO_DIR/$n.eml") &&
            fail "8-bit bytes in the header without SMTPUTF8"
    fi
    check "$n"
    stop_aiosmtpd 2>/dev/null || true
done
echo "76_mime_parsers OK"
