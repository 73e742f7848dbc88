#!/usr/bin/env bash
# smtpc command line: every bad option or value, and every secret that
# cannot be loaded, stops smtpc with the right sysexits code and a clear
# message, before anything reaches the server (an aiosmtpd that counts the
# sessions it sees is the proof).
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

W=$(harness_tmpdir usage)
start_cli_aiosmtpd "$W/aio" --auth alice:pw
S=$(harness_hostport "$AIO_PORT")
printf 'Subject: x\n\nbody\n' >"$W/msg"

# usage WANT_RC "stderr pattern" ARGS...: runs smtpc with the message on stdin.
usage() {
    local want=$1 pat=$2
    shift 2
    run_smtpc "$W/out" "$W/err" "$@" <"$W/msg"
    expect_rc "$want" "smtpc $*" "$W/err"
    grep -Eq -- "$pat" "$W/err" || {
        sed 's/^/  stderr: /' "$W/err" >&2
        fail "smtpc $*: stderr lacks /$pat/"
    }
    if grep -Eqv '^smtpc: ' "$W/err"; then
        sed 's/^/  stderr: /' "$W/err" >&2
        fail "smtpc $*: a stderr line without the 'smtpc: ' prefix"
    fi
}

step "help and version"
run_smtpc "$W/out" "$W/err" --help
expect_rc 0 "--help" "$W/err"
grep -q '^Usage: smtpc --server' "$W/out" || fail "--help prints no usage"
for o in --server --from --tls --pin-sha256 --oauth2-token-cmd --json --dsn-notify; do
    grep -q -- "$o" "$W/out" || fail "--help does not mention $o"
done
run_smtpc "$W/out" "$W/err" --version
expect_rc 0 "--version" "$W/err"
grep -Eq '^smtpc [0-9]+\.[0-9]+\.[0-9]+ ' "$W/out" || fail "--version: $(cat "$W/out")"

step "missing or unknown options: 64"
usage 64 'missing --server' --from a@example.com b@example.com
# Without --from the sender is the message's, and this one names none.
usage 65 'no sender: the message has no From: or Sender: mailbox \(give --from\)' --server "$S" b@example.com
usage 64 'no recipient' --server "$S" --from a@example.com
usage 64 'unknown option --password' --server "$S" --from a@example.com --password pw b@example.com
usage 64 'unknown option --bogus' --server "$S" --from a@example.com --bogus b@example.com
usage 64 'needs a value' --server "$S" b@example.com --from
usage 64 '--server given twice' --server "$S" --server "$S" --from a@example.com b@example.com

step "bad values: 64"
usage 64 'invalid recipient address "b@example.com\\x0d\\x0aRSET"' \
    --server "$S" --from a@example.com $'b@example.com\r\nRSET'
usage 64 'invalid recipient address "b@example.com>"' \
    --server "$S" --from a@example.com 'b@example.com>'
# ("<b@example.com>" is an address list of one: 27_cli_address_lists.)
usage 64 'invalid recipient address "<b@example.com"' \
    --server "$S" --from a@example.com '<b@example.com'
usage 64 'invalid recipient address' --server "$S" --from a@example.com ''
usage 64 'invalid recipient address' --server "$S" --from a@example.com 'b c@example.com'
usage 64 'invalid sender address "a@example.com\\x0a"' \
    --server "$S" --from $'a@example.com\n' b@example.com
usage 64 'invalid sender address' --server "$S" --from 'a@x> SIZE=1' b@example.com
usage 64 'invalid --ehlo' --server "$S" --ehlo 'bad name' --from a@example.com b@example.com
usage 64 'invalid --ehlo' --server "$S" --ehlo $'ok\r\nRSET' --from a@example.com b@example.com
usage 64 'invalid --server' --server "127.0.0.1:0" --from a@example.com b@example.com
usage 64 'invalid --server' --server "127.0.0.1:65536" --from a@example.com b@example.com
usage 64 'invalid --server' --server "127.0.0.1:smtp" --from a@example.com b@example.com
usage 64 'invalid --server' --server "[::1" --from a@example.com b@example.com
# Two colons: an IPv6 literal or nothing, never a host name to look up
# (68); and a bare literal that could end in a port must be bracketed.
usage 64 'invalid --server "localhost:25:x"' --server "localhost:25:x" --from a@example.com b@example.com
usage 64 'invalid --server "::1:25"' --server "::1:25" --from a@example.com b@example.com
usage 64 'invalid --server "fe80::1:2525"' --server "fe80::1:2525" --from a@example.com b@example.com
usage 64 'invalid --server' --server "" --from a@example.com b@example.com
usage 64 'unknown --auth' --server "$S" --auth digest-md5 --from a@example.com b@example.com
usage 64 'unknown --tls' --server "$S" --tls maybe --from a@example.com b@example.com
usage 64 'invalid --timeout' --server "$S" --timeout 0 --from a@example.com b@example.com
usage 64 'invalid --timeout' --server "$S" --timeout 5s --from a@example.com b@example.com
usage 64 'invalid --dsn-notify' --server "$S" --dsn-notify never,success --from a@example.com b@example.com
usage 64 'invalid --dsn-notify' --server "$S" --dsn-notify sometimes --from a@example.com b@example.com
usage 64 'invalid --dsn-ret' --server "$S" --dsn-ret body --from a@example.com b@example.com
usage 64 'invalid --envid' --server "$S" --envid 'has space' --from a@example.com b@example.com
usage 64 'invalid --user' --server "$S" --user $'al\rice' --password-env PW --from a@example.com b@example.com
usage 64 'needs --password-env' --server "$S" --user alice --no-netrc --from a@example.com b@example.com
usage 64 'needs --user' --server "$S" --password-env PW --from a@example.com b@example.com
usage 64 'only one of --password-env, --password-file and --password-cmd' --server "$S" --user alice \
    --password-env PW --password-file "$W/pw" --from a@example.com b@example.com
usage 64 'only one of --oauth2-token' --server "$S" --oauth2-token-env T \
    --oauth2-token-cmd 'echo t' --from a@example.com b@example.com
usage 64 '--auth xoauth2 needs' --server "$S" --auth xoauth2 --user alice \
    --password-env PW --from a@example.com b@example.com

step "secrets that cannot be loaded: 78"
# --user and no password option: the password would come from ~/.netrc.
HOME=$W usage 78 'no password for --user "alice"' --server "$S" --tls none \
    --user alice --from a@example.com b@example.com
unset SMTPC_TEST_UNSET_PW
usage 78 'environment variable "SMTPC_TEST_UNSET_PW" is not set' --server "$S" --tls none \
    --user alice --password-env SMTPC_TEST_UNSET_PW --from a@example.com b@example.com
SMTPC_TEST_EMPTY_PW='' usage 78 'is empty' --server "$S" --tls none \
    --user alice --password-env SMTPC_TEST_EMPTY_PW --from a@example.com b@example.com
usage 78 'cannot read password file' --server "$S" --tls none \
    --user alice --password-file "$W/no-such-file" --from a@example.com b@example.com
: >"$W/empty"
usage 78 'password from file is empty' --server "$S" --tls none \
    --user alice --password-file "$W/empty" --from a@example.com b@example.com
printf 'line1\nline2\n' >"$W/twolines"
usage 78 'spans more than one line' --server "$S" --tls none \
    --user alice --password-file "$W/twolines" --from a@example.com b@example.com
usage 78 'oauth2-token-cmd failed \(exit status 3\)' --server "$S" --tls none \
    --oauth2-token-cmd 'echo secret-token; exit 3' --from a@example.com b@example.com
grep -q secret-token "$W/err" && fail "a failed token command's output was printed"
usage 78 'token from --oauth2-token-cmd is empty' --server "$S" --tls none \
    --oauth2-token-cmd 'true' --from a@example.com b@example.com
# Endless input: refused as too long, without reading forever.
usage 78 'password from file contains a NUL byte' --server "$S" --tls none \
    --user alice --password-file /dev/zero --from a@example.com b@example.com
usage 78 'token from --oauth2-token-cmd is longer than 4096 bytes' --server "$S" --tls none \
    --oauth2-token-cmd 'yes' --from a@example.com b@example.com

step "--json on a usage error"
run_smtpc "$W/out" "$W/err" --json --server "$S" --from 'bad>' b@example.com <"$W/msg"
expect_rc 64 "--json usage" "$W/err"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["status"]=="usage" and r["exit"]==64, r' \
    "$W/out" || fail "--json usage object: $(cat "$W/out")"

step "nothing reached the server"
n=$(aio_connections)
[ "$n" = 0 ] || fail "the server saw $n sessions during usage errors"
[ "$(aio_count)" = 0 ] || fail "a message was stored"
echo "ok"
