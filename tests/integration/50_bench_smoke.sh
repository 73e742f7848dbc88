#!/usr/bin/env bash
# smtpc-bench against smtp-sink: it runs, sends what it was asked to, prints
# one valid JSON line, and says so in its exit status when mail fails.
# Behaviour only: no figure is asserted (timings belong to bench/run.sh).
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"

BENCH=$SMTPC_BUILD/smtpc-bench
[ -x "$BENCH" ] || { echo "no $BENCH (built without the CLI?)"; exit 77; }

W=$(harness_tmpdir bench)

# json_check FILE KEY=VALUE...: FILE holds exactly one line, a JSON object,
# with these values (numbers and booleans compared as JSON text).
json_check() {
    "$HARNESS_PY" - "$@" <<'EOF'
import json, sys
path, checks = sys.argv[1], sys.argv[2:]
lines = open(path).read().splitlines()
if len(lines) != 1:
    sys.exit("expected one line of JSON, got %d" % len(lines))
o = json.loads(lines[0])
for key in ("messages", "failed", "seconds", "messages_per_second",
            "bytes_per_second", "latency_ms", "max_rss_kb"):
    if key not in o:
        sys.exit("missing %s" % key)
for q in ("p50", "p90", "p99", "max"):
    v = o["latency_ms"][q]
    if not isinstance(v, (int, float)) or v < 0:
        sys.exit("bad latency %s: %r" % (q, v))
if not (o["latency_ms"]["p50"] <= o["latency_ms"]["p90"] <= o["latency_ms"]["p99"]
        <= o["latency_ms"]["max"]):
    sys.exit("latency percentiles out of order: %r" % o["latency_ms"])
for c in checks:
    k, v = c.split("=", 1)
    if json.dumps(o[k]) != v:
        sys.exit("%s is %s, expected %s" % (k, json.dumps(o[k]), v))
EOF
}

start_sink "$W/sink"
HP=$(harness_hostport "$SINK_PORT")

step "one session, one connection"
"$BENCH" --server "$HP" --messages 12 --size 3000 >"$W/out1" 2>"$W/err1" \
    || { cat "$W/err1" >&2; fail "exit status $?"; }
json_check "$W/out1" messages=12 accepted=12 failed=0 connections=1 pipelining=true \
    chunking=false || fail "JSON (one session)"
sink_wait_count 12 || fail "the sink did not get 12 messages"
# Every message is whole: its headers, and a body of about the size asked for.
f=$(sink_files | head -n 1)
sink_strip "$f" >"$W/msg1"
grep -q '^Subject: smtpc-bench message' "$W/msg1" || fail "no Subject in the message"
grep -q '^Message-ID: <' "$W/msg1" || fail "no Message-ID in the message"
body=$(sed '1,/^$/d' "$W/msg1" | wc -c)
[ "$body" -ge 2900 ] && [ "$body" -le 3100 ] || fail "body of $body bytes for --size 3000"

step "sessions in parallel, K per connection, several recipients"
before=$(sink_count)
"$BENCH" --server "$HP" --messages 10 --sessions 3 --per-connection 2 --recipients 3 \
    --size 100 --json-only >"$W/out2" 2>"$W/err2" || { cat "$W/err2" >&2; fail "exit status"; }
[ ! -s "$W/err2" ] || { cat "$W/err2" >&2; fail "--json-only wrote to stderr"; }
# 3 sessions share 10 messages as 4+3+3, two per connection: 2+2+2 = 6.
json_check "$W/out2" messages=10 accepted=10 failed=0 sessions=3 connections=6 recipients=3 \
    || fail "JSON (parallel)"
sink_wait_count $((before + 10)) || fail "the sink did not get 10 more messages"
f=$(sink_files | tail -n 1)
[ "$(grep -c '^X-Rcpt-Args: <[123]sink@example.net>' "$f")" = 3 ] \
    || { cat "$f" >&2; fail "expected 3 numbered recipients"; }

step "DATA without PIPELINING"
"$BENCH" --server "$HP" --messages 3 --no-pipelining --json-only >"$W/out3" \
    || fail "exit status (--no-pipelining)"
json_check "$W/out3" messages=3 failed=0 pipelining=false || fail "JSON (--no-pipelining)"

step "--print-message writes the message it sends"
"$BENCH" --print-message --size 500 --from a@example.org --to b@example.net >"$W/printed"
grep -q $'^From: <a@example.org>\r$' "$W/printed" || fail "--print-message From"
sz=$(stat -c %s "$W/printed")
[ "$sz" -gt 500 ] && [ "$sz" -lt 1000 ] || fail "--print-message size $sz"

step "every message refused: exit status 1, failures counted, JSON still printed"
stop_sink
start_sink "$W/sink-reject" -f MAIL
rc=0
"$BENCH" --server "$(harness_hostport "$SINK_PORT")" --messages 4 --json-only \
    >"$W/out4" 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "exit status $rc with every message refused, expected 1"
json_check "$W/out4" messages=4 accepted=0 failed=4 || fail "JSON (refused)"
grep -q '"first_error":"mail: .*500' "$W/out4" || { cat "$W/out4" >&2; fail "first_error"; }

step "nobody listening: every message failed, exit status 1"
stop_sink
rc=0
"$BENCH" --server "$(harness_hostport "$SINK_PORT")" --messages 2 --json-only --timeout 5 \
    >"$W/out5" 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "exit status $rc without a server, expected 1"
json_check "$W/out5" messages=2 failed=2 || fail "JSON (no server)"

step "STARTTLS and AUTH (aiosmtpd)"
rc=0
tls_certs "$W/certs" || rc=$?
if [ "$rc" = 0 ]; then
    start_aiosmtpd "$W/aio" --tls-cert "$CERTS/good.pem" --tls-key "$CERTS/good.key" \
        --auth bob:'pw 1' --auth-require-tls --auth-required || rc=$?
fi
if [ "$rc" = 77 ]; then
    echo "(skipped: no openssl or aiosmtpd here)"
elif [ "$rc" != 0 ]; then
    fail "TLS server setup"
else
    rc=0
    BENCH_PW='pw 1' "$BENCH" --server "$(harness_hostport "$AIO_PORT")" --messages 4 \
        --sessions 2 --tls starttls --cafile "$CERTS/ca.pem" --user bob \
        --password-env BENCH_PW --json-only >"$W/out6" 2>"$W/err6" || rc=$?
fi
if [ "$rc" = 64 ] && grep -q "without TLS" "$W/err6"; then
    echo "(skipped: smtpc-bench built without TLS)"
elif [ -n "${AIO_PID:-}" ]; then
    [ "$rc" = 0 ] || { cat "$W/err6" >&2; fail "STARTTLS + AUTH run: exit status $rc"; }
    json_check "$W/out6" messages=4 failed=0 'tls="starttls"' || fail "JSON (TLS)"
    aio_wait_count 4 || fail "aiosmtpd did not get 4 messages"
    [ "$(aio_json_get 1 tls)" = true ] && [ "$(aio_json_get 1 login)" = bob ] \
        || fail "message not sent over TLS as bob"
    grep -q 'pw 1' "$W/out6" "$W/err6" && fail "the password was printed"
    stop_aiosmtpd
fi

step "usage errors"
for args in "" "--server nohostport" "--server 127.0.0.1:0" "--messages 0 --server 127.0.0.1:25" \
    "--size 12Q --server 127.0.0.1:25" "--to bad<addr --server 127.0.0.1:25" "--bogus"; do
    rc=0
    # shellcheck disable=SC2086
    "$BENCH" $args >/dev/null 2>"$W/usage" || rc=$?
    [ "$rc" = 64 ] || fail "'$args': exit status $rc, expected 64"
    [ -s "$W/usage" ] || fail "'$args': no message"
done

echo "smtpc-bench smoke test OK"
