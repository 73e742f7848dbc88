#!/usr/bin/env bash
# STARTTLS stripping, response injection and capability changes, against the
# scripted server tls_hostile.py, which records every line the client sends.
#   - no STARTTLS offered, 454 to STARTTLS, 502 to EHLO: when TLS is
#     required (--tls starttls, or --tls auto with credentials) the session
#     ends before any AUTH or MAIL, with no HELO fallback;
#   - bytes after "220 Ready to start TLS" in the same segment: exit 76,
#     no handshake, nothing sent;
#   - a plaintext line arriving during the handshake: the handshake fails;
#   - capabilities change after TLS: the client sends EHLO again, believes
#     only the new list, and never sends STARTTLS twice.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

W=$(harness_tmpdir tls42)
tls_certs "$W/certs" || exit $?
printf '%s\r\n' "From: sender@example.org" "Date: Tue, 1 Dec 2026 12:00:00 +0000" \
    "Message-ID: <downgrade@smtpc.test>" "Subject: downgrade test" "" "body" ".dot line" >"$W/msg.eml"
export SMTPC_T42_PW='downgrade-test-password'
USER_OPTS=(--user alice@example.org --password-env SMTPC_T42_PW)
CA=(--cafile "$CERTS/ca.pem")

# never_sent NAME ERRFILE VERB...: none of these commands reached the server.
never_sent() {
    local name=$1 err=$2 verb
    shift 2
    for verb in "$@"; do
        if hostile_sent "$verb"; then
            hostile_show "$err"
            fail "$name: the client sent $verb"
        fi
    done
    grep -qF -- "$SMTPC_T42_PW" "$err" && fail "$name: password in output"
    return 0
}

# run_case NAME SCENARIO WANT_RC ARGS...: one smtpc run against a fresh server.
run_case() {
    local name=$1 scen=$2 want=$3
    shift 3
    start_hostile "$W/h.$name" "$scen" --password "$SMTPC_T42_PW"
    run_smtpc "$W/$name.out" "$W/$name.err" --server "localhost:$HOSTILE_PORT" \
        --from sender@example.org "$@" rcpt@example.com <"$W/msg.eml"
    if [ "$RC" != "$want" ]; then
        hostile_show "$W/$name.err"
        fail "$name: exit $RC, expected $want"
    fi
}

# ------------------------------------------------------------------ stripping
for scen in no-starttls starttls-454 ehlo-502; do
    # Even 454 ("temporary") is TLS unavailable (69), not 75: retrying the
    # same server later is the queue's business, and a 75 would invite a
    # caller to fall back to --tls none.
    want=69
    for mode in starttls auto; do
        name=$scen-$mode-creds
        step "$name: fails closed"
        run_case "$name" "$scen" "$want" --tls "$mode" "${CA[@]}" "${USER_OPTS[@]}" -v
        never_sent "$name" "$W/$name.err" AUTH MAIL RCPT DATA HELO
        stop_hostile
    done
    name=$scen-starttls-nocreds
    step "$name: --tls starttls without credentials still requires TLS"
    run_case "$name" "$scen" "$want" --tls starttls "${CA[@]}"
    never_sent "$name" "$W/$name.err" AUTH MAIL RCPT DATA HELO
    stop_hostile
done

step "no-starttls with --tls auto and no credentials: plaintext delivery is allowed"
run_case auto-plain no-starttls 0 "${CA[@]}"
cmp -s "$W/msg.eml" "$HOSTILE_DIR/1.eml" || fail "auto-plain: message not stored as sent"
never_sent auto-plain "$W/auto-plain.err" AUTH STARTTLS
stop_hostile

step "--tls none with credentials to a loopback address: AUTH in clear is allowed"
run_case none-loopback no-starttls 0 --tls none "${USER_OPTS[@]}" -v
hostile_events | grep -q '^auth-ok PLAIN' || { hostile_show "$W/none-loopback.err"; fail "none-loopback: no AUTH"; }
grep -qF -- "$SMTPC_T42_PW" "$W/none-loopback.err" && fail "none-loopback: password in -v"
stop_hostile

# ------------------------------------------------------------------ injection
step "injection: extra lines after 220 in the same segment -> 76, no handshake"
run_case inject inject 76 --tls starttls "${CA[@]}" "${USER_OPTS[@]}" -v
never_sent inject "$W/inject.err" AUTH MAIL RCPT DATA
if hostile_events | grep -q '^tls up'; then hostile_show "$W/inject.err"; fail "inject: handshake completed"; fi
if hostile_client_lines | sed '1,/^STARTTLS$/d' | grep -q .; then
    hostile_show "$W/inject.err"
    fail "inject: the client sent something after STARTTLS"
fi
grep -q 'injected\|inject' "$W/inject.err" || {
    hostile_show "$W/inject.err"
    fail "inject: the message does not mention the injection"
}
stop_hostile

step "injection with --tls auto and no credentials: also 76"
run_case inject-auto inject 76 "${CA[@]}"
never_sent inject-auto "$W/inject-auto.err" AUTH MAIL RCPT DATA
stop_hostile

step "plaintext line inside the handshake: TLS fails, nothing sent"
start_hostile "$W/h.late" inject-late --password "$SMTPC_T42_PW"
run_smtpc "$W/late.out" "$W/late.err" --server "localhost:$HOSTILE_PORT" \
    --from sender@example.org --tls starttls "${CA[@]}" "${USER_OPTS[@]}" \
    rcpt@example.com <"$W/msg.eml"
case "$RC" in
    69|76) ;;
    *) hostile_show "$W/late.err"; fail "inject-late: exit $RC, expected 69 or 76" ;;
esac
never_sent inject-late "$W/late.err" AUTH MAIL RCPT DATA
stop_hostile

# ------------------------------------------------------------------ caps change
step "capabilities change after TLS: EHLO again, new AUTH list, one STARTTLS"
run_case caps caps-change 0 --tls starttls "${CA[@]}" "${USER_OPTS[@]}" -v
cmp -s "$W/msg.eml" "$HOSTILE_DIR/1.eml" || fail "caps: message not stored as sent"
lines=$(hostile_client_lines | sed 's/ .*//' | tr 'a-z' 'A-Z' | tr '\n' ' ')
case "$lines" in
    "EHLO STARTTLS EHLO AUTH MAIL RCPT DATA QUIT "|"EHLO STARTTLS EHLO AUTH MAIL RCPT DATA "*) ;;
    *) hostile_show "$W/caps.err"; fail "caps: command sequence was: $lines" ;;
esac
[ "$(hostile_client_lines | grep -ci '^STARTTLS')" = 1 ] || fail "caps: STARTTLS sent twice"
hostile_client_lines | grep -qi '^AUTH CRAM-MD5' && fail "caps: used the pre-TLS AUTH list"
hostile_events | grep -q '^auth-ok PLAIN' || { hostile_show "$W/caps.err"; fail "caps: no AUTH PLAIN"; }
stop_hostile

step "AUTH offered only before TLS: no AUTH at all, exit 78, nothing sent"
run_case auth-pre auth-only-pre 78 --tls starttls "${CA[@]}" "${USER_OPTS[@]}"
never_sent auth-pre "$W/auth-pre.err" AUTH MAIL RCPT DATA
hostile_events | grep -q '^tls up' || fail "auth-pre: TLS did not come up"
stop_hostile

echo "42_tls_downgrade OK"
