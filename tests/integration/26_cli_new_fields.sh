#!/usr/bin/env bash
# What smtpc adds to a message, and the SIZE it declares, against aiosmtpd.
# mail(1), cron and `printf | sendmail` write no From:, Date: or
# Message-ID:; smtpc adds each one missing (From: from the envelope sender
# with -F's name or the user's full name), never touches a message that
# has them, and --no-add-* turn each off.  SIZE= is the size on the wire
# (line ends made CRLF), so a server's limit stops the mail before DATA.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc
W=$(harness_tmpdir new-fields)
PY=$HARNESS_PY

start_cli_aiosmtpd "$W/aio" --size 4000
S=$(harness_hostport "$AIO_PORT")
n=0
# msg PRINTF-ARGS...: a new file holding printf's output (its name printed).
msg() {
    local f
    f=$(mktemp "$W/msg.XXXXXX")
    # shellcheck disable=SC2059 # the format is the message
    printf "$@" >"$f"
    echo "$f"
}
# send ARGS... <MSG: smtpc --tls none ARGS exits 0; $GOT is the stored file.
send() {
    run_smtpc "$W/out" "$W/err" --server "$S" --tls none --timeout 20 "$@"
    expect_rc 0 "smtpc $*" "$W/err"
    n=$((n + 1))
    aio_wait_count $n || fail "smtpc $*: not stored"
    GOT=$AIO_DIR/$n.eml
}
DATE_RE='^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4}'$'\r''$'
MID_RE='^Message-ID: <[0-9]{14}\.[0-9]+\.[0-9a-f]{16}@example\.org>'$'\r''$'

step "printf | sendmail: From (with -F's name, RFC 2047), Date, Message-ID added"
send -F 'Zoë Doe' -f me@example.org rcpt@example.com < "$(msg 'Subject: job\n\nhello\n')"
sed -n 1p "$GOT" | grep -qx 'From: =?UTF-8?B?Wm/DqyBEb2U=?= <me@example.org>'$'\r' ||
    fail "From: $(sed -n 1p "$GOT")"
sed -n 2p "$GOT" | grep -Eq "$DATE_RE" || fail "Date: $(sed -n 2p "$GOT")"
sed -n 3p "$GOT" | grep -Eq "$MID_RE" || fail "Message-ID: $(sed -n 3p "$GOT")"
printf 'Subject: job\r\n\r\nhello\r\n' >"$W/job.want"
tail -n +4 "$GOT" | cmp "$W/job.want" - ||
    fail "the message itself changed"

step "a name with specials is quoted; each Message-ID differs"
first_mid=$(sed -n 3p "$GOT")
send -F 'Doe, J. "JD"' -f me@example.org rcpt@example.com < "$(msg 'Subject: x\n\nx\n')"
sed -n 1p "$GOT" | grep -qx 'From: "Doe, J. \\"JD\\"" <me@example.org>'$'\r' ||
    fail "quoted From: $(sed -n 1p "$GOT")"
[ "$(sed -n 3p "$GOT")" != "$first_mid" ] || fail "the same Message-ID twice"

step "without -F: the user's full name from the password file"
gecos=$("$PY" -c 'import os, pwd; print(pwd.getpwuid(os.getuid()).pw_gecos.split(",")[0].strip())')
send -f me@example.org rcpt@example.com < "$(msg 'Subject: x\n\nx\n')"
if [ -z "$gecos" ]; then
    want='From: me@example.org'
elif printf '%s' "$gecos" | grep -Eq "^[A-Za-z0-9 !#$%&'*+/=?^_\`{|}~-]+$"; then
    want="From: $gecos <me@example.org>"
else
    want=
fi
[ -z "$want" ] || sed -n 1p "$GOT" | grep -qxF "$want"$'\r' ||
    fail "GECOS From: $(sed -n 1p "$GOT"), expected $want"

step "a message with no header section gets the empty line before its body"
send -F Me -f me@example.org rcpt@example.com < "$(msg 'hello, no headers\n')"
sed -n 4p "$GOT" | grep -qx $'\r' || fail "no empty line: $(head -n 5 "$GOT")"
sed -n 5p "$GOT" | grep -qx 'hello, no headers'$'\r' || fail "body: $(head -n 5 "$GOT")"

step "a message that has the three fields is sent as it is"
printf 'Message-ID: <keep@x>\nfrom: Other <o@example.net>\nDATE: Tue, 1 Dec 2026 12:00:00 +0000\nSubject: kept\n\nbody\n' >"$W/full.msg"
send -F Me -f me@example.org rcpt@example.com <"$W/full.msg"
crlf_normalise "$W/full.msg" "$W/full.want"
cmp "$W/full.want" "$GOT" || fail "a complete message was changed"

step "only the missing one is added (Date: here)"
printf 'From: a@example.org\nMessage-ID: <only-date@x>\n\nbody\n' >"$W/nodate.msg"
send -f me@example.org rcpt@example.com <"$W/nodate.msg"
sed -n 1p "$GOT" | grep -Eq "$DATE_RE" || fail "Date: $(sed -n 1p "$GOT")"
crlf_normalise "$W/nodate.msg" "$W/nodate.want"
tail -n +2 "$GOT" | cmp "$W/nodate.want" - || fail "more than Date: was added"

step "--no-add-from, --no-add-date, --no-add-message-id (also in the file)"
printf 'Subject: bare\n\nbody\n' >"$W/bare.msg"
crlf_normalise "$W/bare.msg" "$W/bare.want"
send --no-add-from --no-add-date --no-add-message-id -f me@example.org \
    rcpt@example.com <"$W/bare.msg"
cmp "$W/bare.want" "$GOT" || fail "--no-add-*: the message was changed"
printf 'no-add-date\nno-add-message-id\n' >"$W/conf"
chmod 600 "$W/conf"
send -C "$W/conf" -F Me -f me@example.org rcpt@example.com <"$W/bare.msg"
sed -n 1p "$GOT" | grep -qx 'From: Me <me@example.org>'$'\r' || fail "From: $(sed -n 1p "$GOT")"
tail -n +2 "$GOT" | cmp "$W/bare.want" - || fail "the file's no-add-* not applied"

step "-t: From: from the qualified user when the message names no sender"
send -t --qualify-domain example.org -F Me \
    < "$(msg 'To: rcpt@example.com\nSubject: mailx\n\nhi\n')"
sed -n 1p "$GOT" | grep -qx "From: Me <$(id -un)@example.org>"$'\r' ||
    fail "-t From: $(sed -n 1p "$GOT")"

# ------------------------------------------------------------------ SIZE
step "SIZE= is the size on the wire: LF line ends count as CRLF"
# 1500 lines "x" with LF: 3000 bytes on disk, 4500 on the wire (more than
# the server's 4000).  The server's limit must stop it before DATA.
{
    printf 'From: a@example.org\nDate: Tue, 1 Dec 2026 12:00:00 +0000\nMessage-ID: <size@x>\n\n'
    for _ in $(seq 1500); do printf 'x\n'; done
} >"$W/lf.msg"
wire=$("$PY" -c 'import re,sys; b=open(sys.argv[1],"rb").read(); print(len(re.sub(rb"\r\n|\r|\n", b"\r\n", b)))' "$W/lf.msg")
{ [ "$(wc -c <"$W/lf.msg")" -lt 4000 ] && [ "$wire" -gt 4000 ]; } || fail "test message sizes"
run_smtpc "$W/out" "$W/err" -v --server "$S" --tls none --timeout 20 \
    -f a@example.org rcpt@example.com <"$W/lf.msg"
expect_rc 69 "a message larger than SIZE on the wire" "$W/err"
grep -q "larger than the server accepts" "$W/err" || fail "no size message: $(cat "$W/err")"
grep -q '^> DATA' "$W/err" && fail "DATA was sent: the size was declared too small"
# Under the limit, the exact wire size is declared (dot-stuffing excluded).
printf 'From: a@example.org\nDate: Tue, 1 Dec 2026 12:00:00 +0000\nMessage-ID: <s2@x>\n\n.dot\nbare CR\rend' >"$W/small.msg"
wire=$("$PY" -c 'import re,sys; b=open(sys.argv[1],"rb").read(); b=re.sub(rb"\r\n|\r|\n", b"\r\n", b); print(len(b) + (0 if b.endswith(b"\r\n") else 2))' "$W/small.msg")
run_smtpc "$W/out" "$W/err" -v --server "$S" --tls none --timeout 20 \
    -f a@example.org rcpt@example.com <"$W/small.msg"
expect_rc 0 "small message" "$W/err"
n=$((n + 1))
grep -q "^> MAIL FROM:<a@example.org> SIZE=$wire\$" "$W/err" ||
    fail "SIZE: $(grep '^> MAIL' "$W/err"), expected SIZE=$wire"
[ "$(wc -c <"$AIO_DIR/$n.eml")" = "$wire" ] || fail "stored $(wc -c <"$AIO_DIR/$n.eml") bytes, declared $wire"
echo "ok"
