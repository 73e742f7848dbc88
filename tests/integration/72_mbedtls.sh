#!/usr/bin/env bash
# The mbedTLS backend passes the same TLS tests as the OpenSSL one.
#
# Builds smtpc with -DSMTPC_TLS_BACKEND=mbedtls into its own build directory
# ($SMTPC_BUILD/mbedtls-variant, same build type and sanitizers as
# $SMTPC_BUILD), then runs against it:
#   - tests/unit/test_tls_openssl.c (the backend on its own, against an
#     OpenSSL server in a thread).  Its checks that name the backend
#     ("openssl") or expect TLS 1.3 (mbedTLS 2.28 speaks TLS 1.2 at most)
#     are the only failures accepted; every behavioural check must pass;
#   - tests/unit/test_tls_resume.c (session resumption: TLS 1.2 tickets and
#     session IDs, which is what mbedTLS 2.28 has); every check must pass;
#   - tests/unit/test_compat.c (the NetX Duo API, its TLS extension too);
#   - every tests/integration/4*_tls*.sh (the CLI through real servers:
#     STARTTLS, implicit TLS, certificate failures with their messages,
#     pins, downgrade and injection attacks, OAuth over TLS).
set -uo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"

[ -f /usr/include/mbedtls/ssl.h ] || { echo "SKIP: libmbedtls-dev not installed"; exit 77; }
command -v cmake >/dev/null || { echo "SKIP: cmake missing"; exit 77; }

V=$SMTPC_BUILD/mbedtls-variant
cache=$SMTPC_BUILD/CMakeCache.txt
sanitize=OFF
type=Debug
if [ -f "$cache" ]; then
    sanitize=$(sed -n 's/^SMTPC_SANITIZE:BOOL=//p' "$cache")
    type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$cache")
fi

step "configure and build $V (backend mbedtls, type ${type:-Debug}, sanitize ${sanitize:-OFF})"
targets=(smtpc)
[ -f "$SMTPC_ROOT/tests/unit/test_tls_openssl.c" ] && targets+=(test_tls_openssl)
[ -f "$SMTPC_ROOT/tests/unit/test_tls_resume.c" ] && targets+=(test_tls_resume)
# The NetX Duo API's TLS extension (src/compat/nxd_smtp_tls.c) over mbedTLS.
[ -f "$SMTPC_ROOT/tests/unit/test_compat.c" ] && targets+=(test_compat)
if ! cmake -S "$SMTPC_ROOT" -B "$V" -DSMTPC_TLS_BACKEND=mbedtls \
        -DCMAKE_BUILD_TYPE="${type:-Debug}" -DSMTPC_SANITIZE="${sanitize:-OFF}" \
        >"$V.configure.log" 2>&1; then
    cat "$V.configure.log" >&2
    fail "cmake configure with SMTPC_TLS_BACKEND=mbedtls"
fi
grep -q 'mbedtls=ON' "$V.configure.log" || { cat "$V.configure.log" >&2; fail "mbedTLS backend not selected"; }
if ! cmake --build "$V" -j 2 --target "${targets[@]}" >"$V.build.log" 2>&1; then
    tail -n 40 "$V.build.log" >&2
    fail "build of the mbedTLS variant"
fi
if grep -nE 'tls_(mbedtls|common)\.c.*warning' "$V.build.log" >&2; then
    fail "the mbedTLS backend (tls_mbedtls.c, tls_common.c) does not build warning-free"
fi
"$V/smtpc" --version | grep -q 'TLS: mbedtls' || fail "smtpc --version does not name mbedtls"

# ---- the unit test of the backend
if [ -x "$V/test_tls_openssl" ]; then
    step "test_tls_openssl against the mbedTLS backend"
    log=$V/test_tls_openssl.log
    "$V/test_tls_openssl" >"$log" 2>&1
    rc=$?
    cat "$log"
    if [ "$rc" != 0 ]; then
        # Accept exactly the backend-identity checks: the backend's name and
        # the protocol version (TLS 1.3) in smtpc_tls_info.
        other=$(grep '^FAIL ' "$log" | grep -v -e 'smtpc_tls_backend(), "openssl"' \
            -e '"TLSv1\.3' || true)
        nfail=$(sed -n 's/^[0-9]* passed, \([0-9]*\) failed$/\1/p' "$log")
        nlisted=$(grep -c '^FAIL ' "$log")
        [ -n "$nfail" ] || fail "test_tls_openssl crashed or did not finish (exit $rc)"
        [ -z "$other" ] || fail "test_tls_openssl: behavioural checks fail with mbedTLS"
        [ "$nfail" = "$nlisted" ] || fail "test_tls_openssl: $nfail failures, $nlisted listed"
        echo "   ($nfail backend-identity checks differ, as expected: name 'mbedtls', TLS 1.2)"
    fi
fi

if [ -x "$V/test_tls_resume" ]; then
    step "test_tls_resume (session resumption) with the mbedTLS backend"
    "$V/test_tls_resume" >"$V/test_tls_resume.log" 2>&1 || {
        tail -n 40 "$V/test_tls_resume.log" >&2
        fail "test_tls_resume with mbedTLS"
    }
    tail -n 1 "$V/test_tls_resume.log"
fi

if [ -x "$V/test_compat" ]; then
    step "test_compat (NetX Duo API, TLS extension) with the mbedTLS backend"
    "$V/test_compat" >"$V/test_compat.log" 2>&1 || {
        tail -n 40 "$V/test_compat.log" >&2
        fail "test_compat with mbedTLS"
    }
    tail -n 1 "$V/test_compat.log"
fi

# ---- the TLS integration tests, through the mbedTLS build of the CLI
ran=0
for t in "$SMTPC_ROOT"/tests/integration/4*_tls*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    step "$name with the mbedTLS build"
    SMTPC_BUILD=$V bash "$t" >"$V/$name.log" 2>&1
    rc=$?
    case $rc in
        0) ran=$((ran + 1)); tail -n 1 "$V/$name.log" ;;
        77) echo "   skipped: $(tail -n 1 "$V/$name.log")" ;;
        *) tail -n 40 "$V/$name.log" >&2; fail "$name with mbedTLS (exit $rc)" ;;
    esac
done
[ "$ran" -gt 0 ] || { echo "SKIP: no TLS integration test could run"; exit 77; }
echo "72_mbedtls OK ($ran TLS integration tests passed with mbedTLS)"
