#!/usr/bin/env bash
# fuzz/coverage.sh [CORPUS_ROOT]: how much of src/engine the fuzz corpora
# reach, as llvm-cov line, region and branch coverage per target and for
# the three together.
#
# Each target is built with source-based coverage (-fprofile-instr-generate
# -fcoverage-mapping, no sanitizers) and run once over its corpus:
# CORPUS_ROOT/<target>/ (default: the working corpora in $FUZZ_BUILD/corpus,
# build-fuzz/ by default) plus the committed seeds and the reproducers.
# Needs clang with libFuzzer and llvm-profdata / llvm-cov of the same
# version; prints the tables and exits 0, or says what is missing (exit 77).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FUZZ_BUILD:-$ROOT/build-fuzz}
CORPORA=${1:-$BUILD/corpus}
OUT=$BUILD/coverage
CC=${FUZZ_CC:-clang}
ver=$("$CC" --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
PROFDATA=$(command -v "llvm-profdata-$ver" || command -v llvm-profdata || true)
COV=$(command -v "llvm-cov-$ver" || command -v llvm-cov || true)
[ -n "$ver" ] && [ -n "$PROFDATA" ] && [ -n "$COV" ] ||
    { echo "coverage: needs clang, llvm-profdata and llvm-cov"; exit 77; }

mkdir -p "$OUT"
profiles=()
for t in fuzz_reply fuzz_engine fuzz_body; do
    exe=$OUT/$t
    "$CC" -g -O1 -std=c99 -fsanitize=fuzzer -fprofile-instr-generate \
        -fcoverage-mapping -I"$ROOT/include" "$ROOT/fuzz/$t.c" \
        "$ROOT"/src/engine/*.c -o "$exe" || { echo "coverage: $t: build failed"; exit 1; }
    dirs=()
    for d in "$CORPORA/$t" "$ROOT/fuzz/corpus/$t" "$ROOT/fuzz/regressions/$t"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    rm -f "$OUT/$t".*.profraw
    LLVM_PROFILE_FILE="$OUT/$t.%p.profraw" "$exe" -runs=0 "${dirs[@]}" \
        >"$OUT/$t.run.log" 2>&1
    "$PROFDATA" merge -sparse "$OUT/$t".*.profraw -o "$OUT/$t.profdata"
    profiles+=("$OUT/$t.profdata")
    n=$(grep -Eo 'INITED.*corp: [0-9]+' "$OUT/$t.run.log" | sed 's/.*corp: //')
    echo "== $t (${n:-?} inputs): src/engine"
    "$COV" report "$exe" -instr-profile="$OUT/$t.profdata" \
        "$ROOT"/src/engine/*.c | tail -n 1 | awk '{printf "   regions %s, functions %s, lines %s, branches %s\n", $4, $7, $10, $13}'
done
"$PROFDATA" merge -sparse "${profiles[@]}" -o "$OUT/all.profdata"
echo "== all three targets together: src/engine, per file"
"$COV" report "$OUT/fuzz_engine" -object "$OUT/fuzz_reply" -object "$OUT/fuzz_body" \
    -instr-profile="$OUT/all.profdata" "$ROOT"/src/engine/*.c
echo "(uncovered lines: $COV show $OUT/fuzz_engine -object $OUT/fuzz_reply" \
     "-object $OUT/fuzz_body -instr-profile=$OUT/all.profdata src/engine/FILE.c)"
