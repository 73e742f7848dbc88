#!/usr/bin/env bash
# --server and --tls: the port and TLS mode smtpc derives (read back from
# --json on an unresolvable name, so nothing is ever sent to a real port),
# delivery to IPv6 loopback given as [::1]:PORT, and the --server forms,
# which smtpc and smtpc-bench take or refuse alike.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

W=$(harness_tmpdir server)
printf 'From: a@example.com\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\nMessage-ID: <v6@smtpc.test>\r\nSubject: v6\r\n\r\nover IPv6\r\n' >"$W/msg"
export SMTPC_TEST_PW=pw

# derived WANT_PORT WANT_MODE ARGS...: --json of a run against a name that
# does not resolve (exit 68) shows the port and TLS mode chosen.
derived() {
    local port=$1 mode=$2
    shift 2
    run_smtpc "$W/out" "$W/err" --json --timeout 10 "$@" --from a@example.com b@example.com </dev/null
    expect_rc 68 "smtpc $*" "$W/err"
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert (r["port"], r["tls_mode"]) == (int(sys.argv[2]), sys.argv[3]), (r["port"], r["tls_mode"])' \
        "$W/out" "$port" "$mode" || fail "smtpc $*: $(cat "$W/out")"
}

step "ports and TLS modes"
H=smtpc-test.invalid
derived 587 opportunistic --server "$H"
derived 587 starttls      --server "$H" --user alice --password-env SMTPC_TEST_PW
derived 587 starttls      --server "$H" --oauth2-token-env SMTPC_TEST_PW
derived 587 opportunistic --server "$H" --user alice --password-env SMTPC_TEST_PW --auth none
derived 465 implicit      --server "$H:465"
derived 465 implicit      --server "$H:465" --user alice --password-env SMTPC_TEST_PW
derived 465 implicit      --server "$H" --tls implicit
derived 2465 implicit     --server "$H:2465" --tls implicit
derived 587 starttls      --server "$H" --tls starttls
derived 25 none           --server "$H" --tls none
derived 2525 none         --server "$H:2525" --tls none
derived 2525 starttls     --server "$H:2525" --user alice --password-env SMTPC_TEST_PW
derived 2525 opportunistic --server "$H:2525"

step "IPv6 literals"
if grep -q ' lo$' /proc/net/if_inet6 2>/dev/null; then
    HARNESS_ADDR=::1 start_cli_aiosmtpd "$W/aio6"
    run_smtpc "$W/out" "$W/err" --json --server "[::1]:$AIO_PORT" --tls none --timeout 20 \
        --from a@example.com b@example.com <"$W/msg"
    expect_rc 0 "[::1]:PORT" "$W/err"
    aio_wait_count 1
    cmp "$W/msg" "$AIO_DIR/1.eml" || fail "IPv6 delivery: different bytes"
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["server"]=="::1" and r["status"]=="ok", r' \
        "$W/out" || fail "--json over IPv6: $(cat "$W/out")"
    [ "$(aio_json_get 1 peer | head -n 1)" = "::1" ] || fail "peer: $(aio_json_get 1 peer)"
else
    echo "(no IPv6 loopback: skipped)"
fi
# A bare IPv6 literal takes no port: the whole argument is the address.  A
# documentation address (RFC 3849), unreachable here: 75, never a real
# server on a real port.
run_smtpc "$W/out" "$W/err" --json --server "2001:db8::25" --tls none --timeout 2 \
    --from a@example.com --ehlo '[IPv6:2001:db8::1]' b@example.com </dev/null
expect_rc 75 "bare IPv6 literal" "$W/err"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["server"]=="2001:db8::25" and r["port"]==25, r' \
    "$W/out" || fail "bare IPv6: $(cat "$W/out")"

step "smtpc and smtpc-bench take the same --server forms"
# smtpc stops at the password it cannot load (78) once --server is taken,
# smtpc-bench --print-message before any session (0): neither connects.
# The names here resolve (smtpc-bench refuses a name that does not).
unset SMTPC_TEST_UNSET_PW
BENCH=$SMTPC_BUILD/smtpc-bench
forms() {   # forms WANT_SMTPC WANT_BENCH FORM...
    local want=$1 want_bench=$2 s
    shift 2
    for s in "$@"; do
        run_smtpc "$W/out" "$W/err" --server "$s" --user u \
            --password-env SMTPC_TEST_UNSET_PW --from a@example.com b@example.com </dev/null
        expect_rc "$want" "smtpc --server '$s'" "$W/err"
        if [ "$want" = 64 ]; then
            grep -q 'invalid --server' "$W/err" || fail "--server '$s': $(cat "$W/err")"
        fi
        [ -x "$BENCH" ] || continue
        rc=0
        "$BENCH" --print-message --size 1 --server "$s" >/dev/null 2>"$W/err" || rc=$?
        [ "$rc" = "$want_bench" ] || fail "smtpc-bench --server '$s': exit $rc, expected $want_bench: $(cat "$W/err")"
    done
}
forms 78 0 localhost localhost:2525 127.0.0.1 127.0.0.1:2525 '[::1]' '[::1]:2525' \
    ::1 2001:db8::25 '[2001:db8::25]' '[2001:db8::25]:25'
forms 64 64 '' :25 localhost: localhost:0 localhost:65536 localhost:smtp localhost:+25 \
    '[::1' '[::1]x' '[::1]:' '[]:25' '::1]' 'a b' a/b u@localhost
echo "ok"
