#!/usr/bin/env bash
# What msmtp users rely on, against aiosmtpd with STARTTLS and AUTH (and
# Postfix where a real MTA's refusal matters): a password from a command
# or ~/.netrc, an aliases file, --serverinfo, --syslog, --print-config and
# --all-or-nothing.  Every secret used here is checked to appear in no
# output.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

W=$(harness_tmpdir msmtp)
tls_certs "$W/certs" || exit $?
PW='s3cret-Pw-26'
start_cli_aiosmtpd "$W/aio" --tls-cert "$CERTS/good.pem" --tls-key "$CERTS/good.key" \
    --auth "alice:$PW" --auth-require-tls --require-starttls --auth-required \
    --reject 'nobody@example.com=550 5.1.1 no such user'
S="localhost:$AIO_PORT"
TLS=(--server "$S" --tls starttls --cafile "$CERTS/ca.pem")
export HOME=$W/home
mkdir -p "$HOME"
printf 'From: me@example.com\nTo: you@example.com\nSubject: t\n\nhello\n' >"$W/msg"

# no_secret FILE...: the password appears in none of them.
no_secret() {
    local f
    for f in "$@"; do
        ! grep -qF "$PW" "$f" || fail "the password appears in $f"
    done
}

# delivers WHAT "FROM RCPT..." ARGS...: smtpc ARGS <msg exits 0 and aiosmtpd
# stores message n+1 with that envelope, after AUTH as alice.
n=0
delivers() {
    local what=$1 want=$2 got
    shift 2
    run_smtpc "$W/out" "$W/err" "$@" <"$W/msg"
    expect_rc 0 "$what" "$W/err"
    n=$((n + 1))
    aio_wait_count $n || fail "$what: not delivered"
    got="$(aio_json_get $n mail_from) $(aio_json_get $n rcpt_tos | tr '\n' ' ')"
    [ "$got" = "$want " ] || fail "$what: envelope $got, expected $want"
    [ "$(aio_json_get $n login)" = alice ] || fail "$what: not authenticated as alice"
    no_secret "$W/out" "$W/err"
}

# refused WANT_RC "stderr pattern" ARGS...: smtpc stops with WANT_RC and
# the message, and nothing is stored.
refused() {
    local want=$1 pat=$2
    shift 2
    run_smtpc "$W/out" "$W/err" "$@" <"$W/msg"
    expect_rc "$want" "smtpc $*" "$W/err"
    grep -Eq -- "$pat" "$W/err" || { cat "$W/err" >&2; fail "smtpc $*: stderr lacks /$pat/"; }
    [ "$(aio_count)" = "$n" ] || fail "smtpc $*: a message was stored"
    no_secret "$W/out" "$W/err"
}

# ------------------------------------------------------------ password sources
step "--password-cmd: the password printed by a command (a keyring)"
printf '#!/bin/sh\necho "%s"\n' "$PW" >"$W/keyring"
chmod 700 "$W/keyring"
delivers "--password-cmd" "me@example.com you@example.com" "${TLS[@]}" \
    --from me@example.com --user alice --password-cmd "$W/keyring" -v you@example.com
grep -q 'AUTH' "$W/err" || fail "-v shows no AUTH"
refused 77 '' "${TLS[@]}" --from me@example.com --user alice \
    --password-cmd 'echo wrong' you@example.com
refused 78 'password-cmd failed \(exit status 3\)' "${TLS[@]}" --from me@example.com \
    --user alice --password-cmd 'exit 3' you@example.com

step "passwordeval in the configuration file (msmtp's key)"
printf 'server %s\ntls starttls\ncafile %s\nuser alice\npasswordeval %s\n' \
    "$S" "$CERTS/ca.pem" "$W/keyring" >"$W/conf"
chmod 600 "$W/conf"
delivers "passwordeval" "me@example.com you@example.com" -C "$W/conf" \
    --from me@example.com you@example.com

step "~/.netrc: machine HOST login USER password PW, when no password is named"
printf 'machine other.example login alice password nope\nmachine localhost\n  login bob password nope\nmachine localhost login alice password "%s"\ndefault login alice password nope\n' \
    "$PW" >"$HOME/.netrc"
chmod 600 "$HOME/.netrc"
delivers "~/.netrc" "me@example.com you@example.com" "${TLS[@]}" \
    --from me@example.com --user alice you@example.com
# The "default" entry when no machine line names the host.
printf 'machine other.example login alice password nope\ndefault login alice password %s\n' \
    "$PW" >"$W/netrc2"
chmod 600 "$W/netrc2"
delivers "--netrc-file, default entry" "me@example.com you@example.com" "${TLS[@]}" \
    --from me@example.com --user alice --netrc-file "$W/netrc2" you@example.com
step "~/.netrc: a wrong password is refused by the server"
printf 'machine localhost login alice password wrong\n' >"$HOME/.netrc"
refused 77 '' "${TLS[@]}" --from me@example.com --user alice you@example.com
step "~/.netrc readable by others is refused, with why"
printf 'machine localhost login alice password %s\n' "$PW" >"$HOME/.netrc"
chmod 644 "$HOME/.netrc"
refused 78 'netrc file ".*/\.netrc" refused: .*nobody else can read \(chmod 600\)' \
    "${TLS[@]}" --from me@example.com --user alice you@example.com
chmod 600 "$HOME/.netrc"
step "--no-netrc, and no entry for the user"
refused 64 '--user needs --password-env.*--no-netrc' "${TLS[@]}" --from me@example.com \
    --user alice --no-netrc you@example.com
refused 78 'no password for --user "carol".*machine localhost login carol' \
    "${TLS[@]}" --from me@example.com --user carol you@example.com

# ---------------------------------------------------------------- aliases
step "--aliases: local names become addresses; default: for the others"
printf '# msmtp format\nroot: ops@example.com, admin@example.com\n  Www-Data :web@example.com\n' >"$W/aliases"
AUTH=(--user alice --password-cmd "$W/keyring")
delivers "--aliases" "me@example.com ops@example.com admin@example.com web@example.com x@example.org" \
    "${TLS[@]}" "${AUTH[@]}" --from me@example.com --aliases "$W/aliases" \
    root www-data x@example.org
# A name with no line: left for --qualify-domain, or refused without it.
delivers "no line: qualified" "me@example.com cron@example.net" "${TLS[@]}" "${AUTH[@]}" \
    --from me@example.com --aliases "$W/aliases" --qualify-domain example.net cron
refused 64 'recipient "cron" has no @domain' "${TLS[@]}" "${AUTH[@]}" \
    --from me@example.com --aliases "$W/aliases" cron
printf 'default: catchall@example.com\n' >>"$W/aliases"
delivers "default:" "me@example.com catchall@example.com ops@example.com admin@example.com" "${TLS[@]}" "${AUTH[@]}" \
    --from me@example.com --aliases "$W/aliases" cron root
step "aliases in the configuration file, and a bad aliases file"
printf 'server %s\ntls starttls\ncafile %s\nuser alice\npasswordeval %s\naliases %s\n' \
    "$S" "$CERTS/ca.pem" "$W/keyring" "$W/aliases" >"$W/conf"
delivers "aliases key" "me@example.com ops@example.com admin@example.com" -C "$W/conf" \
    --from me@example.com root
printf 'root ops@example.com\n' >"$W/bad-aliases"
refused 78 'aliases ".*bad-aliases" line 1: "NAME: ADDRESS, ..." expected' "${TLS[@]}" "${AUTH[@]}" \
    --from me@example.com --aliases "$W/bad-aliases" root
refused 78 'aliases ".*no-such": No such file' "${TLS[@]}" "${AUTH[@]}" \
    --from me@example.com --aliases "$W/no-such" root

# ---------------------------------------------------------------- --serverinfo
step "--serverinfo: extensions, SIZE, AUTH, TLS and the certificate, then QUIT"
run_smtpc "$W/si" "$W/err" --serverinfo "${TLS[@]}" </dev/null
expect_rc 0 "--serverinfo" "$W/err"
want_line() { grep -qxE -- "$1" "$W/si" || { cat "$W/si" >&2; fail "--serverinfo: no line /$1/"; }; }
want_line "server: localhost port $AIO_PORT"
want_line 'tls: TLSv1\.[23] [A-Z0-9_-]+'
want_line 'certificate 0 subject: CN=localhost'
want_line 'certificate 0 issuer: CN=smtpc test CA'
want_line 'certificate 0 valid: [0-9-]{10} [0-9:]{8} UTC to [0-9-]{10} [0-9:]{8} UTC'
want_line 'extension: SIZE 33554432'
want_line 'size limit: 33554432'
want_line 'auth: LOGIN PLAIN'
want_line 'ehlo: aiosmtpd\.smtpc\.test'
# After STARTTLS the first EHLO's list (which offers STARTTLS) is gone.
! grep -q 'STARTTLS' "$W/si" || fail "--serverinfo shows the EHLO reply from before TLS"
[ "$(aio_count)" = "$n" ] || fail "--serverinfo stored a message"
step "--serverinfo -v: TLS parameters, the key and fingerprint, and the dialogue"
run_smtpc "$W/si" "$W/err" --serverinfo -v "${TLS[@]}" --user alice \
    --password-cmd "$W/keyring" </dev/null
expect_rc 0 "--serverinfo -v" "$W/err"
want_line 'certificate 0 key: EC 256 bits'
want_line 'certificate 0 sha256: ([0-9A-F]{2}:){31}[0-9A-F]{2}'
grep -q '^> QUIT' "$W/err" || fail "--serverinfo -v: no QUIT in the dialogue"
! grep -q '^> AUTH' "$W/err" || fail "--serverinfo authenticated"
no_secret "$W/si" "$W/err"
step "--serverinfo without TLS, and a certificate that fails"
run_smtpc "$W/si" "$W/err" --serverinfo --server "$S" --tls none </dev/null
expect_rc 0 "--serverinfo --tls none" "$W/err"
want_line 'tls: none'
want_line 'extension: STARTTLS'
want_line 'auth: none'
run_smtpc "$W/si" "$W/err" --serverinfo --server "$S" --tls starttls </dev/null
expect_rc 69 "--serverinfo, untrusted certificate" "$W/err"
grep -q 'certificate verification failed' "$W/err" || fail "--serverinfo: $(cat "$W/err")"

# ---------------------------------------------------------------- --syslog
# syslog(3) writes to /dev/log: a socket of ours is bind-mounted there in a
# private mount namespace (over a private /dev), so the machine's own
# syslog never sees a line and the lines are read back exactly.
step "--syslog: one line per outcome, at the facility asked for, no secret"
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
    echo "SKIP: --syslog steps need root and unshare -m"
else
    "$PY" - "$W/log.sock" "$W/syslog" <<'PYEOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).replace(b"\n", b"\\n") + b"\n")
PYEOF
    LISTENER=$!
    harness_on_exit "kill $LISTENER 2>/dev/null; wait $LISTENER 2>/dev/null"
    for _ in $(seq 50); do [ -S "$W/log.sock" ] && break; sleep 0.1; done
    [ -S "$W/log.sock" ] || fail "the /dev/log listener did not start"
    # with_devlog ARGS...: smtpc ARGS <msg >out 2>err with our /dev/log; sets RC.
    with_devlog() {
        RC=0
        unshare -m sh -c '
            set -e
            mkdir -p "$0/realdev"
            mount --rbind /dev "$0/realdev"
            mount -t tmpfs tmpfs /dev
            for n in null zero urandom random; do
                touch /dev/$n
                mount --bind "$0/realdev/$n" /dev/$n
            done
            ln -s /proc/self/fd /dev/fd
            touch /dev/log
            mount --bind "$0/log.sock" /dev/log
            exec "$@"' "$W" "$SMTPC" "$@" <"$W/msg" >"$W/out" 2>"$W/err" || RC=$?
    }
    # syslog_line N: the Nth line once it arrived.
    syslog_line() {
        local i
        for i in $(seq 50); do
            [ "$(wc -l <"$W/syslog" 2>/dev/null || echo 0)" -ge "$1" ] && break
            sleep 0.1
        done
        sed -n "${1}p" "$W/syslog"
    }
    with_devlog "${TLS[@]}" "${AUTH[@]}" --syslog --from me@example.com you@example.com
    expect_rc 0 "--syslog" "$W/err"
    n=$((n + 1))
    line=$(syslog_line 1)
    # <22>: LOG_MAIL | LOG_INFO.
    grep -qE '^<22>.* smtpc\[[0-9]+\]: status=ok exit=0 server=localhost port=[0-9]+ tls="TLSv1\.[23] [^"]+" auth=(PLAIN|LOGIN) user=alice from=me@example\.com recipients=you@example\.com code=250 text=' <<<"$line" ||
        fail "--syslog line: $line"
    with_devlog "${TLS[@]}" "${AUTH[@]}" --syslog=LOG_LOCAL3 --from me@example.com \
        you@example.com nobody@example.com
    expect_rc 0 "--syslog=LOG_LOCAL3, one refused" "$W/err"
    n=$((n + 1))
    line=$(syslog_line 2)
    # <158>: LOG_LOCAL3 | LOG_INFO.
    grep -qE '^<158>.* status=partial exit=0 .*recipients=you@example\.com refused="nobody@example\.com: 550 5\.1\.1 no such user" code=250' <<<"$line" ||
        fail "--syslog=LOG_LOCAL3 line: $line"
    # In the configuration file as msmtp writes it; a failure at LOG_ERR.
    printf 'server %s\ntls starttls\ncafile %s\nuser alice\npasswordeval echo wrong\nsyslog LOG_MAIL\n' \
        "$S" "$CERTS/ca.pem" >"$W/conf"
    with_devlog -C "$W/conf" --from me@example.com you@example.com
    expect_rc 77 "syslog LOG_MAIL, wrong password" "$W/err"
    line=$(syslog_line 3)
    # <19>: LOG_MAIL | LOG_ERR.
    grep -qE '^<19>.* status=auth-failed exit=77 .*from=me@example\.com error="authentication failed" code=535' <<<"$line" ||
        fail "syslog key, failure line: $line"
    printf 'server %s\ntls starttls\ncafile %s\nuser alice\npasswordeval %s\nsyslog\n' \
        "$S" "$CERTS/ca.pem" "$W/keyring" >"$W/conf"
    with_devlog -C "$W/conf" --from me@example.com you@example.com
    expect_rc 0 "syslog alone in the file" "$W/err"
    n=$((n + 1))
    grep -q '^<22>.* status=ok' <<<"$(syslog_line 4)" || fail "syslog key: $(syslog_line 4)"
    with_devlog -C "$W/conf" --syslog=off --from me@example.com you@example.com
    expect_rc 0 "--syslog=off" "$W/err"
    n=$((n + 1))
    sleep 0.5
    [ "$(wc -l <"$W/syslog")" = 4 ] || fail "--syslog=off still logged: $(tail -1 "$W/syslog")"
    no_secret "$W/syslog"
    refused 64 'invalid --syslog "LOG_NOPE"' "${TLS[@]}" --syslog=LOG_NOPE --from me@example.com you@example.com
fi

# ---------------------------------------------------------------- --print-config
step "--print-config: file, account and command line together; secrets hidden"
export SMTPC_T26_PW=$PW
printf 'server %s\ntls starttls\nuser alice\npasswordeval echo %s\noauth2-token-cmd echo %s\nsyslog LOG_LOCAL1\naccount work\nfrom w@example.com\npassword-env SMTPC_T26_PW\n' \
    "$S" "$PW" "$PW" >"$W/conf"
run_smtpc "$W/pc" "$W/err" --print-config -C "$W/conf" -a work --timeout 30 --all-or-nothing </dev/null
expect_rc 0 "--print-config" "$W/err"
for want in "server $S" 'tls starttls' 'user alice' 'from w@example.com' \
    'password-env SMTPC_T26_PW' 'oauth2-token-cmd <hidden>' 'syslog LOG_LOCAL1' \
    'timeout 30' 'all-or-nothing' 'auth auto'; do
    grep -qxF "$want" "$W/pc" || { cat "$W/pc" >&2; fail "--print-config lacks '$want'"; }
done
# The account's password-env replaced the file's passwordeval.
! grep -q '^password-cmd\|^passwordeval' "$W/pc" || fail "--print-config: passwordeval not replaced"
grep -qE '^# in effect: server localhost port [0-9]+, tls starttls, password from the environment' "$W/pc" ||
    fail "--print-config: $(tail -1 "$W/pc")"
no_secret "$W/pc" "$W/err"
run_smtpc "$W/pc" "$W/err" --print-config -C "$W/conf" </dev/null
grep -qxF 'password-cmd <hidden>' "$W/pc" || fail "--print-config shows a password command"
no_secret "$W/pc" "$W/err"
[ "$(aio_count)" = "$n" ] || fail "--print-config sent something"

# ---------------------------------------------------------------- --all-or-nothing
step "--all-or-nothing: one recipient refused, nothing delivered to anyone"
run_smtpc "$W/out" "$W/err" "${TLS[@]}" "${AUTH[@]}" --all-or-nothing --json \
    --from me@example.com you@example.com nobody@example.com other@example.com <"$W/msg"
expect_rc 69 "--all-or-nothing" "$W/err"
grep -q 'recipient <nobody@example.com> refused: 550 5.1.1 no such user' "$W/err" || fail "no refusal: $(cat "$W/err")"
grep -q 'not sent to anyone: a recipient was refused (--all-or-nothing)' "$W/err" || fail "no reason: $(cat "$W/err")"
grep -q '"status":"unavailable"\|"exit":69' "$W/out" || fail "--json: $(cat "$W/out")"
sleep 0.5
[ "$(aio_count)" = "$n" ] || fail "--all-or-nothing: a message was stored"
step "the default: delivered to those accepted, the refused reported"
delivers "partial delivery" "me@example.com you@example.com other@example.com" "${TLS[@]}" "${AUTH[@]}" \
    --from me@example.com you@example.com nobody@example.com other@example.com
grep -q 'recipient <nobody@example.com> refused' "$W/err" || fail "partial: $(cat "$W/err")"

step "--all-or-nothing against Postfix (PIPELINING and CHUNKING offered)"
printf '/^nobody@/ REJECT no such user\n/^later@/ DEFER_IF_PERMIT try later\n' >"$W/access"
rc=0
start_mta "$W/mta" "smtpd_recipient_restrictions = check_recipient_access regexp:$W/access, permit_mynetworks, reject_unauth_destination" || rc=$?
if [ "$rc" = 77 ]; then
    echo "SKIP: no private Postfix here"
elif [ "$rc" != 0 ]; then
    fail "Postfix did not start"
else
    M=(--server "127.0.0.1:$MTA_PORT" --tls none --from me@example.com)
    run_smtpc "$W/out" "$W/err" "${M[@]}" --all-or-nothing you@example.com nobody@example.com other@example.com <"$W/msg"
    expect_rc 69 "Postfix, --all-or-nothing" "$W/err"
    # A temporary refusal makes the whole message a temporary failure.
    run_smtpc "$W/out" "$W/err" "${M[@]}" --all-or-nothing you@example.com later@example.com <"$W/msg"
    expect_rc 75 "Postfix, --all-or-nothing, 450" "$W/err"
    run_smtpc "$W/out" "$W/err" "${M[@]}" you@example.com nobody@example.com other@example.com <"$W/msg"
    expect_rc 0 "Postfix, default" "$W/err"
    mta_wait_delivery 2 || fail "Postfix: the default did not deliver to the two accepted"
    sleep 1
    [ "$(mta_count)" = 2 ] || fail "Postfix: $(mta_count) messages, expected the default run's 2 only"
    [ -n "$(mta_messages_for other@example.com)" ] || fail "Postfix: other@example.com got nothing"
fi
