#!/usr/bin/env bash
# --tls-session-cache against a real STARTTLS server (the private Postfix,
# whose TLS session tickets are on by default): the second run resumes, the
# file is 0600; a cache that others may read, that another user owns, that
# is a symbolic link or that is damaged gives a warning or a full handshake
# and the mail is still delivered; a session made for another server name
# is not offered.  smtpc-bench --tls-resume resumes on its new connections.
# With a session of the server in the cache, STARTTLS goes right after the
# greeting (no EHLO before TLS): against Postfix, aiosmtpd, a scripted
# server that wants EHLO first (fallback: EHLO, STARTTLS, delivered) and
# one that refuses STARTTLS (the run fails; nothing else sent in clear).
# Behaviour only: no timing is asserted.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc
W=$(harness_tmpdir tls44)

tls_certs "$W/certs" || exit $?
# Postfix's smtpd (running as postfix) reads the key.
chmod 0644 "$CERTS/good.key"
start_mta "$W/mta" smtpd_tls_security_level=may \
    "smtpd_tls_cert_file=$CERTS/good.pem" "smtpd_tls_key_file=$CERTS/good.key" || exit $?

mkdir -m 0700 "$W/c"
printf 'From: a@example.org\r\nSubject: resume\r\n\r\nbody\r\n' >"$W/msg"
N=0   # messages delivered so far

# json FILE KEY: one field of smtpc's --json object.
json() {
    "$HARNESS_PY" -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]
print(str(v).lower() if isinstance(v, bool) else v)' "$1" "$2"
}

# send NAME CACHE [SERVER]: one message to NAME@localhost with the cache,
# -v and --json; must exit 0 and be delivered.
send() {
    local name=$1 cache=$2 host=${3:-localhost}
    run_smtpc "$W/$name.out" "$W/$name.err" -v --json \
        --server "$host:$MTA_PORT" --tls starttls --cafile "$CERTS/ca.pem" \
        --tls-session-cache "$cache" --from a@example.org "$name@localhost" <"$W/msg"
    expect_rc 0 "$name" "$W/$name.err"
    N=$((N + 1))
    mta_wait_delivery "$N" 30 || fail "$name: not delivered"
    [ -n "$(mta_messages_for "$name@localhost")" ] || fail "$name: not delivered to $name@localhost"
}

resumed() { [ "$(json "$W/$1.out" tls_resumed)" = true ]; }

mode_of() { stat -c %a "$1"; }

step "first run: a full handshake, then the cache is written 0600"
send first "$W/c/sess"
resumed first && fail "the first run says it resumed"
[ -f "$W/c/sess" ] && [ ! -L "$W/c/sess" ] || fail "no cache file written"
[ "$(mode_of "$W/c/sess")" = 600 ] || fail "cache mode $(mode_of "$W/c/sess"), not 600"
[ -s "$W/c/sess" ] || fail "the cache is empty"
ls "$W/c" | grep -q '\.tmp\.' && fail "a temporary file was left: $(ls "$W/c")"
grep -q 'TLS session not resumed' "$W/first.err" || fail "-v does not say it was a full handshake"

step "second run: resumed (--json tls_resumed, -v), the cache still 0600"
send second "$W/c/sess"
resumed second || { cat "$W/second.err" >&2; fail "the second run did not resume"; }
grep -q 'TLS session resumed' "$W/second.err" || fail "-v does not say it resumed"
[ "$(mode_of "$W/c/sess")" = 600 ] || fail "cache mode changed to $(mode_of "$W/c/sess")"

# first_cmd FILE: the first command smtpc sent, from its -v trace.
first_cmd() { sed -n 's/^> //p' "$1" | head -n 1; }

step "with the server's session cached, STARTTLS goes before EHLO"
[ "$(first_cmd "$W/first.err")" = "EHLO localhost" ] ||
    fail "first run began with '$(first_cmd "$W/first.err")', not EHLO"
[ "$(first_cmd "$W/second.err")" = STARTTLS ] ||
    fail "second run began with '$(first_cmd "$W/second.err")', not STARTTLS"
[ "$(sed -n 's/^> //p' "$W/second.err" | sed -n 2p)" = "EHLO localhost" ] ||
    fail "no EHLO right after TLS in the second run"

step "a cache that others may read: refused with a warning, left alone, mail delivered"
cp -p "$W/c/sess" "$W/c/open"
chmod 0644 "$W/c/open"
cp -p "$W/c/open" "$W/c/open.orig"
send open "$W/c/open"
resumed open && fail "a world-readable cache was used"
grep -q 'warning: --tls-session-cache .*group or others may read or write it' "$W/open.err" ||
    fail "no warning about the world-readable cache"
cmp -s "$W/c/open" "$W/c/open.orig" || fail "the refused cache was rewritten"
[ "$(mode_of "$W/c/open")" = 644 ] || fail "the refused cache's mode changed"

step "a cache owned by another user: refused"
cp -p "$W/c/sess" "$W/c/theirs"
if [ "$(id -u)" = 0 ] && chown nobody "$W/c/theirs" 2>/dev/null; then
    send theirs "$W/c/theirs"
    resumed theirs && fail "another user's cache was used"
    grep -q 'owned by another user' "$W/theirs.err" || fail "no warning about the owner"
else
    echo "(not root: skipped)"
fi

step "a symbolic link: not followed, neither read nor replaced"
cp -p "$W/c/sess" "$W/c/target"
cp -p "$W/c/target" "$W/c/target.orig"
ln -s "$W/c/target" "$W/c/link"
send link "$W/c/link"
resumed link && fail "the cache was read through a symbolic link"
grep -q 'symbolic link' "$W/link.err" || fail "no warning about the symbolic link"
[ -L "$W/c/link" ] || fail "the symbolic link was replaced"
cmp -s "$W/c/target" "$W/c/target.orig" || fail "the link's target was written"

step "a damaged cache: a full handshake, delivery, and a good cache again"
cp -p "$W/c/sess" "$W/c/bad"
size=$(stat -c %s "$W/c/bad")
printf '\xff\x00\xff' | dd of="$W/c/bad" bs=1 seek=$((size / 2)) conv=notrunc status=none
send bad "$W/c/bad"
resumed bad && fail "a damaged cache resumed"
send bad2 "$W/c/bad"
resumed bad2 || fail "the cache was not rewritten after the damaged one"

step "garbage and an empty file: a full handshake"
head -c 300 /dev/urandom >"$W/c/junk"
chmod 600 "$W/c/junk"
send junk "$W/c/junk"
resumed junk && fail "garbage resumed"
: >"$W/c/empty"
chmod 600 "$W/c/empty"
send empty "$W/c/empty"
resumed empty && fail "an empty file resumed"

step "another server name (127.0.0.1, the same server): not offered"
if [ "$HARNESS_ADDR" = 127.0.0.1 ]; then
    cp -p "$W/c/sess" "$W/c/other"
    send other "$W/c/other" 127.0.0.1
    resumed other && fail "a session made for localhost resumed for 127.0.0.1"
    send other2 "$W/c/other" 127.0.0.1
    resumed other2 || fail "no resumption for 127.0.0.1 with its own session"
fi

step "the configuration file's key"
printf 'tls-session-cache %s\n' "$W/c/sess" >"$W/conf"
run_smtpc "$W/conf.out" "$W/conf.err" -C "$W/conf" --json --server "localhost:$MTA_PORT" \
    --tls starttls --cafile "$CERTS/ca.pem" --from a@example.org conf@localhost <"$W/msg"
expect_rc 0 "config key" "$W/conf.err"
N=$((N + 1))
resumed conf || fail "the configuration file's tls-session-cache did not resume"

step "--batch: a new connection after a 421 resumes the session kept in memory"
mkdir -p "$W/q"
for i in 1 2 3 4; do
    r=ok@example.com
    [ $i = 3 ] && r=once@example.com
    printf 'From: s@example.com\nTo: %s\nSubject: m%d\n\nbody %d\n' "$r" $i $i >"$W/q/m$i.eml"
done
start_cli_aiosmtpd "$W/aio" --tls-cert "$CERTS/good.pem" --tls-key "$CERTS/good.key" \
    --reject-once 'once@example.com=421 4.7.0 come back later' || exit $?
run_smtpc "$W/batch.out" "$W/batch.err" --server "localhost:$AIO_PORT" --tls starttls \
    --cafile "$CERTS/ca.pem" --tls-session-cache "$W/c/aio" --batch "$W/q" --json
expect_rc 0 "--batch" "$W/batch.err"
"$HARNESS_PY" - "$W/batch.out" <<'EOF' || fail "--batch resumption: $(cat "$W/batch.out")"
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
assert [x.get("connection") for x in o[:-1]] == [1, 1, 2, 2], o
# No file yet: the first connection is a full handshake; the second
# resumes what the first left in memory.
assert [x["tls_resumed"] for x in o[:-1]] == [False, False, True, True], o
assert o[-1]["connections"] == 2 and o[-1]["sent"] == 4, o[-1]
EOF
[ "$(mode_of "$W/c/aio")" = 600 ] || fail "--batch did not write the cache"
step "aiosmtpd takes STARTTLS before EHLO too"
printf 'From: s@example.com\nTo: ok@example.com\nSubject: first\n\nbody\n' >"$W/aio1.eml"
run_smtpc "$W/aio1.out" "$W/aio1.err" -v --json --server "localhost:$AIO_PORT" --tls starttls \
    --cafile "$CERTS/ca.pem" --tls-session-cache "$W/c/aio" -t <"$W/aio1.eml"
expect_rc 0 "aiosmtpd, STARTTLS first" "$W/aio1.err"
[ "$(first_cmd "$W/aio1.err")" = STARTTLS ] || fail "aiosmtpd: began with '$(first_cmd "$W/aio1.err")'"
resumed aio1 || fail "aiosmtpd: not resumed"
stop_aiosmtpd

step "a server that wants EHLO before STARTTLS: EHLO, STARTTLS, delivered"
start_hostile "$W/hef" ehlo-first || exit $?
for i in 1 2; do
    run_smtpc "$W/hef$i.out" "$W/hef$i.err" -v --server "localhost:$HOSTILE_PORT" \
        --tls starttls --cafile "$CERTS/ca.pem" --tls-session-cache "$W/c/hef" \
        --from a@example.org "hef$i@example.com" <"$W/msg"
    expect_rc 0 "ehlo-first run $i" "$W/hef$i.err"
done
got=$(sed -n 's/^#2 C: //p' "$HOSTILE_DIR/transcript" | head -n 4 | tr '\n' '|')
[ "$got" = "STARTTLS|EHLO localhost|STARTTLS|EHLO localhost|" ] ||
    { hostile_show; fail "ehlo-first, second connection: $got"; }
[ -f "$HOSTILE_DIR/2.eml" ] || { hostile_show; fail "ehlo-first: the second mail was not delivered"; }
stop_hostile

step "a cached server that refuses STARTTLS now: fails closed, no mail in clear"
export T44_PW=not-sent
start_hostile "$W/h454" starttls-454 || exit $?
cp -p "$W/c/hef" "$W/c/h454"   # a session for localhost: STARTTLS goes first
run_smtpc "$W/h454.out" "$W/h454.err" -v --server "localhost:$HOSTILE_PORT" --tls starttls \
    --cafile "$CERTS/ca.pem" --tls-session-cache "$W/c/h454" --user u --password-env T44_PW \
    --from a@example.org h454@example.com <"$W/msg"
expect_rc 69 "starttls-454 with a cached session" "$W/h454.err"
got=$(hostile_client_lines | tr '\n' '|')
[ "$got" = "STARTTLS|EHLO localhost|STARTTLS|QUIT|" ] || { hostile_show; fail "starttls-454: $got"; }
stop_hostile

step "--flush-queue: one connection for the queue, the next flush resumes from the file"
# Queued while the configured server is away (nothing listens on port 1),
# flushed once the configuration names the real one.  Entries queued with
# the same options share one connection: one handshake, then the cache.
printf 'server localhost:1\ntls starttls\ncafile %s\ntls-session-cache %s\n' \
    "$CERTS/ca.pem" "$W/c/flush" >"$W/qconf"
queue_one() {
    run_smtpc "$W/fq$1.out" "$W/fq$1.err" -C "$W/qconf" --queue "$W/queue" --json \
        --from a@example.org "flush$1@localhost" <"$W/msg"
    expect_rc 0 "queueing $1" "$W/fq$1.err"
}
flush_resumed() {   # NAME NEW_DELIVERIES: sets r, the flush's tls_resumed per message
    run_smtpc "$W/$1.out" "$W/$1.err" -C "$W/qconf" --queue "$W/queue" --flush-all
    expect_rc 0 "--flush-queue ($1)" "$W/$1.err"
    N=$((N + $2))
    mta_wait_delivery "$N" 30 || fail "the queued messages were not delivered ($1)"
    r=$("$HARNESS_PY" -c 'import json, sys
print(" ".join(str(json.loads(l)["tls_resumed"]) for l in open(sys.argv[1])))' "$W/$1.out")
}
queue_one 1
queue_one 2
sed -i "s/^server .*/server localhost:$MTA_PORT/" "$W/qconf"
# --flush-all: the messages were just tried and are not due yet.
flush_resumed flush 2
[ "$r" = "False False" ] || fail "first flush: tls_resumed $r, want one full handshake for both"
[ "$(mode_of "$W/c/flush")" = 600 ] || fail "--flush-queue did not write the cache"
sed -i "s/^server .*/server localhost:1/" "$W/qconf"
queue_one 3
sed -i "s/^server .*/server localhost:$MTA_PORT/" "$W/qconf"
flush_resumed flush2 1
[ "$r" = "True" ] || fail "second flush: tls_resumed $r, want the session from the file: $(cat "$W/flush2.out" "$W/flush2.err")"

step "nothing secret in the output"
for f in "$W"/*.err "$W"/*.out; do
    grep -q -- '-----BEGIN\|Master-Key\|Session-ID:' "$f" && fail "session material in $f"
done

step "smtpc-bench --tls-resume: every connection after the first resumes"
BENCH=$SMTPC_BUILD/smtpc-bench
if [ -x "$BENCH" ]; then
    for flag in "" --tls-resume; do
        "$BENCH" --server "localhost:$MTA_PORT" --tls starttls --cafile "$CERTS/ca.pem" \
            --messages 6 --sessions 2 --per-connection 1 --to bench@localhost \
            --json-only $flag >"$W/bench$flag.json" 2>"$W/bench$flag.err" ||
            { cat "$W/bench$flag.err" >&2; fail "smtpc-bench $flag"; }
    done
    [ "$(json "$W/bench.json" resumed)" = 0 ] || fail "resumed without --tls-resume"
    [ "$(json "$W/bench--tls-resume.json" connections)" = 6 ] || fail "bench connections"
    r=$(json "$W/bench--tls-resume.json" resumed)
    [ "$r" = 4 ] || fail "smtpc-bench --tls-resume: $r of 6 connections resumed, want 4"
fi

echo "44_tls_resume_cli OK"
