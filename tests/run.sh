#!/usr/bin/env bash
# tests/run.sh [BUILD_DIR] [PATTERN...]: run smtpc's tests, one at a time.
#
#   unit tests         every executable BUILD_DIR/test_*
#   integration tests  every tests/integration/*.sh (run with bash)
#
# Each test runs in its own session with SMTPC_BUILD=BUILD_DIR (absolute),
# SMTPC_ROOT=<repo root>, SMTPC_CONFIG= (no configuration file), stdin
# from /dev/null, its output in BUILD_DIR/test-logs/<name>.log, and a time
# limit (SMTPC_TEST_TIMEOUT seconds, default 600).  Exit status 0 = pass,
# 77 = skip, anything else = fail; a test that leaves processes running
# fails too.  PATTERNs (shell globs on the test name, e.g. 'test_engine*' or
# '00_*') select tests.
#
# Prints "PASS name" / "FAIL name" (followed by the last 40 lines of its log)
# / "SKIP name", then "N passed, N failed[, N skipped]"; exits 1 if a test
# failed or none ran.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
[ $# -gt 0 ] && shift
if [ ! -d "$BUILD" ]; then
    echo "run.sh: no build directory $BUILD" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
BUILD=$(cd "$BUILD" && pwd)
LOGS=$BUILD/test-logs
mkdir -p "$LOGS"
TIMEOUT=${SMTPC_TEST_TIMEOUT:-600}

export SMTPC_BUILD=$BUILD SMTPC_ROOT=$ROOT
# No configuration file of the user's or the system's (smtpc(1), FILES) may
# change what a test runs; 24_cli_config sets its own.
export SMTPC_CONFIG=
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0 skipped=0

selected() {
    [ $# -gt 1 ] || return 0
    local name=$1 p
    shift
    for p in "$@"; do
        # shellcheck disable=SC2053
        [[ $name == $p ]] && return 0
    done
    return 1
}

# Kill what is left of a test: its process group, and any private Postfix
# instance its harness registered (Postfix's master starts its own session).
reap() {
    local pgid=$1 registry=$2 left=0 dir e pid
    if [ -n "$pgid" ] && kill -0 -- "-$pgid" 2>/dev/null; then
        left=1
        kill -TERM -- "-$pgid" 2>/dev/null
        sleep 1
        kill -KILL -- "-$pgid" 2>/dev/null
    fi
    if [ -s "$registry" ]; then
        while read -r dir; do
            [ -n "$dir" ] || continue
            for e in /proc/[0-9]*/environ; do
                pid=${e#/proc/}
                pid=${pid%/environ}
                if tr '\0' '\n' 2>/dev/null <"$e" | grep -q "^MAIL_CONFIG=$dir/"; then
                    left=1
                    kill -KILL "$pid" 2>/dev/null
                fi
            done
            rm -rf "$dir"
        done <"$registry"
    fi
    rm -f "$registry"
    return "$left"
}

run_one() {   # run_one NAME COMMAND...
    local name=$1
    shift
    local log=$LOGS/$name.log registry=$LOGS/$name.harness pidfile=$LOGS/$name.pid
    local status pgid
    rm -f "$registry" "$pidfile"
    # timeout sends TERM (then KILL) to the test only, which for a harness
    # script runs its EXIT trap; setsid gives the test its own process group
    # so that reap can find what it left behind.
    # (The outer subshell catches bash's "Killed" notice into the log.)
    (
        (
            cd "$ROOT" || exit 1
            export HARNESS_REGISTRY=$registry
            exec timeout -v -k 10 "$TIMEOUT" setsid -w \
                bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@"
        )
        exit $?
    ) </dev/null >"$log" 2>&1
    status=$?
    pgid=$(cat "$pidfile" 2>/dev/null)
    rm -f "$pidfile"
    if ! reap "${pgid:-}" "$registry"; then
        echo "run.sh: the test left processes running (killed)" >>"$log"
        [ "$status" = 0 ] && status=1
    fi
    case "$status" in
        0) echo "PASS $name"; passed=$((passed + 1)) ;;
        77) echo "SKIP $name"; skipped=$((skipped + 1)) ;;
        *)
            echo "FAIL $name (exit $status, log: $log)"
            tail -n 40 "$log" | sed 's/^/    /'
            failed=$((failed + 1))
            ;;
    esac
}

for exe in "$BUILD"/test_*; do
    [ -f "$exe" ] && [ -x "$exe" ] || continue
    name=$(basename "$exe")
    selected "$name" "$@" || continue
    run_one "$name" "$exe"
done

for script in "$ROOT"/tests/integration/*.sh; do
    [ -f "$script" ] || continue
    name=$(basename "$script" .sh)
    selected "$name" "$@" || continue
    run_one "$name" bash "$script"
done

summary="$passed passed, $failed failed"
[ "$skipped" = 0 ] || summary="$summary, $skipped skipped"
echo "$summary"
if [ "$failed" != 0 ]; then
    exit 1
fi
if [ $((passed + failed)) = 0 ]; then
    echo "run.sh: no test ran" >&2
    exit 1
fi
exit 0
