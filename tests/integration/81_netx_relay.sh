#!/usr/bin/env bash
# smtpc on NetX Duo against real servers: tests/netxduo/netx_relay.c runs
# the NetX Duo compatible API on one NX_IP of NetX Duo's RAM network; a
# relay thread on the other NX_IP carries each connection, unchanged, to a
# server on the host's loopback.  So every byte of these sessions crosses
# NetX Duo's TCP stack:
#   - Postfix delivering into a Maildir, over IPv4 and over IPv6 (NetX
#     side): the hard body arrives byte for byte under smtpc's header block;
#     one client, three mails; a body of 1.1 MB in BDAT chunks (Postfix
#     offers CHUNKING and PIPELINING: a reply a chunk while the chunks
#     flow), and the same body with DATA (CHUNKING off), each byte-exact;
#   - aiosmtpd with AUTH PLAIN and LOGIN; a wrong password refused with
#     NX_SMTP_AUTHENTICATION_ERROR;
#   - aiosmtpd requiring STARTTLS: TLS by mbedTLS over the NetX transport
#     (nx_smtp_client_tls_set), authenticated, byte-exact; an untrusted CA
#     refused with NX_SMTP_TLS_CERT_ERROR.
# netx_relay itself fails when a packet of the client's pools is not back.
# Skips (77) without ThreadX/NetX Duo sources, or when no server can run.
set -euo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"

EX=$SMTPC_BUILD/netx_relay
if [ ! -x "$EX" ]; then
    echo "SKIP: $EX not built: no ThreadX/NetX Duo sources (THREADX_DIR, NETXDUO_DIR," \
         "or ../shared/third_party next to the source tree)"
    exit 77
fi
. "$SMTPC_ROOT/tests/servers/lib.sh"


PY=$HARNESS_PY
W=$(harness_tmpdir netx-relay)

printf '.\r\n..\r\n.x\nbare LF above\rbare CR above\r.after CR\n...\n\n\r\nlast line, no newline' \
    >"$W/body"
# Long enough to need many packets of the client's pool (536 bytes each).
for i in $(seq 1 300); do printf '.line %03d of a longer body\r\n' "$i"; done >>"$W/body"
# A body of 1.1 MB: lines of any length up to some 200 bytes, a fifth
# starting with a dot, CRLF, bare LF and bare CR line ends, UTF-8 text.
"$PY" - "$W/big" <<'PYEOF'
import random, sys
r = random.Random(11)
words = [b"netx", b"duo", b"chunk", b".dot", b"\xc3\xa9t\xc3\xa9", b"0123456789", b"BDAT", b"."]
ends = [b"\r\n", b"\n", b"\r\n", b"\r"]
out, n = [], 0
while n < 1100000:
    line = b" ".join(r.choice(words) for _ in range(r.randint(0, 20)))
    if r.random() < 0.2:
        line = b"." + line
    out.append(line + r.choice(ends))
    n += len(out[-1])
open(sys.argv[1], "wb").write(b"".join(out))
PYEOF

# FILE.expect for each body: how it must arrive (CRLF line ends, one at
# the end).
for b in "$W/body" "$W/big"; do
    "$PY" - "$b" "$b.expect" <<'PYEOF'
import re, sys
data = open(sys.argv[1], "rb").read()
data = re.sub(rb"\r\n|\r|\n", b"\r\n", data)
if not data.endswith(b"\r\n"):
    data += b"\r\n"
open(sys.argv[2], "wb").write(data)
PYEOF
done

# check_message FILE SUBJECT [BODY]: FILE (CRLF) is smtpc's header block
# (no Date: ThreadX has no calendar) and BODY (default $W/body) as it must
# arrive.
check_message() {
    "$PY" - "$1" "${3:-$W/body}.expect" "$2" <<'PYEOF'
import re, sys
msg = open(sys.argv[1], "rb").read()
body = open(sys.argv[2], "rb").read()
head, sep, got = msg.partition(b"\r\n\r\n")
assert sep, "no end of header"
want = [
    b"To: test@smtpc.test",
    b"From: sender@example.com",
    b"Subject: " + sys.argv[3].encode(),
    re.compile(rb"Message-ID: <[0-9a-f]+\.\d+\.[0-9a-f]{8}@example\.com>"),
    b"X-Priority: 3",
    b"MIME-Version: 1.0",
    b'Content-Type: text/plain; charset="utf-8"',
    b"Content-Transfer-Encoding: 8bit",
]
lines = head.split(b"\r\n")
assert len(lines) == len(want), lines
for l, w in zip(lines, want):
    assert (w.fullmatch(l) if hasattr(w, "fullmatch") else l == w), (l, w)
if got != body:
    sys.stderr.write("body differs:\n got  %r\n want %r\n" % (got[:200], body[:200]))
    sys.exit(1)
PYEOF
}

send() {   # send OUT [netx_relay options...] (a -b among them replaces the body)
    local out=$1
    shift
    timeout 120 "$EX" -f sender@example.com -t test@smtpc.test -d example.com \
        -b "$W/body" "$@" >"$out" 2>&1
}

ran=0

# ------------------------------------------------------------------ Postfix
rc=0
start_mta "$W/maildir" || rc=$?
if [ "$rc" = 77 ]; then
    echo "(no Postfix here: skipped)"
elif [ "$rc" != 0 ]; then
    fail "start_mta"
else
    ran=1
    step "Postfix over NetX Duo, IPv4: byte-exact"
    send "$W/o1" -H 127.0.0.1 -P "$MTA_PORT" -s "netx v4" || { cat "$W/o1" >&2; fail "IPv4 send"; }
    grep -q '^mail 1: status 0x00, last reply 250$' "$W/o1" || fail "IPv4: $(cat "$W/o1")"
    mta_wait_delivery 1
    mta_strip_trace --crlf "$(mta_messages | tail -n 1)" >"$W/m1"
    check_message "$W/m1" "netx v4" || fail "IPv4: message differs"

    step "Postfix over NetX Duo, IPv6: byte-exact"
    send "$W/o2" -6 -H 127.0.0.1 -P "$MTA_PORT" -s "netx v6" || { cat "$W/o2" >&2; fail "IPv6 send"; }
    mta_wait_delivery 2
    mta_strip_trace --crlf "$(mta_messages | tail -n 1)" >"$W/m2"
    check_message "$W/m2" "netx v6" || fail "IPv6: message differs"

    step "Postfix over NetX Duo: one client, three mails"
    send "$W/o3" -H 127.0.0.1 -P "$MTA_PORT" -s "netx three" -n 3 || { cat "$W/o3" >&2; fail "three sends"; }
    [ "$(grep -c 'status 0x00, last reply 250$' "$W/o3")" = 3 ] || fail "three sends: $(cat "$W/o3")"
    mta_wait_delivery 5
    for f in $(mta_messages | tail -n 3); do
        mta_strip_trace --crlf "$f" >"$W/m3"
        check_message "$W/m3" "netx three" || fail "three sends: a message differs"
    done

    # send_big NAME N: $W/big as the Nth mail this Postfix delivers (one
    # session a mail: nx_smtp_mail_send connects for each), byte-exact;
    # then s is what Postfix logged of that session's commands.
    send_big() {
        send "$W/o-$1" -H 127.0.0.1 -P "$MTA_PORT" -s "netx $1" -b "$W/big" ||
            { cat "$W/o-$1" >&2; fail "$1: send"; }
        mta_wait_delivery "$2"
        mta_strip_trace --crlf "$(mta_messages | tail -n 1)" >"$W/m-$1"
        check_message "$W/m-$1" "netx $1" "$W/big" || fail "$1: message differs"
        s=$(mta_session "$2")
        echo "Postfix: $s"
    }

    step "Postfix over NetX Duo: 1.1 MB in BDAT chunks, byte-exact"
    send_big bdat 6
    # In chunks, each accepted (Postfix logs "bdat=N/M" when only N of M were).
    [[ $s =~ \ bdat=([0-9]+)\  && $s != *data=* ]] && [ "${BASH_REMATCH[1]}" -gt 100 ] ||
        fail "bdat: Postfix logged $s"

    step "Postfix without CHUNKING over NetX Duo: the same 1.1 MB with DATA, byte-exact"
    mta_stop
    start_mta "$W/maildir-data" smtpd_discard_ehlo_keywords=chunking || fail "start_mta (no CHUNKING)"
    send_big data 1
    [[ $s == *" data=1 "* && $s != *bdat=* ]] || fail "data: Postfix logged $s"
fi

# ------------------------------------------------------------------ aiosmtpd
rc=0
start_aiosmtpd "$W/aio" --auth 'netx:pa ss:1' || rc=$?
if [ "$rc" = 77 ]; then
    echo "(no aiosmtpd here: skipped)"
elif [ "$rc" != 0 ]; then
    fail "start_aiosmtpd"
else
    ran=1
    export SMTP_PASSWORD='pa ss:1'
    step "aiosmtpd over NetX Duo: AUTH PLAIN (IPv4)"
    send "$W/a1" -H 127.0.0.1 -P "$AIO_PORT" -u netx -a plain -s plain || { cat "$W/a1" >&2; fail "PLAIN"; }
    aio_wait_count 1
    [ "$(aio_json_get 1 auth_mechanism)" = PLAIN ] || fail "PLAIN: mechanism"
    [ "$(aio_json_get 1 login)" = netx ] || fail "PLAIN: login"
    [ "$(aio_json_get 1 helo)" = example.com ] || fail "PLAIN: EHLO name"
    check_message "$AIO_DIR/1.eml" plain || fail "PLAIN: message differs"

    step "aiosmtpd over NetX Duo: AUTH LOGIN (IPv6)"
    send "$W/a2" -6 -H 127.0.0.1 -P "$AIO_PORT" -u netx -a login -s login || { cat "$W/a2" >&2; fail "LOGIN"; }
    aio_wait_count 2
    [ "$(aio_json_get 2 auth_mechanism)" = LOGIN ] || fail "LOGIN: mechanism"
    check_message "$AIO_DIR/2.eml" login || fail "LOGIN: message differs"

    step "aiosmtpd over NetX Duo: wrong password -> NX_SMTP_AUTHENTICATION_ERROR"
    if SMTP_PASSWORD=wrong send "$W/a3" -H 127.0.0.1 -P "$AIO_PORT" -u netx -a plain; then
        fail "wrong password accepted"
    fi
    grep -q '^mail 1: status 0xa0, last reply 535$' "$W/a3" || fail "wrong password: $(cat "$W/a3")"
    sleep 1
    [ "$(aio_count)" = 2 ] || fail "wrong password: a message was stored"
    stop_aiosmtpd

    # -------------------------------------------------------------- STARTTLS
    if tls_certs "$W/certs"; then
        C=$W/certs
        start_aiosmtpd "$W/tls" --tls-cert "$C/good.pem" --tls-key "$C/good.key" \
            --auth 'netx:tls pass' --auth-require-tls --require-starttls --auth-required \
            || fail "start_aiosmtpd (TLS)"
        export SMTP_PASSWORD='tls pass'
        step "STARTTLS by mbedTLS over NetX Duo, AUTH PLAIN after TLS"
        send "$W/t1" -H 127.0.0.1 -P "$AIO_PORT" -u netx -a plain -s tls \
            -T starttls -N localhost -C "$C/ca.pem" || {
            grep -q 'tls_set: status 0xb6' "$W/t1" && { echo "no mbedTLS in the NetX build: skipped"; exit 0; }
            cat "$W/t1" >&2; fail "STARTTLS"; }
        aio_wait_count 1
        [ "$(aio_json_get 1 tls)" = true ] || fail "STARTTLS: not over TLS"
        [ "$(aio_json_get 1 login)" = netx ] || fail "STARTTLS: not authenticated"
        check_message "$AIO_DIR/1.eml" tls || fail "STARTTLS: message differs"

        step "STARTTLS over NetX Duo, untrusted CA: NX_SMTP_TLS_CERT_ERROR, nothing stored"
        if send "$W/t2" -6 -H 127.0.0.1 -P "$AIO_PORT" -u netx -a plain \
            -T starttls -N localhost -C "$C/other-ca.pem"; then
            fail "untrusted CA accepted"
        fi
        grep -q '^mail 1: status 0xb5' "$W/t2" || fail "untrusted CA: $(cat "$W/t2")"
        sleep 1
        [ "$(aio_count)" = 1 ] || fail "untrusted CA: a message was stored"
    fi
fi

[ "$ran" = 1 ] || exit 77
echo "81_netx_relay: ok"
