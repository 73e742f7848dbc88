#!/usr/bin/env bash
# smtpc's failures: each kind gets its sysexits code and a message of the
# form "smtpc: <what failed>: <server reply or reason>".  Unknown host,
# refused port, 5xx and 4xx at each phase, a server that hangs up or stalls,
# protocol garbage, no usable AUTH mechanism, hostile reply text.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

W=$(harness_tmpdir errors)
printf 'Subject: x\n\nbody\n' >"$W/msg"

# try WANT_RC "stderr ERE" ARGS...: smtpc with the message, checked.
try() {
    local want=$1 pat=$2
    shift 2
    run_smtpc "$W/out" "$W/err" --timeout 10 "$@" <"$W/msg"
    expect_rc "$want" "smtpc $*" "$W/err"
    grep -Eq -- "$pat" "$W/err" || {
        sed 's/^/  stderr: /' "$W/err" >&2
        fail "smtpc $*: stderr lacks /$pat/"
    }
}
# json_is FIELD VALUE: the --json object in $W/out has FIELD == VALUE (JSON).
json_is() {
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); v=json.loads(sys.argv[3]); assert r[sys.argv[2]]==v, (sys.argv[2], r)' \
        "$W/out" "$1" "$2" || fail "--json $1 != $2: $(cat "$W/out")"
}

step "unknown host: 68, with the resolver's reason"
run_smtpc "$W/out" "$W/err" --server smtpc-test.invalid:2525 --tls none --from a@example.com b@example.com <"$W/msg"
if [ "$RC" = 75 ] && grep -q 'Temporary failure in name resolution' "$W/err"; then
    # No name server answers here: that is temporary (26_cli_queue_mta).
    echo "(skipped: no name server reachable)"
else
try 68 '^smtpc: cannot resolve host "smtpc-test\.invalid": .+$' \
    --server smtpc-test.invalid:2525 --tls none --from a@example.com b@example.com
try 68 'cannot resolve host' --json --server smtpc-test.invalid --from a@example.com b@example.com
json_is status '"unknown-host"'
json_is exit 68
fi

step "refused port: 75"
_harness_pick_port
try 75 "^smtpc: cannot connect to \"127\.0\.0\.1\" port $_HARNESS_PORT: Connection refused$" \
    --server "127.0.0.1:$_HARNESS_PORT" --tls none --from a@example.com b@example.com

step "smtp-sink refusing MAIL (5xx): 69"
start_sink "$W/s1" -f MAIL
try 69 '^smtpc: sender <a@example\.com> refused: 5[0-9][0-9] ' --json \
    --server "$(harness_hostport "$SINK_PORT")" --tls none --from a@example.com b@example.com
json_is status '"rejected"'
json_is phase '"mail"'
stop_sink

step "smtp-sink refusing RCPT (5xx): 69, one warning per recipient"
start_sink "$W/s2" -f RCPT
try 69 '^smtpc: no recipient accepted' \
    --server "$(harness_hostport "$SINK_PORT")" --tls none --from a@example.com b@example.com c@example.com
grep -Eq '^smtpc: recipient <b@example\.com> refused: 5[0-9][0-9] ' "$W/err" || fail "warning for b"
grep -Eq '^smtpc: recipient <c@example\.com> refused: 5[0-9][0-9] ' "$W/err" || fail "warning for c"
stop_sink

step "smtp-sink refusing RCPT (4xx): 75"
start_sink "$W/s3" -r RCPT
try 75 '^smtpc: no recipient accepted' \
    --server "$(harness_hostport "$SINK_PORT")" --tls none --from a@example.com b@example.com
stop_sink

step "smtp-sink refusing DATA (5xx): 69"
start_sink "$W/s4" -f DATA
try 69 '^smtpc: DATA refused: 5[0-9][0-9] ' \
    --server "$(harness_hostport "$SINK_PORT")" --tls none --from a@example.com b@example.com
stop_sink

step "smtp-sink answering 421 to DATA: 75"
start_sink "$W/s5" -Q DATA
try 75 '^smtpc: .*421' \
    --server "$(harness_hostport "$SINK_PORT")" --tls none --from a@example.com b@example.com
stop_sink

step "smtp-sink hanging up at DATA: 75"
start_sink "$W/s6" -q DATA
try 75 '^smtpc: connection closed by the server' \
    --server "$(harness_hostport "$SINK_PORT")" --tls none --from a@example.com b@example.com
stop_sink

step "smtp-sink stalling before its DATA reply: timeout, 75"
start_sink "$W/s7" -w 6
t0=$(date +%s)
run_smtpc "$W/out" "$W/err" --timeout 2 --server "$(harness_hostport "$SINK_PORT")" \
    --tls none --from a@example.com b@example.com <"$W/msg"
t1=$(date +%s)
expect_rc 75 "stalled server" "$W/err"
grep -q '^smtpc: timeout during ' "$W/err" || fail "timeout message: $(cat "$W/err")"
[ $((t1 - t0)) -le 5 ] || fail "--timeout 2 took $((t1 - t0)) s"
stop_sink

step "no usable AUTH mechanism: 78, nothing sent"
start_sink "$W/s8" -a
export SMTPC_TEST_PW=pw
try 78 '^smtpc: no usable authentication mechanism: the server offers no AUTH mechanism$' \
    --server "$(harness_hostport "$SINK_PORT")" --tls none --from a@example.com \
    --user alice --password-env SMTPC_TEST_PW b@example.com
sleep 0.3
[ "$(sink_count)" = 0 ] || fail "a message went without AUTH"
stop_sink

step "protocol garbage from the server: 76"
start_script_server 'EHLO=hello there'
try 76 '^smtpc: protocol error during ' \
    --server "$(harness_hostport "$SCRIPT_PORT")" --tls none --from a@example.com b@example.com
stop_script_server

step "reply line over 512 bytes: 76"
long=$(printf '250-%0600d' 0)
start_script_server "EHLO=$long\\n250 OK"
try 76 '^smtpc: ' \
    --server "$(harness_hostport "$SCRIPT_PORT")" --tls none --from a@example.com b@example.com
stop_script_server

step "554 greeting: 69"
start_script_server 'GREETING=554 5.7.1 go away'
try 69 '^smtpc: server refused the session: 554 5\.7\.1 go away' \
    --server "$(harness_hostport "$SCRIPT_PORT")" --tls none --from a@example.com b@example.com
stop_script_server

step "message refused after the data (552): 69"
start_script_server '.=552 5.3.4 message too big'
try 69 '^smtpc: message refused: 552 5\.3\.4 message too big' \
    --server "$(harness_hostport "$SCRIPT_PORT")" --tls none --from a@example.com b@example.com
stop_script_server

step "server escape sequences are not passed to the terminal"
start_script_server $'.=554 5.7.1 bad \x1b[31mred'
try 69 'bad .\[31mred' -v \
    --server "$(harness_hostport "$SCRIPT_PORT")" --tls none --from a@example.com b@example.com
grep -q $'\x1b' "$W/err" && fail "an ESC byte reached stderr"
grep -qF '< 554 5.7.1 bad \x1b[31mred' "$W/err" || fail "-v does not show the ESC escaped"
stop_script_server

echo "ok"
