#!/usr/bin/env bash
# The configuration file and sendmail's options: smtpc installed as
# sendmail.  A program that runs `sendmail -t -i` (cron, PHP, git, mutt)
# names no server; the file does.  Checked: a drop-in run delivers with the
# file's server, sender and credentials; the default places of the file;
# the command line replacing the file's values; sendmail's flags; and every
# bad file refused with 78 and its line, before anything is sent.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

W=$(harness_tmpdir config)
start_cli_aiosmtpd "$W/aio" --auth alice:pw
S=$(harness_hostport "$AIO_PORT")
export HOME=$W/home
mkdir -p "$HOME/.config/smtpc"
unset XDG_CONFIG_HOME
printf 'pw\n' >"$HOME/pw"
chmod 600 "$HOME/pw"
printf 'From: Cron Daemon <cron@example.com>\nTo: ops@example.com\nSubject: job\n\nexit 0\n' >"$W/msg"

# conf FILE LINES...: writes a configuration file only its owner can change.
conf() {
    local f=$1
    shift
    printf '%s\n' "$@" >"$f"
    chmod 600 "$f"
}

# refused WANT_RC "stderr pattern" ARGS...: smtpc, given $MSG (default:
# $W/msg), stops with WANT_RC and the message, and the server sees no
# session.
refused() {
    local want=$1 pat=$2 before
    shift 2
    before=$(aio_connections)
    run_smtpc "$W/out" "$W/err" "$@" <"${MSG:-$W/msg}"
    expect_rc "$want" "smtpc $*" "$W/err"
    grep -Eq -- "$pat" "$W/err" || { cat "$W/err" >&2; fail "smtpc $*: stderr lacks /$pat/"; }
    [ "$(aio_connections)" = "$before" ] || fail "smtpc $*: a session was opened"
}

# delivers WHAT MSG "FROM RCPT..." ARGS...: smtpc ARGS <MSG exits 0 and
# aiosmtpd stores message n+1 (n counts them) with that envelope.
n=0
delivers() {
    local what=$1 msg=$2 want=$3 got
    shift 3
    run_smtpc "$W/out" "$W/err" "$@" <"$msg"
    expect_rc 0 "$what" "$W/err"
    n=$((n + 1))
    aio_wait_count $n || fail "$what: not delivered"
    got="$(aio_json_get $n mail_from) $(aio_json_get $n rcpt_tos | tr '\n' ' ')"
    [ "$got" = "$want " ] || fail "$what: envelope $got, expected $want"
}

step "sendmail drop-in: -t -i with the server, sender and password in the file"
conf "$W/smtpc.conf" '# as root would install it' "server $S" 'tls = none' \
    'from cron@example.com' 'user alice' 'password-file ~/pw' ''
export SMTPC_CONFIG=$W/smtpc.conf
delivers "sendmail -t -i" "$W/msg" "cron@example.com ops@example.com" \
    -t -i -oi -oem -odi -FCronDaemon -B8BITMIME
[ "$(aio_json_get $n login)" = alice ] || fail "drop-in: not authenticated as alice"
aio_json_get $n mail_options | grep -qx 'BODY=8BITMIME' || fail "-B8BITMIME: $(aio_json_get $n mail_options)"

step "sendmail's argument order: -f, -r and recipients"
delivers "sendmail -i -r" "$W/msg" "bounce@example.com dev@example.com" \
    -i -r bounce@example.com dev@example.com

step "git send-email's call: recipients, no -f: the sender is the message's"
conf "$W/nofrom.conf" "server $S" 'tls none' 'user alice' 'password-file ~/pw'
printf 'From: Dev <dev@example.com>\nTo: reviewer@example.org\nCc: list@example.org\nSubject: [PATCH] fix\n\n---\n' >"$W/patch.msg"
delivers "sendmail -i RCPT..." "$W/patch.msg" \
    "dev@example.com reviewer@example.org list@example.org" \
    -C "$W/nofrom.conf" -i reviewer@example.org list@example.org

step "bsd-mailx's call: no From: at all: the user running smtpc, qualified"
printf 'To: root\nSubject: mailx\n\nhi\n' >"$W/mailx.msg"
conf "$W/mailx.conf" "server $S" 'tls none' 'user alice' 'password-file ~/pw' \
    'qualify-domain example.com'
delivers "mailx's -i -t" "$W/mailx.msg" "$(id -un)@example.com root@example.com" \
    -C "$W/mailx.conf" -i -t
# Without qualify-domain there is no one to send as.
printf 'To: ops@example.com\nSubject: mailx\n\nhi\n' >"$W/nofrom.msg"
MSG=$W/nofrom.msg refused 65 'no sender: the message has no From: or Sender: mailbox' \
    -C "$W/nofrom.conf" -i -t

step "cron's call: user names completed by qualify-domain"
# Debian's cron runs: sendmail -FCronDaemon -i -B8BITMIME -oem MAILTO, and
# MAILTO is often a bare user name; its message says "From: root".  Vixie
# cron's MAILARGS are -FCronDaemon -odi -oem -oi -t; systemd-cron's
# mailer passes -i -B 8BITMIME USER.
printf 'From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@host> true\n\nok\n' >"$W/cron.msg"
conf "$W/cron.conf" "server $S" 'tls none' 'user alice' 'password-file ~/pw' \
    'from cron' 'qualify-domain example.com'
delivers "cron's sendmail call" "$W/cron.msg" "cron@example.com root@example.com" \
    -C "$W/cron.conf" -FCronDaemon -i -B8BITMIME -oem root
crlf_normalise "$W/cron.msg" "$W/cron.want"
# cron writes no Date: or Message-ID:; smtpc adds them before the
# message's first line and changes nothing of the message itself.
sed -n '1p' "$AIO_DIR/$n.eml" | grep -Eq '^Date: [A-Z][a-z]{2}, [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4}'$'\r''$' ||
    fail "no Date: added: $(head -n 3 "$AIO_DIR/$n.eml")"
sed -n '2p' "$AIO_DIR/$n.eml" | grep -Eq '^Message-ID: <[0-9]{14}\.[0-9]+\.[0-9a-f]{16}@example\.com>'$'\r''$' ||
    fail "no Message-ID: added: $(head -n 3 "$AIO_DIR/$n.eml")"
tail -n +3 "$AIO_DIR/$n.eml" | cmp "$W/cron.want" - || fail "the message was changed (headers are never rewritten)"
for call in "-FCronDaemon -odi -oem -oi -t" "-i -B 8BITMIME root"; do
    # shellcheck disable=SC2086 # the call is words on purpose
    delivers "sendmail $call" "$W/cron.msg" "cron@example.com root@example.com" \
        -C "$W/cron.conf" $call
done
# -t: the envelope from the fields, completed the same way.
conf "$W/cron.conf" "server $S" 'tls none' 'user alice' 'password-file ~/pw' \
    'qualify-domain example.com'
delivers "-t with user names" "$W/cron.msg" "root@example.com root@example.com" \
    -C "$W/cron.conf" -t -i
# Without it, a user name is refused before anything is sent.
refused 64 'recipient "root" has no @domain \(give --qualify-domain' -C "$W/smtpc.conf" root
conf "$W/cron.conf" "server $S" 'tls none'
MSG=$W/cron.msg refused 65 'From: "root" has no @domain \(see --qualify-domain\)' -C "$W/cron.conf" -t
refused 64 'sender "cron" has no @domain' -C "$W/smtpc.conf" -f cron dev@example.com
refused 64 'invalid --qualify-domain "a b"' -C "$W/smtpc.conf" --qualify-domain 'a b' root

step "--log: one JSON line per outcome, for callers that show no stderr"
conf "$W/log.conf" "server $S" 'tls none' 'user alice' 'password-file ~/pw' \
    'log ~/smtpc.log'
delivers "logged delivery" "$W/msg" "cron@example.com ops@example.com" \
    -C "$W/log.conf" -t -i
SMTPC_TEST_PW=wrong run_smtpc "$W/out" "$W/err" -C "$W/log.conf" \
    --password-env SMTPC_TEST_PW -t <"$W/msg"
expect_rc 77 "logged auth failure" "$W/err"
run_smtpc "$W/out" "$W/err" -C "$W/log.conf" root <"$W/msg"
expect_rc 64 "logged usage error" "$W/err"
mkdir -p "$W/spool"
cp "$W/msg" "$W/spool/1.eml"
cp "$W/msg" "$W/spool/2.eml"
run_smtpc "$W/out" "$W/err" -C "$W/log.conf" --batch "$W/spool"
expect_rc 0 "logged batch" "$W/err"
n=$((n + 2))
aio_wait_count $n || fail "batch not delivered"
[ "$(stat -c %a "$HOME/smtpc.log")" = 600 ] || fail "log mode $(stat -c %a "$HOME/smtpc.log")"
"$PY" - "$HOME/smtpc.log" <<'EOF' || fail "--log lines: $(cat "$HOME/smtpc.log")"
import json, sys, re
lines = open(sys.argv[1]).read().splitlines()
rs = [json.loads(l) for l in lines]
assert [r["status"] for r in rs] == ["ok", "auth-failed", "usage", "ok", "ok", "ok"], \
    [r["status"] for r in rs]
for r in rs:
    assert list(r)[:2] == ["time", "pid"], list(r)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["time"]), r["time"]
    assert isinstance(r["pid"], int) and r["pid"] > 0, r["pid"]
assert rs[0]["queue"] and rs[0]["recipients"][0]["address"] == "ops@example.com", rs[0]
assert rs[1]["exit"] == 77 and rs[1]["code"] == 535, rs[1]
assert rs[2]["exit"] == 64, rs[2]
assert [r.get("file", "").rsplit("/", 1)[-1] for r in rs[3:5]] == ["1.eml", "2.eml"], rs[3:5]
assert rs[5]["summary"] and rs[5]["sent"] == 2, rs[5]
EOF
# A log that cannot be opened is a warning: the mail still goes.
delivers "an unwritable --log" "$W/msg" "a@example.com dev@example.com" \
    -C "$W/log.conf" --log "$W/no/such/dir/log" -f a@example.com dev@example.com
grep -q '^smtpc: warning: cannot open the --log file ".*": No such file or directory (the mail goes on, unlogged)$' "$W/err" \
    || fail "no warning about the log: $(cat "$W/err")"

step "the command line replaces the file's values"
# The file's password source gives way to the command line's (not "given
# twice"): a wrong password from the environment must fail the login.
export SMTPC_TEST_PW=wrong
run_smtpc "$W/out" "$W/err" --password-env SMTPC_TEST_PW dev@example.com <"$W/msg"
expect_rc 77 "--password-env over the file's password-file" "$W/err"
# Another server and TLS mode on the command line, read back from --json on
# a name that does not resolve (nothing is sent anywhere).
run_smtpc "$W/out" "$W/err" --json --server smtpc-test.invalid --tls starttls \
    --from other@example.com dev@example.com <"$W/msg"
expect_rc 68 "--server over the file's" "$W/err"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert (r["server"], r["port"], r["tls_mode"], r["from"]) == ("smtpc-test.invalid", 587, "starttls", "other@example.com"), r' \
    "$W/out" || fail "command line over the file: $(cat "$W/out")"
refused 64 '--server given twice' --server a.invalid --server b.invalid dev@example.com

step "where the file is looked for"
unset SMTPC_CONFIG
conf "$HOME/.config/smtpc/config" 'server smtpc-home.invalid:2526' 'tls none' 'from a@example.com'
run_smtpc "$W/out" "$W/err" --json dev@example.com </dev/null
expect_rc 68 "~/.config/smtpc/config" "$W/err"
grep -q '"server":"smtpc-home.invalid","port":2526' "$W/out" || fail "~/.config not read: $(cat "$W/out")"
mkdir -p "$W/xdg/smtpc"
conf "$W/xdg/smtpc/config" 'server smtpc-xdg.invalid:2527' 'tls none' 'from a@example.com'
XDG_CONFIG_HOME=$W/xdg run_smtpc "$W/out" "$W/err" --json dev@example.com </dev/null
expect_rc 68 "\$XDG_CONFIG_HOME/smtpc/config" "$W/err"
grep -q '"server":"smtpc-xdg.invalid","port":2527' "$W/out" || fail "XDG not read: $(cat "$W/out")"
conf "$W/other.conf" 'server smtpc-c.invalid:2528' 'tls none' 'from a@example.com'
run_smtpc "$W/out" "$W/err" --json -C "$W/other.conf" dev@example.com </dev/null
expect_rc 68 "-C FILE" "$W/err"
grep -q '"server":"smtpc-c.invalid","port":2528' "$W/out" || fail "-C not read: $(cat "$W/out")"
SMTPC_CONFIG= refused 64 'missing --server' dev@example.com
export SMTPC_CONFIG=$W/smtpc.conf

step "accounts: the defaults, then the chosen section over them"
conf "$W/acct.conf" 'tls none' 'from all@example.com' '' \
    'account work' 'server smtpc-work.invalid:2600' 'from me@work.example' '' \
    'account default' 'server smtpc-default.invalid:2601'
# which ARGS... -> "server port from" read back from --json (exit 68).
which() {
    run_smtpc "$W/out" "$W/err" --json -C "$W/acct.conf" "$@" dev@example.com </dev/null
    expect_rc 68 "accounts: $*" "$W/err"
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["server"], r["port"], r["from"], r["tls_mode"])' "$W/out"
}
[ "$(which)" = "smtpc-default.invalid 2601 all@example.com none" ] || fail "no -a: $(which)"
[ "$(which -a work)" = "smtpc-work.invalid 2600 me@work.example none" ] || fail "-a work: $(which -a work)"
[ "$(which --account work --from x@example.com)" = "smtpc-work.invalid 2600 x@example.com none" ] \
    || fail "--account work --from: $(which --account work --from x@example.com)"
refused 78 'acct\.conf: no account "nope"' -C "$W/acct.conf" -a nope
SMTPC_CONFIG= refused 78 '-a work: there is no configuration file' -a work
# The chosen section's values are checked with their lines; an unknown
# option is refused in any section, used or not.
conf "$W/acct2.conf" "server $S" 'account other' 'tls nope'
refused 78 'acct2\.conf:3: unknown --tls "nope"' -C "$W/acct2.conf" -a other
conf "$W/acct2.conf" "server $S" 'account other' 'bogus 1'
refused 78 'acct2\.conf:3: unknown option "bogus"' -C "$W/acct2.conf"
conf "$W/acct2.conf" "server $S" 'account'
refused 78 'acct2\.conf:2: "account" needs one name' -C "$W/acct2.conf"

step "bad files: 78 with the line, nothing sent"
bad() {
    local pat=$1
    shift
    conf "$W/bad.conf" "$@"
    refused 78 "$pat" -C "$W/bad.conf" dev@example.com
}
bad 'bad\.conf:2: unknown option "bogus"' "server $S" 'bogus 1'
bad 'bad\.conf:3: unknown --tls "nope"' "server $S" '' 'tls nope'
bad 'bad\.conf:1: "server" needs a value' 'server'
bad 'bad\.conf:1: "no-pipelining" takes no value' 'no-pipelining yes'
bad 'bad\.conf:1: "batch" belongs on the command line' 'batch /tmp'
bad 'bad\.conf:1: "config" belongs on the command line' 'config /etc/smtpc.conf'
bad 'bad\.conf:2: --server given twice' "server $S" "server $S"
bad 'bad\.conf:1: invalid --server' 'server a b'
# Options that combine badly name the file's line too (and exit 78).
bad 'bad\.conf:3: a password needs --user NAME' "server $S" 'tls none' 'password-file ~/pw'
bad 'bad\.conf:2: --user needs --password-env' "server $S" 'user alice' 'tls none'
bad 'bad\.conf:3: give only one of --password-env and --password-file' \
    "server $S" 'user alice' 'password-env PW' 'password-file ~/pw'
bad 'bad\.conf:2: --auth cram-md5 needs --user and a password option' \
    "server $S" 'auth cram-md5' 'oauth2-token-env T' 'user alice'
# The same mistake made on the command line is a usage error (64).
conf "$W/bad.conf" "server $S" 'tls none'
refused 64 '^smtpc: a password needs --user NAME' -C "$W/bad.conf" \
    --password-file "$HOME/pw" dev@example.com

step "a certificate option for every account, unused by a tls none one"
conf "$W/ca.conf" "cafile $W/no-such-ca.pem" "capath $W" 'pin-sha256 abc' \
    'account plain' "server $S" 'tls none' 'from a@example.com' 'user alice' \
    'password-file ~/pw'
delivers "cafile with tls none" "$W/msg" "a@example.com dev@example.com" \
    -C "$W/ca.conf" -a plain dev@example.com
conf "$W/bad.conf" "server $S" 'tls none' 'from a@example.com'
chmod 620 "$W/bad.conf"
refused 78 'bad\.conf: refused: another user can change it' -C "$W/bad.conf" dev@example.com
refused 78 'nothere\.conf: No such file or directory' -C "$W/nothere.conf" dev@example.com
refused 78 'not a regular file' -C "$W" dev@example.com
printf 'server a\0b\n' >"$W/nul.conf"
chmod 600 "$W/nul.conf"
refused 78 'NUL byte' -C "$W/nul.conf" dev@example.com
run_smtpc "$W/out" "$W/err" --json -C "$W/nothere.conf" dev@example.com </dev/null
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert (r["status"], r["exit"]) == ("config-error", 78), r' \
    "$W/out" || fail "--json for a bad file: $(cat "$W/out")"

step "sendmail options smtpc cannot honour: 64"
refused 64 '-bs is not supported: smtpc only sends mail' -bs
refused 64 'invalid -B "BINARY"' -BBINARY dev@example.com
# An unknown letter inside a cluster is named, not the word before it.
refused 64 'unknown option -x \(' -ixoi dev@example.com
echo "config: all checks passed"
