#!/usr/bin/env bash
# bench/mime_bench.sh [BUILD_DIR] [BYTES]: the MIME writer's encoders
# (bench/mime_bench.c) beside coreutils base64 and Python's base64 and
# quoted-printable encoders, on the same input in the same run; prints
# MB/s of input for each and the ratios.
#
# Times are CPU time (user + system) of the process or of the timed call,
# best of BENCH_REPS (default 5): on a shared machine wall time measures
# the neighbours.  The library is linked as built in BUILD_DIR (default
# build/, as `make` leaves it: -O2).  Writes the figures as JSON lines to
# $BENCH_OUT/mime.jsonl when BENCH_OUT is set.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
BYTES=${2:-64M}
REPS=${BENCH_REPS:-5}
PY=/usr/bin/python3
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

cc -O2 -I"$ROOT/include" -I"$ROOT/cli" "$ROOT/bench/mime_bench.c" \
    "$ROOT/cli/bench_text.c" "$BUILD/libsmtpc.a" -o "$W/mime_bench"
"$W/mime_bench" --bytes "$BYTES" --repeat "$REPS" --write-inputs "$W" >"$W/smtpc.jsonl"
n=$(stat -c %s "$W/binary")

# coreutils: base64 -w 76 (76-character lines like MIME), CPU time.
best=
for _ in $(seq 1 "$REPS"); do
    t=$( { /usr/bin/time -f '%U %S' base64 -w 76 "$W/binary" >/dev/null; } 2>&1 | awk '{print $1 + $2}')
    best=$(awk -v a="$t" -v b="${best:-1e9}" 'BEGIN { print (a < b) ? a : b }')
done
coreutils=$(awk -v n="$n" -v t="$best" 'BEGIN { printf "%.1f", (t > 0) ? n / t / 1e6 : 0 }')

# Python: base64.encodebytes (76-character lines) and quopri/binascii QP.
"$PY" - "$W/binary" "$W/text" "$REPS" >"$W/python.txt" <<'PYEOF'
import base64, binascii, sys, time
binary = open(sys.argv[1], "rb").read()
text = open(sys.argv[2], "rb").read()
reps = int(sys.argv[3])
def best(f, data):
    b = 1e9
    for _ in range(reps):
        t0 = time.process_time(); f(data); b = min(b, time.process_time() - t0)
    return len(data) / b / 1e6
print("python-base64 %.1f" % best(base64.encodebytes, binary))
print("python-qp %.1f" % best(lambda d: binascii.b2a_qp(d), text))
PYEOF
pyb64=$(awk '$1 == "python-base64" { print $2 }' "$W/python.txt")
pyqp=$(awk '$1 == "python-qp" { print $2 }' "$W/python.txt")
get() { sed -n 's/.*"variant":"'"$1"'".*"mb_per_s":\([0-9.]*\).*/\1/p' "$W/smtpc.jsonl"; }
b64=$(get base64); b64cb=$(get base64-cb); lines=$(get base64-lines); qp=$(get qp); qpcb=$(get qp-cb); mc=$(get memcpy)

echo "input: $n bytes; CPU time, best of $REPS"
printf '%-44s %10s\n' "encoder" "MB/s"
printf '%-44s %10s\n' "smtpc_base64_encode, 57-byte lines" "$lines"
printf '%-44s %10s\n' "MIME writer, base64 (buffer)" "$b64"
printf '%-44s %10s\n' "MIME writer, base64 (callback, 64 KiB)" "$b64cb"
printf '%-44s %10s\n' "coreutils base64 -w 76 (file -> /dev/null)" "$coreutils"
printf '%-44s %10s\n' "Python base64.encodebytes" "$pyb64"
printf '%-44s %10s\n' "MIME writer, QP (text buffer, size counted)" "$qp"
printf '%-44s %10s\n' "MIME writer, QP (text callback)" "$qpcb"
printf '%-44s %10s\n' "Python binascii.b2a_qp (text)" "$pyqp"
printf '%-44s %10s\n' "memcpy (ceiling)" "$mc"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0) ? a / b : 0 }'; }
echo "ratios: writer base64 / coreutils $(ratio "$b64" "$coreutils"), / Python $(ratio "$b64" "$pyb64");" \
     "writer QP / Python $(ratio "$qp" "$pyqp") (callback: $(ratio "$qpcb" "$pyqp"))"
if [ -n "${BENCH_OUT:-}" ]; then
    mkdir -p "$BENCH_OUT"
    { cat "$W/smtpc.jsonl"
      printf '{"variant":"coreutils-base64","mb_per_s":%s}\n' "$coreutils"
      printf '{"variant":"python-base64","mb_per_s":%s}\n' "$pyb64"
      printf '{"variant":"python-qp","mb_per_s":%s}\n' "$pyqp"; } >"$BENCH_OUT/mime.jsonl"
fi
