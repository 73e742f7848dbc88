#!/usr/bin/env bash
# Leaks and memory errors under valgrind: every unit test, and smtpc
# sessions against the hostile server (a good session, with AUTH, CRAM-MD5,
# BDAT, a big body; and failures: malformed, over-long and endless replies,
# a close, a reset, a timeout, a refused AUTH) -- the failure paths are
# where a leak or a use-after-free would hide.  Any definite or indirect
# leak, invalid read or write, or use of uninitialised memory fails the
# test (valgrind --error-exitcode=99).
#
# valgrind cannot run a sanitizer build: when $SMTPC_BUILD was built with
# SMTPC_SANITIZE=ON (make check), a plain Debug build of the same tree is
# made in $SMTPC_BUILD/valgrind/ first.  Skips (77) without valgrind or
# cmake.  (`make check` also runs everything under LeakSanitizer.)
set -uo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"
PY=${HARNESS_PY:-/usr/bin/python3}

command -v valgrind >/dev/null || { echo "valgrind not installed: skipping"; exit 77; }

B=$SMTPC_BUILD
if [ ! -x "$B/smtpc" ] || grep -q '^SMTPC_SANITIZE:BOOL=ON' "$B/CMakeCache.txt" 2>/dev/null; then
    command -v cmake >/dev/null || { echo "no cmake for a plain build: skipping"; exit 77; }
    B=$SMTPC_BUILD/valgrind
    echo "== plain Debug build for valgrind in $B"
    cmake -S "$SMTPC_ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Debug -DSMTPC_SANITIZE=OFF \
        -DSMTPC_BUILD_EXAMPLES=OFF >"$B.configure.log" 2>&1 &&
        cmake --build "$B" -j "$(nproc 2>/dev/null || echo 2)" >"$B.build.log" 2>&1 || {
        tail -n 30 "$B.configure.log" "$B.build.log" 2>/dev/null
        echo "FAIL: the plain build failed"
        exit 1
    }
fi

VG=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --track-origins=yes --error-exitcode=99)
failed=0

echo "== unit tests under valgrind"
for t in "$B"/test_*; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    name=$(basename "$t")
    log=$(mktemp)
    "${VG[@]}" "$t" >"$log" 2>&1
    rc=$?
    case $rc in
        0) echo "ok    $name" ;;
        99) echo "FAIL  $name: valgrind found errors"
            grep -E '^==[0-9]+==' "$log" | head -n 60
            failed=1 ;;
        *) # The test's own failure is reported by its own run (tests/run.sh);
           # here only memory errors count.
           if grep -qE '^==[0-9]+== (Invalid|Conditional|Use of|Mismatched|.*definitely lost|.*indirectly lost)' "$log"; then
               echo "FAIL  $name: valgrind found errors (exit $rc)"
               grep -E '^==[0-9]+==' "$log" | head -n 60
               failed=1
           else
               echo "note  $name: exit $rc without a valgrind error (its own failure)"
           fi ;;
    esac
    rm -f "$log"
done

echo "== smtpc sessions under valgrind"
if [ ! -x "$B/smtpc" ]; then
    echo "no smtpc in $B: sessions skipped"
elif ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 9))'; then
    echo "$PY missing or too old: sessions skipped"
else
    OUT=$(mktemp -d "${TMPDIR:-/tmp}/smtpc-vg.XXXXXX")
    trap 'rm -rf "$OUT"' EXIT
    names=baseline-plain,baseline-auth-login,baseline-auth-plain
    names+=,auth-cram-binary-challenge,auth-cram-invalid-base64,auth-refused-535
    names+=,auth-challenge-huge,bdat-success,bdat-refused,memory-big-body
    names+=,malformed-greeting-five-digits,mixed-ehlo-250-550,line-huge-greeting
    names+=,continuation-endless-ehlo,close-at-rcpt,reset-mid-body
    names+=,stall-at-data,close-at-quit,legal-8bit-escapes,refused-with-escapes
    names+=,reply-421-at-mail,split-every-reply-bytewise
    # The wrapper's exit 99 shows up as a wrong exit status of the scenario.
    if ! "$PY" "$SMTPC_ROOT/tests/hostile/scenarios.py" --smtpc "$B/smtpc" \
            --out "$OUT" --jobs 2 --slack 20 --names "$names" \
            --wrap "${VG[*]}"; then
        for f in "$OUT"/*.result; do
            grep -q "errors \[\]" "$f" || { echo "--- $f"; cat "$f"; }
        done
        failed=1
    fi
fi
exit $failed
