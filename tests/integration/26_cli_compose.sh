#!/usr/bin/env bash
# smtpc composes the message itself (--subject, --to/--cc/--bcc,
# --body-file, --html-file, --attach, --header): a text and an HTML body,
# a CJK + emoji subject and two binary attachments (random bytes, one with
# a non-ASCII name) are delivered to aiosmtpd, without and with SMTPUTF8;
# Python's email package and GMime both read back the subject, the part
# tree and every attachment byte for byte; SIZE= is the size received;
# Bcc is delivered but in no header.  --dry-run prints the same message.
# Media types are guessed from the name and ;type= overrides them; bad
# options and files give 64 and 66 and send nothing.  Last, a 1 MB and a
# large (COMPOSE_BIG_MB, default 100) attachment go to smtp-sink with the
# same peak resident size.
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"
. "$SMTPC_ROOT/tests/servers/lib.sh"
harness_need_smtpc
PY=/usr/bin/python3
. "$SMTPC_ROOT/tests/tools/mime_verify.sh"
export SMTPC_CONFIG=   # no configuration file of the user's

W=$(harness_tmpdir compose)
rc=0; mime_verify_init "$W" || rc=$?
[ $rc = 0 ] || exit $rc

mkdir -p "$W/files"
head -c 300001 /dev/urandom >"$W/files/random.bin"
head -c 70000 /dev/urandom >"$W/files/写真 📎 été.dat"
printf 'Hello,\n\nthe files are attached.\n.\nA dot line above.\n' >"$W/body.txt"
printf '<p>Hello,</p>\n<p>the files are <b>attached</b>.</p>\n' >"$W/body.html"
SUBJECT='東京の天気 🎉 — rapport für Jürgen'
FROMNAME='山田 Jöhn'
TREE='multipart/mixed(multipart/alternative(text/plain,text/html),application/octet-stream,application/octet-stream)'
FILES=("$W/files/random.bin" "$W/files/写真 📎 été.dat")

compose_args() {
    printf '%s\0' --from sender@example.com --from-name "$FROMNAME" \
        --to 'Bob <bob@example.org>' --cc carol@example.org --bcc hidden@example.net \
        --subject "$SUBJECT" --body-file "$W/body.txt" --html-file "$W/body.html" \
        --header 'X-Mailer-Test: compose' \
        --attach "${FILES[0]}" --attach "${FILES[1]}"
}
mapfile -d '' ARGS < <(compose_args)

# check EML [--utf8]: both parsers read EML as it was composed
# (tests/tools/mime_verify.sh), with the To and Cc given and both bodies.
check() {
    local eml=$1 utf8=0 tool
    [ "${2:-}" = --utf8 ] && utf8=1
    MIME_VERIFY_HEADER_MAX=78 mime_verify "$eml" "$eml" $utf8 "$SUBJECT" \
        "$FROMNAME <sender@example.com>" "$TREE" 2 "${FILES[@]}"
    for tool in python gmime; do
        grep -qxF "to: Bob <bob@example.org>" "$eml.$tool" || fail "$tool: To differs"
        grep -qxF "cc:  <carol@example.org>" "$eml.$tool" || fail "$tool: Cc differs"
        cmp <(tr -d '\r' <"$eml.$tool.d/0") "$W/body.txt" || fail "$tool: the text body differs"
        cmp <(tr -d '\r' <"$eml.$tool.d/1") "$W/body.html" || fail "$tool: the HTML body differs"
    done
    # Bcc: in no header; the custom field is there.
    sed '/^\r$/q' "$eml" >"$eml.head"
    grep -qi 'hidden@example.net' "$eml.head" && fail "the Bcc address is in the header"
    grep -qi '^Bcc:' "$eml.head" && fail "a Bcc field was sent"
    grep -q '^X-Mailer-Test: compose' "$eml.head" || fail "--header missing"
    grep -q '^Message-ID: <[0-9a-f]*\.smtpc@example\.com>' "$eml.head" || fail "no Message-ID"
    grep -q '^Date: ' "$eml.head" || fail "no Date"
}

for mode in plain smtputf8; do
    step "aiosmtpd ($mode)"
    opts=() utf8=
    [ $mode = smtputf8 ] && opts=(--smtputf8) utf8=--utf8
    start_aiosmtpd "$W/aio-$mode" "${opts[@]}" || exit $?
    run_smtpc "$W/out" "$W/err" --server "$(harness_hostport "$AIO_PORT")" --tls none \
        "${ARGS[@]}" </dev/null
    expect_rc 0 "composed send ($mode)" "$W/err"
    aio_wait_count 1 || fail "aiosmtpd got nothing"
    got=$(wc -c <"$AIO_DIR/1.eml")
    size=$(aio_json_get 1 mail_options | sed -n 's/^SIZE=//p')
    echo "  received $got bytes, SIZE=$size"
    [ "$size" = "$got" ] || fail "SIZE=$size announced, $got bytes received"
    rcpts=$(aio_json_get 1 rcpt_tos | sort | tr '\n' ' ')
    [ "$rcpts" = "bob@example.org carol@example.org hidden@example.net " ] ||
        fail "envelope recipients: $rcpts"
    if [ $mode = smtputf8 ]; then
        [ "$(aio_json_get 1 smtp_utf8)" = true ] || fail "UTF-8 headers without SMTPUTF8"
        grep -q "^Subject: 東京" "$AIO_DIR/1.eml" || fail "subject not in UTF-8"
    else
        grep -q '^Subject: =?utf-8?' "$AIO_DIR/1.eml" || fail "subject not encoded"
        LC_ALL=C grep -q $'^[^\r]*[\x80-\xff]' <(sed '/^\r$/q' "$AIO_DIR/1.eml") &&
            fail "8-bit bytes in the header without SMTPUTF8"
    fi
    check "$AIO_DIR/1.eml" $utf8
    stop_aiosmtpd 2>/dev/null || true
done

step "--dry-run prints the same message and connects nowhere"
run_smtpc "$W/dry.eml" "$W/err" --dry-run "${ARGS[@]}" </dev/null
expect_rc 0 "--dry-run" "$W/err"
check "$W/dry.eml"
# With --server too: still nothing is sent (a closed port would fail).
run_smtpc "$W/dry2.eml" "$W/err" --server 127.0.0.1:1 "${ARGS[@]}" --dry-run </dev/null
expect_rc 0 "--dry-run with --server" "$W/err"

step "the body comes from standard input without --body-file"
printf 'From stdin.\n' >"$W/stdin.txt"
run_smtpc "$W/stdin.eml" "$W/err" --dry-run --from a@example.com \
    --subject s rcpt@example.org <"$W/stdin.txt"
expect_rc 0 "body on stdin" "$W/err"
grep -q '^To: rcpt@example.org' "$W/stdin.eml" || fail "RECIPIENT not shown as To: when no --to"
grep -q '^=46rom stdin\.\|^From stdin\.' "$W/stdin.eml" || fail "stdin body missing"

step "--inline: an image the HTML shows, in multipart/related"
head -c 20000 /dev/urandom >"$W/chart.png"
printf '<p><img src="cid:chart@example.com"></p>\n' >"$W/inline.html"
run_smtpc "$W/inline.eml" "$W/err" --dry-run --from a@example.com --subject img \
    rcpt@example.org --body-file "$W/body.txt" --html-file "$W/inline.html" \
    --inline "$W/chart.png;cid=chart@example.com" --attach "${FILES[0]}" </dev/null
expect_rc 0 "--inline" "$W/err"
MIME_VERIFY_HEADER_MAX=78 mime_verify "$W/inline.eml" "$W/inline" 0 img " <a@example.com>" \
    'multipart/mixed(multipart/related(multipart/alternative(text/plain,text/html),image/png),application/octet-stream)' \
    2 "$W/chart.png" "${FILES[0]}"
grep -q '^Content-ID: <chart@example.com>' "$W/inline.eml" || fail "no Content-ID"

step "media types: guessed from the name, ;type= overrides"
mkdir -p "$W/types"
for n in a.pdf b.PNG c.jpg d.csv e.json f.zip g.gz h.txt i.eml j.weird k; do
    printf 'x' >"$W/types/$n"
done
targs=()
for n in a.pdf b.PNG c.jpg d.csv e.json f.zip g.gz h.txt i.eml j.weird k; do
    targs+=(--attach "$W/types/$n")
done
targs+=(--attach "$W/types/k;type=image/svg+xml;name=logo.svg")
run_smtpc "$W/types.eml" "$W/err" --dry-run --from a@example.com --subject types \
    rcpt@example.org "${targs[@]}" </dev/null
expect_rc 0 "types" "$W/err"
mkdir -p "$W/types.d"
"$PY" "$SMTPC_ROOT/tests/tools/mime_check.py" "$W/types.eml" "$W/types.d" >"$W/types.out" ||
    fail "types: defects"
i=0
for want in "application/pdf a.pdf" "image/png b.PNG" "image/jpeg c.jpg" "text/csv d.csv" \
    "application/json e.json" "application/zip f.zip" "application/gzip g.gz" \
    "text/plain h.txt" "application/octet-stream i.eml" "application/octet-stream j.weird" \
    "application/octet-stream k" "image/svg+xml logo.svg"; do
    grep -qxF "part $i: $want" "$W/types.out" || { cat "$W/types.out"; fail "part $i is not $want"; }
    i=$((i + 1))
done
# Text files too are base64 (exact bytes, a known size).
[ "$(grep -c '^Content-Transfer-Encoding: base64' "$W/types.eml")" = 12 ] ||
    fail "not every file is base64"

step "errors: exit codes, and nothing is sent"
start_aiosmtpd "$W/aio-err" || exit $?
SRV=(--server "$(harness_hostport "$AIO_PORT")" --tls none --from a@example.com)
err_case() { # WANT_RC WANT_STDERR_GREP WHAT ARGS...
    local want=$1 pat=$2 what=$3
    shift 3
    run_smtpc "$W/out" "$W/err" "$@" </dev/null
    expect_rc "$want" "$what" "$W/err"
    grep -q -- "$pat" "$W/err" || { cat "$W/err"; fail "$what: stderr lacks \"$pat\""; }
    echo "  $what: exit $RC: $(head -n 1 "$W/err")"
}
err_case 66 'No such file' "missing --attach" "${SRV[@]}" --subject s r@example.org --attach "$W/nope.bin"
err_case 66 'No such file' "missing --body-file" "${SRV[@]}" --subject s r@example.org --body-file "$W/nope.txt"
err_case 66 'Is a directory' "--attach DIR" "${SRV[@]}" --subject s r@example.org --attach "$W/types"
if [ "$(id -u)" != 0 ]; then
    printf 'secret' >"$W/unreadable" && chmod 000 "$W/unreadable"
    err_case 66 'Permission denied' "unreadable --attach" "${SRV[@]}" --subject s r@example.org --attach "$W/unreadable"
fi
err_case 64 'unknown or repeated parameter' "bad ;param" "${SRV[@]}" --subject s r@example.org --attach "$W/types/k;size=3"
err_case 64 'invalid ;type=' "bad ;type=" "${SRV[@]}" --subject s r@example.org --attach "$W/types/k;type=pdf"
err_case 64 'invalid ;type=' ";type=message/rfc822" "${SRV[@]}" --subject s r@example.org --attach "$W/types/i.eml;type=message/rfc822"
err_case 64 'needs ;cid=' "--inline without cid" "${SRV[@]}" --subject s r@example.org --html-file "$W/body.html" --inline "$W/types/b.PNG"
err_case 64 'needs --html-file' "--inline without html" "${SRV[@]}" --subject s r@example.org --inline "$W/types/b.PNG;cid=a@b"
err_case 64 'line break' "--header with LF" "${SRV[@]}" --subject s r@example.org --header $'X-A: b\nBcc: evil@example.com'
err_case 64 'line break' "--header with CR" "${SRV[@]}" --subject s r@example.org --header $'X-A: b\rc'
err_case 64 'line break' "--subject with LF" "${SRV[@]}" --subject $'s\nBcc: evil@example.com' r@example.org
err_case 64 'writes that field itself' "--header Subject:" "${SRV[@]}" --subject s r@example.org --header 'Subject: again'
err_case 64 'not "Name: value"' "--header without colon" "${SRV[@]}" --subject s r@example.org --header 'X-A b'
err_case 64 'invalid --to' "bad --to" "${SRV[@]}" --subject s --to 'not an address'
err_case 64 'composes a message' "--to without composing" "${SRV[@]}" --to r@example.org
err_case 64 'needs --from' "no --from" --server "$(harness_hostport "$AIO_PORT")" --tls none --subject s r@example.org
err_case 64 'does not go with -t' "-t and composing" "${SRV[@]}" -t --subject s r@example.org
err_case 64 'not valid UTF-8' "non-UTF-8 subject" "${SRV[@]}" --subject $'caf\xe9' r@example.org
truncate -s $((16 * 1024 * 1024 + 1)) "$W/huge.txt"
err_case 65 'larger than 16 MiB' "--body-file over 16 MiB" "${SRV[@]}" --subject s r@example.org --body-file "$W/huge.txt"
rm -f "$W/huge.txt"
# from-name in a configuration file does not disturb a run that does not compose.
printf 'from-name Config Name\n' >"$W/conf"
printf 'Subject: plain\n\nbody\n' >"$W/plain.msg"
run_smtpc "$W/out" "$W/err" -C "$W/conf" "${SRV[@]}" r@example.org <"$W/plain.msg"
expect_rc 0 "from-name in the configuration, no composing" "$W/err"
aio_wait_count 1 || fail "the plain message was not sent"
rm -f "$AIO_DIR"/1.*
sleep 0.2
[ "$(aio_count)" = 0 ] || fail "a message was sent by a failing run"
stop_aiosmtpd 2>/dev/null || true

step "a large attachment through smtp-sink: peak memory does not grow"
RSS=$SMTPC_BUILD/peak_rss
if [ ! -x "$RSS" ]; then
    echo "  peak_rss not built: skipped"
else
    BIG=${COMPOSE_BIG_MB:-100}
    start_sink "$W/sink" || exit $?
    head -c $((1024 * 1024)) /dev/urandom >"$W/small.bin"
    # Sparse: the file costs no disk, its bytes are still read and encoded.
    truncate -s $((BIG * 1024 * 1024)) "$W/big.bin"
    big_send() {
        "$RSS" "$W/rss" "$SMTPC" --server "$(harness_hostport "$SINK_PORT")" --tls none \
            --from a@example.com --subject big --attach "$1" b@example.org \
            </dev/null >"$W/out" 2>&1 || { cat "$W/out" >&2; fail "sending $1 failed"; }
        cat "$W/rss"
    }
    r1=$(big_send "$W/small.bin")
    sink_wait_count 1 || fail "the sink did not get the 1 MB mail"
    r2=$(big_send "$W/big.bin")
    sink_wait_count 2 60 || fail "the sink did not get the $BIG MB mail"
    echo "  peak RSS: 1 MB attachment ${r1} KiB, $BIG MB attachment ${r2} KiB"
    [ -n "$r1" ] && [ -n "$r2" ] || fail "no RSS figure"
    # ASan's allocator drifts by a few MB over a long run.
    [ $((r2 - r1)) -lt 4096 ] || fail "peak memory grew by $((r2 - r1)) KiB with the file"
    # With an empty body the attachment is the whole message (part 0).
    f=$(sink_files | head -n 1)
    sink_strip --crlf "$f" >"$W/got.eml"
    mkdir -p "$W/got.d"
    "$PY" "$SMTPC_ROOT/tests/tools/mime_check.py" "$W/got.eml" "$W/got.d" >/dev/null ||
        fail "Python found defects in the 1 MB mail"
    cmp "$W/small.bin" "$W/got.d/0" || fail "the 1 MB attachment differs"
    rm -f "$W/big.bin" "$W/sink"/*
fi
echo "26_cli_compose OK"
