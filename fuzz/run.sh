#!/usr/bin/env bash
# fuzz/run.sh SECONDS [TARGET...]: build the libFuzzer targets and run each
# for SECONDS, one after the other (default targets: fuzz_reply fuzz_engine
# fuzz_body fuzz_engine_minimal fuzz_mime_enc fuzz_mime_enc_lean
# fuzz_mime_hdr).
#
#   make fuzz      runs each for FUZZ_SECONDS (default 600)
#   make check     runs each briefly (FUZZ_CHECK_SECONDS, default 30)
#
# Each target is clang -fsanitize=fuzzer,address,undefined over the engine
# sources (src/engine/*.c; the fuzz_mime_* targets add src/mime/*.c) and
# fuzz/<target>.c, built in $FUZZ_BUILD (default build-fuzz/).
# TARGET_minimal is fuzz/TARGET.c over the engine built with
# -DSMTPC_PROFILE_MINIMAL=1: the folded build, whose code differs wherever
# a feature switch folds it; TARGET_lean the same with the lean MIME
# writer (-DSMTPC_WITH_MIME=1 -DSMTPC_MIME_LEAN=1), as a firmware that mails
# attachments builds it.  Both start from TARGET's seeds.  Before
# fuzzing, every reproducer under fuzz/regressions/<target>/ is replayed
# and must pass.  The run starts
# from the committed seeds (fuzz/corpus/<target>/, read-only) and a working
# corpus in $FUZZ_BUILD/corpus/<target>/ that grows from run to run, with
# fuzz/smtp.dict.  A crash leaves its input in $FUZZ_BUILD/artifacts/ and
# fails the run (exit 1); copy it to fuzz/regressions/<target>/ once
# understood.  Figures (executions, cov, ft) go to stdout and are appended
# to $FUZZ_BUILD/stats.log.
#
# Without clang or its libFuzzer runtime (Debian: clang, libclang-rt-14-dev,
# both in scripts/deps.sh) the run is skipped with a message and exit 0,
# unless FUZZ_REQUIRE=1 (then exit 1).  FUZZ_NICE (default 19) is the nice
# level: the fuzzers share the machine.  FUZZ_JOBS>1 runs that many
# libFuzzer workers per target (-fork).  FUZZ_RUNS=N stops each target
# after N executions (SECONDS still bounds the time).  fuzz/<target>.options,
# when present, holds more libFuzzer flags for that target (one line, e.g.
# -max_len=4100: the target's own input cap, so libFuzzer never grows
# inputs the harness throws away).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${1:-30}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(fuzz_reply fuzz_engine fuzz_body fuzz_engine_minimal
                                     fuzz_mime_enc fuzz_mime_enc_lean fuzz_mime_hdr)
BUILD=${FUZZ_BUILD:-$ROOT/build-fuzz}
CC=${FUZZ_CC:-}
NICE=${FUZZ_NICE:-19}
JOBS=${FUZZ_JOBS:-1}

case "$SECONDS_EACH" in
    ''|*[!0-9]*) echo "usage: fuzz/run.sh SECONDS [TARGET...]" >&2; exit 2 ;;
esac

skip() {
    echo "fuzz: skipped: $*"
    if [ "${FUZZ_REQUIRE:-0}" = 1 ]; then exit 1; fi
    exit 0
}

if [ -z "$CC" ]; then
    for c in clang clang-14 clang-15 clang-16; do
        if command -v "$c" >/dev/null 2>&1; then CC=$c; break; fi
    done
fi
[ -n "$CC" ] || skip "no clang (install clang and libclang-rt-14-dev: scripts/deps.sh)"

mkdir -p "$BUILD/artifacts" "$BUILD/corpus"
# The harness (fuzz/*.c) is left out of the coverage instrumentation, so
# libFuzzer's cov/ft count the engine's edges only.
FLAGS=(-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=all -std=c99 -Wall -Wextra -I"$ROOT/include"
       -fsanitize-coverage-ignorelist="$ROOT/fuzz/coverage-ignore.txt")
# FUZZ_CFLAGS: more flags, e.g. -DFZ_ABANDON_PARTIAL_BODY=0 (fuzz_engine.c).
# shellcheck disable=SC2206
FLAGS+=(${FUZZ_CFLAGS:-})

# Does this clang link libFuzzer at all?
probe=$BUILD/probe
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe.c"
if ! "$CC" "${FLAGS[@]}" "$probe.c" -o "$probe" >"$probe.log" 2>&1; then
    sed 's/^/  /' "$probe.log"
    skip "$CC cannot build a libFuzzer target (install libclang-rt-14-dev: scripts/deps.sh)"
fi

# The harness a target runs: TARGET without its _minimal or _lean.
harness() {
    local b=${1%_minimal}
    echo "${b%_lean}"
}

build_target() {  # build_target TARGET EXE
    local defs=() srcs=("$ROOT"/src/engine/*.c)
    case $1 in
        *_minimal) defs=(-DSMTPC_PROFILE_MINIMAL=1) ;;
        *_lean) defs=(-DSMTPC_PROFILE_MINIMAL=1 -DSMTPC_WITH_MIME=1 -DSMTPC_MIME_LEAN=1) ;;
    esac
    [[ $1 == fuzz_mime* ]] && srcs+=("$ROOT"/src/mime/*.c)
    nice -n "$NICE" "$CC" "${FLAGS[@]}" "${defs[@]}" \
        "$ROOT/fuzz/$(harness "$1").c" "${srcs[@]}" -o "$2"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
for t in "${TARGETS[@]}"; do
    src=$ROOT/fuzz/$(harness "$t").c
    [ -f "$src" ] || { echo "fuzz: no $src" >&2; failed=1; continue; }
    exe=$BUILD/$t
    if ! build_target "$t" "$exe" >"$BUILD/$t.build.log" 2>&1; then
        cat "$BUILD/$t.build.log" >&2
        echo "fuzz: $t: build failed" >&2
        failed=1
        continue
    fi
    # Known reproducers first: each must now pass.
    regs=()
    if [ -d "$ROOT/fuzz/regressions/$t" ]; then
        while IFS= read -r -d '' f; do regs+=("$f"); done < \
            <(find "$ROOT/fuzz/regressions/$t" -type f ! -name '*.txt' ! -name '*.md' -print0)
    fi
    if [ ${#regs[@]} -gt 0 ]; then
        if ! "$exe" -runs=1 "${regs[@]}" >"$BUILD/$t.regressions.log" 2>&1; then
            tail -n 30 "$BUILD/$t.regressions.log" >&2
            echo "fuzz: $t: a reproducer under fuzz/regressions/$t fails" >&2
            failed=1
            continue
        fi
        echo "fuzz: $t: ${#regs[@]} reproducer(s) pass"
    fi
    [ "$SECONDS_EACH" -gt 0 ] || continue
    corpus=$BUILD/corpus/$t
    mkdir -p "$corpus"
    log=$BUILD/$t.log
    extra=()
    [ "$JOBS" -gt 1 ] && extra+=(-fork="$JOBS" -ignore_crashes=0)
    [ -n "${FUZZ_RUNS:-}" ] && extra+=(-runs="$FUZZ_RUNS")
    opts=$ROOT/fuzz/$(harness "$t").options
    # shellcheck disable=SC2207
    [ -f "$opts" ] && extra+=($(grep -v '^#' "$opts"))
    t0=$(date +%s)
    nice -n "$NICE" "$exe" -max_total_time="$SECONDS_EACH" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -dict="$ROOT/fuzz/smtp.dict" -artifact_prefix="$BUILD/artifacts/$t-" \
        "${extra[@]}" "$corpus" "$ROOT/fuzz/corpus/$(harness "$t")" >"$log" 2>&1
    rc=$?
    took=$(( $(date +%s) - t0 ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    last=$(grep -E '(pulse|NEW|REDUCE|DONE|INITED).*cov: ' "$log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    if [ -z "$execs" ]; then
        # -fork mode prints no stats: the last status line has the count.
        execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
    fi
    units=$(find "$corpus" -type f | wc -l)
    line="$t: ${execs:-?} executions in $took s, cov ${cov:-?}, ft ${ft:-?}, corpus $units"
    echo "$(date -u +%FT%TZ) $line rc=$rc" >>"$BUILD/stats.log"
    if [ "$rc" != 0 ]; then
        grep -E 'invariant broken|ERROR: |SUMMARY: |runtime error' "$log" | head -n 10 >&2
        echo "fuzz: $t: FAILED (exit $rc); input saved as:" >&2
        ls -t "$BUILD/artifacts/$t-"* 2>/dev/null | head -n 3 >&2
        echo "fuzz: full log: $log" >&2
        failed=1
    else
        echo "fuzz: $line"
    fi
done
exit "$failed"
