#!/usr/bin/env bash
# AUTH XOAUTH2 and OAUTHBEARER (RFC 7628) after STARTTLS, against
# tls_hostile.py, which decodes and checks what the client sends:
#   - success with the token from a file, an environment variable, a command;
#   - the error challenge: the server answers the initial response with
#     "334 <base64 JSON>"; the client must answer with an empty line
#     (XOAUTH2, Google's protocol) or "AQ==" (a single ^A, RFC 7628 3.2.3),
#     get 535, and exit 77;
#   - 504 to the first mechanism: the next one is tried, once;
#   - the token never appears in -v output.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

W=$(harness_tmpdir tls43)
tls_certs "$W/certs" || exit $?
printf '%s\r\n' "From: sender@example.org" "Date: Tue, 1 Dec 2026 12:00:00 +0000" \
    "Message-ID: <oauth@smtpc.test>" "Subject: oauth test" "" "body" >"$W/msg.eml"

OUSER=alice@example.org
TOKEN='ya29.a0AfB_byC-Very.Secret_Token-1234567890'
printf '%s\n' "$TOKEN" >"$W/token"
chmod 600 "$W/token"
export SMTPC_T43_TOKEN=$TOKEN
XO_B64=$(printf 'user=%s\001auth=Bearer %s\001\001' "$OUSER" "$TOKEN" | base64 -w0)
BASE=(--tls starttls --cafile "$CERTS/ca.pem" --user "$OUSER")

no_token_in() {
    local f
    for f in "$@"; do
        if grep -qF -- "$TOKEN" "$f" || grep -qF -- "$XO_B64" "$f"; then
            sed 's/^/  output: /' "$f" >&2
            fail "the token appears in $f"
        fi
    done
}

# run_case NAME SCENARIO WANT_RC ARGS...
run_case() {
    local name=$1 scen=$2 want=$3
    shift 3
    start_hostile "$W/h.$name" "$scen" --user "$OUSER" --token "$TOKEN"
    run_smtpc "$W/$name.out" "$W/$name.err" --server "localhost:$HOSTILE_PORT" \
        --from sender@example.org "$@" rcpt@example.com <"$W/msg.eml"
    if [ "$RC" != "$want" ]; then
        hostile_show "$W/$name.err"
        fail "$name: exit $RC, expected $want"
    fi
    no_token_in "$W/$name.err" "$W/$name.out"
}

auth_lines() { hostile_client_lines | grep -i '^AUTH ' | cut -d' ' -f1-2; }

# ------------------------------------------------------------------ success
step "XOAUTH2, token from a file"
run_case xo-file oauth 0 "${BASE[@]}" --auth xoauth2 --oauth2-token-file "$W/token" -v
hostile_events | grep -q "^auth-ok XOAUTH2 user=$OUSER" || { hostile_show "$W/xo-file.err"; fail "XOAUTH2 not accepted"; }
cmp -s "$W/msg.eml" "$HOSTILE_DIR/1.eml" || fail "xo-file: message not stored as sent"
stop_hostile

step "OAUTHBEARER, token from an environment variable"
run_case ob-env oauth 0 "${BASE[@]}" --auth oauthbearer --oauth2-token-env SMTPC_T43_TOKEN -v
hostile_events | grep -q "^auth-ok OAUTHBEARER user=$OUSER" || { hostile_show "$W/ob-env.err"; fail "OAUTHBEARER not accepted"; }
# host= and port= are optional in RFC 7628; when sent they must be right.
ev=$(hostile_events | grep '^auth-ok OAUTHBEARER')
case "$ev" in *host=*) case "$ev" in *host=localhost*) ;; *) fail "OAUTHBEARER host=: $ev" ;; esac ;; esac
case "$ev" in *port=*) case "$ev" in *"port=$HOSTILE_PORT"*) ;; *) fail "OAUTHBEARER port=: $ev" ;; esac ;; esac
echo "  ($ev)"
stop_hostile

step "--auth auto with a token picks OAUTHBEARER; token from a command"
run_case auto-cmd oauth 0 "${BASE[@]}" --oauth2-token-cmd "cat '$W/token'" -v
[ "$(auth_lines)" = "AUTH OAUTHBEARER" ] || { hostile_show "$W/auto-cmd.err"; fail "auto: $(auth_lines)"; }
hostile_events | grep -q '^auth-ok OAUTHBEARER' || fail "auto: OAUTHBEARER not accepted"
stop_hostile

# ------------------------------------------------------------------ error challenge
step "XOAUTH2 error challenge: empty answer, 535, exit 77"
run_case xo-err oauth-error 77 "${BASE[@]}" --auth xoauth2 --oauth2-token-file "$W/token" -v
hostile_events | grep -qx "auth-challenge-answer XOAUTH2 ''" || {
    hostile_show "$W/xo-err.err"
    fail "XOAUTH2: the answer to the error challenge was not an empty line"
}
hostile_sent MAIL && fail "xo-err: MAIL after a failed AUTH"
[ "$(auth_lines | wc -l)" = 1 ] || { hostile_show "$W/xo-err.err"; fail "xo-err: AUTH retried"; }
grep -q '535' "$W/xo-err.err" || { hostile_show "$W/xo-err.err"; fail "xo-err: 535 not reported"; }
stop_hostile

step "OAUTHBEARER error challenge: answer AQ== (^A), 535, exit 77"
run_case ob-err oauth-error 77 "${BASE[@]}" --auth oauthbearer --oauth2-token-env SMTPC_T43_TOKEN -v
hostile_events | grep -qx "auth-challenge-answer OAUTHBEARER 'AQ=='" || {
    hostile_show "$W/ob-err.err"
    fail "OAUTHBEARER: the answer to the error challenge was not AQ=="
}
hostile_sent MAIL && fail "ob-err: MAIL after a failed AUTH"
grep -q '535' "$W/ob-err.err" || { hostile_show "$W/ob-err.err"; fail "ob-err: 535 not reported"; }
stop_hostile

step "a wrong token gets the error challenge too: exit 77"
printf 'expired-token\n' >"$W/badtoken"
run_case xo-bad oauth 77 "${BASE[@]}" --auth xoauth2 --oauth2-token-file "$W/badtoken" -v
hostile_events | grep -q '^auth-challenge XOAUTH2 .*token-bad' || fail "xo-bad: no challenge"
grep -qF 'expired-token' "$W/xo-bad.err" && fail "xo-bad: the token appears in -v"
stop_hostile

# ------------------------------------------------------------------ 504 fallback
step "504 to OAUTHBEARER: XOAUTH2 tried once, delivered"
run_case fb oauth-504 0 "${BASE[@]}" --oauth2-token-env SMTPC_T43_TOKEN -v
[ "$(auth_lines | tr '\n' ' ')" = "AUTH OAUTHBEARER AUTH XOAUTH2 " ] || {
    hostile_show "$W/fb.err"
    fail "504 fallback: $(auth_lines | tr '\n' ' ')"
}
hostile_events | grep -q '^auth-ok XOAUTH2' || fail "504 fallback: XOAUTH2 not accepted"
[ -f "$HOSTILE_DIR/1.eml" ] || fail "504 fallback: nothing delivered"
stop_hostile

step "504 to every mechanism: gives up after two tries, nothing sent"
start_hostile "$W/h.fb2" oauth-504-all --user "$OUSER" --token "$TOKEN"
run_smtpc "$W/fb2.out" "$W/fb2.err" --server "localhost:$HOSTILE_PORT" \
    --from sender@example.org "${BASE[@]}" --oauth2-token-env SMTPC_T43_TOKEN -v \
    rcpt@example.com <"$W/msg.eml"
case "$RC" in 77|78) ;; *) hostile_show "$W/fb2.err"; fail "504 all: exit $RC, expected 77 or 78" ;; esac
[ "$(auth_lines | wc -l)" -le 2 ] || { hostile_show "$W/fb2.err"; fail "504 all: more than two AUTH"; }
hostile_sent MAIL && fail "504 all: MAIL sent"
no_token_in "$W/fb2.err" "$W/fb2.out"
stop_hostile

echo "43_tls_oauth OK"
