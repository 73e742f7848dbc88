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
pkg-config --exists gmime-3.0 || { echo "libgmime-3.0-dev missing (scripts/deps.sh)"; exit 77; }

W=$(harness_tmpdir mime)
GM=$W/mime_check_gmime
cc -O1 -Wall "$SMTPC_ROOT/tests/tools/mime_check_gmime.c" \
    $(pkg-config --cflags --libs gmime-3.0) -o "$GM" || fail "mime_check_gmime does not build"

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

# check N: parse message N with both parsers and compare with the input.
check() {
    local eml=$AIO_DIR/$1.eml p tool out f i
    [ -s "$eml" ] || fail "no message $eml"
    # Header lines: at most 78 characters (998 is the hard limit).
    "$PY" - "$eml" <<'PYEOF' || fail "a header line is too long or not CRLF"
import sys
data = open(sys.argv[1], "rb").read()
head = data.split(b"\r\n\r\n", 1)[0]
for line in head.split(b"\r\n"):
    if len(line) > 78 or b"\n" in line or b"\r" in line:
        print("bad header line:", line, file=sys.stderr); sys.exit(1)
for line in data.split(b"\r\n"):
    if len(line) > 998:
        print("line over 998", file=sys.stderr); sys.exit(1)
PYEOF
    for tool in python gmime; do
        out=$W/$1.$tool
        mkdir -p "$out.d"
        if [ $tool = python ]; then
            "$PY" "$SMTPC_ROOT/tests/tools/mime_check.py" ${UTF8:+--utf8} "$eml" "$out.d" >"$out" ||
                fail "$tool: defects in message $1"
        else
            "$GM" "$eml" "$out.d" >"$out" || fail "$tool could not read message $1"
        fi
        sed 's/^/  '"$tool"': /' "$out"
        grep -qxF "subject: $SUBJECT" "$out" || fail "$tool: subject differs"
        grep -qxF "from: $NAME <sender@example.com>" "$out" || fail "$tool: From differs"
        grep -qxF "tree: $WANT_TREE" "$out" || fail "$tool: tree differs"
        # Parts in order: text, html, image, then the files as given.
        grep -qxF "part 2: image/png image.png" "$out" || fail "$tool: inline image"
        i=3
        for f in "${FILES[@]}"; do
            grep -qxF "part $i: application/octet-stream $(basename "$f")" "$out" ||
                fail "$tool: part $i is not $(basename "$f")"
            cmp "$f" "$out.d/$i" || fail "$tool: attachment $i differs from $f"
            i=$((i + 1))
        done
        cmp "$W/image.png" "$out.d/2" || fail "$tool: the inline image differs"
        "$PY" - "$out.d/0" "$out.d/1" <<'PYEOF' || fail "$tool: the text or HTML body differs"
import sys
t = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
h = open(sys.argv[2], "rb").read().replace(b"\r\n", b"\n")
assert t == b"Hello,\n\nthe files are attached.\n", t
assert b'<img src="cid:image1@smtpc">' in h, h
PYEOF
    done
    cmp "$W/$1.python" "$W/$1.gmime" || fail "Python and GMime read message $1 differently"
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
