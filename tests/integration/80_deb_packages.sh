#!/usr/bin/env bash
# 80_deb_packages: the Debian packages build, pass lintian, and work.
#
# Builds the packages the way `make deb` does (scripts/deb.sh, unit tests
# left out: nocheck), which fails on any lintian error or warning, checks
# their control data, then extracts them (dpkg-deb -x) into a throwaway root
# and uses what they contain, nothing from the tree or the build:
#   - the packaged /usr/sbin/sendmail (smtpc-mta's link to smtpc), with the
#     packaged /etc/smtpc.conf completed with a server, sends a mail to
#     aiosmtpd on loopback, as cron and PHP call sendmail;
#   - with the server away the message is queued, and the command of the
#     packaged systemd unit, and that of the cron.d entry, send it once the
#     server is back (the cron one quietly: cron mails what it prints);
#   - a program built with the packaged pkg-config file and headers runs
#     with the packaged shared library.
# The machine's own /usr/sbin/sendmail, /etc and /var are never touched:
# every path is under the throwaway root.
set -euo pipefail
. "$SMTPC_ROOT/tests/servers/lib.sh"


have_tools() {
    local t
    for t in dpkg-buildpackage dh lintian fakeroot dpkg-deb cmake cc pkg-config; do
        command -v "$t" >/dev/null || return 1
    done
    "$SMTPC_ROOT/scripts/deps.sh" --check build deb >/dev/null
}
if ! have_tools; then
    # make check installs these (scripts/packages, group deb); a run of the
    # test alone installs them too, when it may.
    if [ "$(id -u)" = 0 ] || command -v sudo >/dev/null; then
        "$SMTPC_ROOT/scripts/deps.sh" build deb || true
    fi
    have_tools || { echo "SKIP: the Debian packaging tools cannot be installed (scripts/deps.sh build deb)"; exit 77; }
fi

W=$(harness_tmpdir deb)
OUT=$W/out
echo "== building the packages (scripts/deb.sh, DEB_BUILD_OPTIONS=nocheck parallel=2)"
if ! DEB_BUILD_OPTIONS="nocheck parallel=2" "$SMTPC_ROOT/scripts/deb.sh" "$OUT" >"$W/deb.log" 2>&1; then
    tail -n 60 "$W/deb.log"
    fail "scripts/deb.sh failed (build or lintian)"
fi
# New exports are allowed but shown (a removed one failed the build).
grep -A 30 '^dpkg-gensymbols: warning' "$W/deb.log" || true
sed -n '/^deb: lintian/,$p' "$W/deb.log"
grep -q '^deb: lintian reports no error or warning' "$W/deb.log" || fail "lintian did not pass"
grep -E '^[EW]: ' "$W/deb.log" && fail "lintian reported errors or warnings"

deb_of() {
    local f
    f=$(ls "$OUT/$1"_*.deb 2>/dev/null | grep -v -- '-dbgsym_' | sed -n 1p)
    [ -n "$f" ] || fail "no package $1 was built"
    echo "$f"
}
field() { dpkg-deb -f "$(deb_of "$1")" "$2"; }

echo "== control data"
# The packages carry the version of the sources they are built from.
cmake_version=$(sed -n 's/^project(smtpc VERSION \([^ ]*\) .*/\1/p' "$SMTPC_ROOT/CMakeLists.txt")
deb_version=$(dpkg-parsechangelog -l "$SMTPC_ROOT/debian/changelog" -S Version)
[ "${deb_version%%[-+~]*}" = "$cmake_version" ] ||
    fail "debian/changelog says $deb_version, CMakeLists.txt $cmake_version: add a changelog entry (dch -v)"
for p in libsmtpc0 libsmtpc-dev smtpc smtpc-mta; do
    echo "$p $(field "$p" Version): $(field "$p" Depends)"
done
for f in Provides Conflicts Replaces; do
    [ "$(field smtpc-mta "$f")" = mail-transport-agent ] ||
        fail "smtpc-mta: $f is '$(field smtpc-mta "$f")', not mail-transport-agent"
done
# (Outputs are kept in files before grep -q reads them: with pipefail, a
# grep that stops early would fail the writer with SIGPIPE.)
field libsmtpc-dev Depends >"$W/dev.depends"
grep -qF "libsmtpc0 (= $(field libsmtpc0 Version))" "$W/dev.depends" ||
    fail "libsmtpc-dev does not depend on its own libsmtpc0"
dpkg-deb -I "$(deb_of libsmtpc0)" symbols >"$W/symbols" 2>&1 ||
    { cat "$W/symbols"; fail "libsmtpc0 has no symbols file"; }
grep -q '^ smtpc_client_sendmail@Base' "$W/symbols" ||
    fail "libsmtpc0's symbols file lacks smtpc_client_sendmail"
dpkg-deb -I "$(deb_of smtpc-mta)" conffiles >"$W/conffiles"
grep -qx /etc/smtpc.conf "$W/conffiles" || fail "/etc/smtpc.conf is not a conffile"
# As the package will install it: root's, and only root may change it.
dpkg-deb -c "$(deb_of smtpc-mta)" | grep ' \./etc/smtpc\.conf$' | tee "$W/conf.ls"
read -r mode owner _ <"$W/conf.ls"
[ "$owner" = root/root ] || fail "/etc/smtpc.conf is owned by $owner"
case "$mode" in -rw-r--r--|-rw-r-----|-rw-------) ;; *) fail "/etc/smtpc.conf has mode $mode" ;; esac

echo "== extracted into a throwaway root"
R=$W/root
for p in libsmtpc0 libsmtpc-dev smtpc smtpc-mta; do
    dpkg-deb -x "$(deb_of "$p")" "$R"
done
# What base-files gives every Debian system (smtpc makes its queue in it).
mkdir -p "$R/var/spool"
for link in usr/sbin/sendmail usr/lib/sendmail; do
    [ -L "$R/$link" ] || fail "/$link is not a symlink"
    # Relative, so that it resolves inside the root as on a real system.
    [ "$(readlink -f "$R/$link")" = "$R/usr/bin/smtpc" ] ||
        fail "/$link points to $(readlink "$R/$link"), not smtpc"
    echo "/$link -> $(readlink "$R/$link")"
done
[ -x "$R/usr/bin/smtpc-bench" ] || fail "no smtpc-bench"
[ -s "$R/usr/share/man/man1/smtpc.1.gz" ] || fail "no smtpc(1)"
unit=$R/lib/systemd/system/smtpc-flush-queue.service
timer=$R/lib/systemd/system/smtpc-flush-queue.timer
[ -f "$unit" ] && [ -f "$timer" ] || fail "no smtpc-flush-queue.service/.timer"
grep -qx 'WantedBy=timers.target' "$timer" || fail "the timer is not wanted by timers.target"
grep -q '^OnUnitActiveSec=' "$timer" || fail "the timer does not repeat"
flush_cmd=$(sed -n 's/^ExecStart=//p' "$unit")
cron_line=$(grep -v '^#' "$R/etc/cron.d/smtpc-mta" | grep .)
echo "service: $flush_cmd"
echo "cron.d:  $cron_line"
[ "$flush_cmd" = "/usr/bin/smtpc --flush-queue" ] || fail "the service does not run smtpc --flush-queue"
case "$cron_line" in
    *root*"/usr/bin/smtpc --flush-queue"*) ;;
    *) fail "the cron.d entry does not run smtpc --flush-queue as root" ;;
esac
if command -v systemd-analyze >/dev/null && [ -d /run/systemd/system ]; then
    systemd-analyze verify "$unit" "$timer" || fail "systemd-analyze rejects the units"
fi

# The packaged configuration, completed as an administrator would: the
# server, and the queue moved into the throwaway root.
conf=$R/etc/smtpc.conf
grep -qx 'queue  *\/var\/spool\/smtpc' "$conf" || fail "the packaged configuration has no queue"
sed -i "s|^queue .*|queue $R/var/spool/smtpc|" "$conf"
set_server() {
    sed -i '/^server /d' "$conf"
    echo "server $1" >>"$conf"
}
cat >>"$conf" <<EOF
tls none
from cron@example.com
qualify-domain example.com
EOF
export SMTPC_CONFIG=$conf

start_aiosmtpd "$W/received" || exit $?
set_server "127.0.0.1:$AIO_PORT"

echo "== the packaged sendmail, as PHP's mail() calls it (-t -i)"
printf 'To: alice@example.org\nSubject: through the packaged sendmail\n\nhello from smtpc-mta\n.\nstill here\n' \
    >"$W/php.eml"
rc=0
"$R/usr/sbin/sendmail" -t -i <"$W/php.eml" || rc=$?
[ "$rc" = 0 ] || fail "sendmail -t -i exited $rc"
aio_wait_count 1 10 || fail "aiosmtpd did not get the mail"
[ "$(aio_json_get 1 rcpt_tos)" = alice@example.org ] || fail "wrong recipient: $(aio_json_get 1 rcpt_tos)"
[ "$(aio_json_get 1 mail_from)" = cron@example.com ] || fail "wrong sender: $(aio_json_get 1 mail_from)"
grep -q '^still here' "$W/received/1.eml" || fail "the body was cut at the lone dot"

echo "== as Debian's cron calls it (/usr/lib/sendmail)"
printf 'Subject: Cron <root@host> true\n\noutput of a job\n' |
    "$R/usr/lib/sendmail" -FCronDaemon -i -B8BITMIME -oem root || rc=$?
[ "$rc" = 0 ] || fail "cron's call exited $rc"
aio_wait_count 2 10 || fail "aiosmtpd did not get cron's mail"
[ "$(aio_json_get 2 rcpt_tos)" = root@example.com ] || fail "cron's recipient: $(aio_json_get 2 rcpt_tos)"

# A queued entry is due again only after its backoff (its state file's
# "next T"): make every entry due now, as time would.
make_due() {
    local st
    for st in "$R"/var/spool/smtpc/new/*/state; do
        [ -f "$st" ] && sed -i 's/^next .*/next 0/' "$st"
    done
    return 0
}

echo "== queued while the server is away, sent by the packaged flush command"
stop_aiosmtpd
set_server "127.0.0.1:$AIO_PORT"   # nothing listens there now
rc=0
printf 'To: bob@example.org\nSubject: queued\n\nkept for later\n' |
    "$R/usr/sbin/sendmail" -t -i 2>"$W/queue.err" || rc=$?
cat "$W/queue.err"
[ "$rc" = 0 ] || fail "queueing exited $rc"
grep -q 'queued as' "$W/queue.err" || fail "the message was not queued"
[ "$(find "$R/var/spool/smtpc/new" -mindepth 1 -maxdepth 1 | wc -l)" = 1 ] || fail "no queue entry"
[ "$(stat -c %a "$R/var/spool/smtpc")" = 700 ] || fail "the queue is not private (mode $(stat -c %a "$R/var/spool/smtpc"))"
start_aiosmtpd "$W/received2" || exit $?
set_server "127.0.0.1:$AIO_PORT"
make_due
# The unit's command, its program taken from the throwaway root.
# shellcheck disable=SC2086
"$R"$flush_cmd || rc=$?
[ "$rc" = 0 ] || fail "the flush exited $rc"
aio_wait_count 1 10 || fail "the flush did not deliver the queued mail"
[ "$(aio_json_get 1 rcpt_tos)" = bob@example.org ] || fail "flushed recipient: $(aio_json_get 1 rcpt_tos)"
[ "$(find "$R/var/spool/smtpc/new" -mindepth 1 -maxdepth 1 | wc -l)" = 0 ] || fail "the entry stayed queued"

echo "== a program built with the packaged libsmtpc-dev, run with libsmtpc0"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=$R/usr/lib/$multiarch
grep -qx 'prefix=/usr' "$libdir/pkgconfig/smtpc.pc" || fail "the packaged smtpc.pc does not say prefix=/usr"
cflags=$(PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR=$R pkg-config --cflags smtpc)
libs=$(PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR=$R pkg-config --libs smtpc)
echo "cflags: $cflags"
echo "libs:   $libs"
# shellcheck disable=SC2086
cc -o "$W/send_native" "$SMTPC_ROOT/examples/send_native.c" $cflags $libs ||
    fail "the example does not build against libsmtpc-dev"
LD_LIBRARY_PATH=$libdir ldd "$W/send_native" | grep -F "$libdir/libsmtpc.so.0" ||
    fail "the program does not load the packaged libsmtpc.so.0"
LD_LIBRARY_PATH=$libdir "$W/send_native" 127.0.0.1 "$AIO_PORT" a@example.com carol@example.org ||
    fail "the program linked with libsmtpc0 did not send"
aio_wait_count 2 10 || fail "aiosmtpd did not get the library's mail"

echo "== the cron.d entry, as on a system without systemd"
# Its command (after the five time fields and the user), with the paths it
# names mapped into the throwaway root and a systemd check that says "none".
cron_cmd=$(printf '%s\n' "$cron_line" | sed -E 's/^([^[:space:]]+[[:space:]]+){6}//' |
    sed "s|/usr/bin/smtpc|$R/usr/bin/smtpc|g; s|/run/systemd/system|$W/no-systemd|g")
stop_aiosmtpd
set_server "127.0.0.1:$AIO_PORT"
rc=0
printf 'To: dave@example.org\nSubject: for cron\n\nflushed by cron\n' |
    "$R/usr/sbin/sendmail" -t -i 2>/dev/null || rc=$?
[ "$rc" = 0 ] || fail "queueing exited $rc"
# Server still away: the flush fails, and what it says is output (mailed).
make_due
out=$(sh -c "$cron_cmd")
echo "cron, server away: $out"
case "$out" in *"1 kept"*) ;; *) fail "cron's flush with the server away did not report the kept message" ;; esac
start_aiosmtpd "$W/received3" || exit $?
set_server "127.0.0.1:$AIO_PORT"
make_due
out=$(sh -c "$cron_cmd")
[ -z "$out" ] || fail "cron's successful flush printed (cron would mail it): $out"
aio_wait_count 1 10 || fail "cron's flush did not deliver the queued mail"
[ "$(aio_json_get 1 rcpt_tos)" = dave@example.org ] || fail "cron's flushed recipient: $(aio_json_get 1 rcpt_tos)"

[ "$(readlink -f /usr/sbin/sendmail 2>/dev/null)" != "$R/usr/bin/smtpc" ] || fail "the machine's sendmail changed"
echo "PASS: packages built, lintian-clean, and the packaged sendmail, queue flush and library work"
