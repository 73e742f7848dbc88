#!/usr/bin/env bash
# 07_install_prefix: the installed smtpc.pc is right for any install prefix.
#
# A library-only build (no sanitizers: the program below links it as a user
# would) is installed with `cmake --install --prefix DIR` (not the prefix it
# was configured with), moved elsewhere, and staged with DESTDIR.  Each time
# examples/send_native.c (the README's example) is compiled and linked with
# `pkg-config --cflags --libs smtpc` alone and run with the library from
# pkg-config's libdir, sending a mail to aiosmtpd; a program including the
# NetX Duo header is compiled too.  Then the same with
# SMTPC_PKGCONFIG_RELOCATABLE=OFF (absolute prefix, as the Debian package
# has it), which must name the install-time prefix.
set -euo pipefail
. "$SMTPC_ROOT/tests/servers/lib.sh"

for tool in cmake cc pkg-config; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done
W=$(harness_tmpdir prefix)
B=$W/build
cmake -S "$SMTPC_ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX=/nonexistent/configured-prefix \
    -DSMTPC_BUILD_CLI=OFF -DSMTPC_BUILD_TESTS=OFF -DSMTPC_BUILD_EXAMPLES=OFF \
    >"$W/configure.log" 2>&1 || { cat "$W/configure.log"; exit 1; }
cmake --build "$B" -j 2 >"$W/build.log" 2>&1 || { cat "$W/build.log"; exit 1; }

start_aiosmtpd "$W/received" || exit $?
sent=0

# try_prefix NAME PCDIR [SYSROOT]: compile, link and run against the smtpc.pc
# in PCDIR.
try_prefix() {
    local name=$1 pcdir=$2 sysroot=${3:-} libdir cflags libs
    # Searched before the system's directories (which libssl.pc needs).
    export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$sysroot
    echo "== $name: $pcdir/smtpc.pc"
    sed -n '1,4p' "$pcdir/smtpc.pc"
    cflags=$(pkg-config --cflags smtpc) libs=$(pkg-config --libs smtpc)
    libdir=$(pkg-config --variable=libdir smtpc)
    # pkgconf puts the sysroot in front of variables too; pkg-config does not.
    case "$libdir" in "$sysroot"/*) ;; *) libdir=$sysroot$libdir ;; esac
    echo "cflags: $cflags"
    echo "libs:   $libs"
    [ -f "$libdir/libsmtpc.so" ] || fail "$name: no libsmtpc.so in libdir $libdir"
    # shellcheck disable=SC2086
    cc -o "$W/prog-$name" "$SMTPC_ROOT/examples/send_native.c" $cflags $libs ||
        fail "$name: the example does not build with pkg-config's flags"
    # shellcheck disable=SC2086
    printf '#include <nxd_smtp_client.h>\nint main(void) { NX_SMTP_CLIENT c; (void)c; return 0; }\n' |
        cc -x c -o "$W/prog-$name-nxd" - $cflags $libs ||
        fail "$name: nxd_smtp_client.h does not compile with pkg-config's flags"
    LD_LIBRARY_PATH=$libdir ldd "$W/prog-$name" | grep -F "$libdir/libsmtpc.so" ||
        fail "$name: the program does not load the installed libsmtpc.so"
    LD_LIBRARY_PATH=$libdir "$W/prog-$name" 127.0.0.1 "$AIO_PORT" a@example.com "$name@example.org" ||
        fail "$name: the program linked with the installed library did not send"
    sent=$((sent + 1))
    aio_wait_count "$sent" 10 || fail "$name: aiosmtpd did not get the mail"
    [ "$(aio_json_get "$sent" rcpt_tos)" = "$name@example.org" ] || fail "$name: wrong recipient"
}

pcdir_of() { find "$1" -name smtpc.pc -printf '%h\n' | sed -n 1p; }

# --- relocatable (the default): ${pcfiledir}
grep -q '^prefix=\${pcfiledir}/' "$B/smtpc.pc" || fail "smtpc.pc is not relocatable by default"
cmake --install "$B" --prefix "$W/p1" >/dev/null
try_prefix p1 "$(pcdir_of "$W/p1")"
mv "$W/p1" "$W/p1-moved"
try_prefix moved "$(pcdir_of "$W/p1-moved")"
DESTDIR=$W/stage cmake --install "$B" --prefix /opt/smtpc-test >/dev/null
[ ! -e /opt/smtpc-test ] || fail "DESTDIR install wrote outside DESTDIR"
try_prefix staged "$(pcdir_of "$W/stage/opt/smtpc-test")"

# --- absolute: the prefix given at install time, not at configure time
cmake -DSMTPC_PKGCONFIG_RELOCATABLE=OFF "$B" >/dev/null
cmake --install "$B" --prefix "$W/p2" >/dev/null
pc=$(pcdir_of "$W/p2")/smtpc.pc
grep -qx "prefix=$W/p2" "$pc" || { cat "$pc"; fail "absolute smtpc.pc does not say prefix=$W/p2"; }
try_prefix p2 "$(dirname "$pc")"
DESTDIR=$W/stage2 cmake --install "$B" --prefix /opt/smtpc-abs >/dev/null
pc=$(pcdir_of "$W/stage2")/smtpc.pc
grep -qx "prefix=/opt/smtpc-abs" "$pc" || { cat "$pc"; fail "staged smtpc.pc does not say prefix=/opt/smtpc-abs"; }
try_prefix staged2 "$(dirname "$pc")" "$W/stage2"

grep -rq configured-prefix "$W/p1-moved" "$W/stage" "$W/p2" "$W/stage2" &&
    fail "the configure-time prefix is still in an installed file"
echo "PASS: $sent programs built with pkg-config sent through the installed library"
