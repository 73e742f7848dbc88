#!/usr/bin/env bash
# bench/compose_bench.sh [BUILD_DIR] [MB]: one mail with an MB (default
# 100) MiB attachment of random bytes sent to smtp-sink on loopback by
#   smtpc --attach (composing mode),
#   swaks --attach,
#   s-nail -a, with smtpc as its sendmail (mta=),
#   s-nail -a, with msmtp as its sendmail,
# each BENCH_REPS times (default 3); prints wall time, CPU time (user +
# system, of every process of the sender: what a shared machine's load
# disturbs least) and peak resident size (/usr/bin/time -v: for s-nail
# the larger of s-nail and the sendmail it runs), best of the runs.  The system's
# sendmail and msmtp configuration are not touched: s-nail is given
# mta=PROGRAM and msmtp a configuration file of its own.  smtp-sink keeps
# nothing (no -d), so the disk is not measured.  smtpc is BUILD_DIR's
# (default build/; a Release build gives the figures in BENCHMARKS.md).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
MB=${2:-100}
REPS=${BENCH_REPS:-3}
SMTPC=$BUILD/smtpc
[ -x "$SMTPC" ] || { echo "no $SMTPC" >&2; exit 1; }
for t in smtp-sink swaks s-nail msmtp /usr/bin/time; do
    command -v "$t" >/dev/null || { echo "missing $t (apt-get install postfix swaks s-nail msmtp time)" >&2; exit 1; }
done
W=$(mktemp -d)
chmod 755 "$W"
SINK=
cleanup() { [ -n "$SINK" ] && kill "$SINK" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

# A free loopback port for the sink.
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=()
[ "$(id -u)" = 0 ] && user=(-u nobody)
smtp-sink "${user[@]}" -c "127.0.0.1:$PORT" 256 >"$W/sink.log" 2>&1 &
SINK=$!
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done

head -c $((MB * 1024 * 1024)) /dev/urandom >"$W/big.bin"

# The sendmail programs s-nail runs.
cat >"$W/smtpc-sendmail" <<EOF
#!/bin/sh
exec "$SMTPC" --server 127.0.0.1:$PORT --tls none "\$@"
EOF
cat >"$W/msmtprc" <<EOF
account default
host 127.0.0.1
port $PORT
tls off
auth off
from a@example.com
EOF
chmod 600 "$W/msmtprc"
cat >"$W/msmtp-sendmail" <<EOF
#!/bin/sh
exec msmtp -C "$W/msmtprc" "\$@"
EOF
chmod 755 "$W/smtpc-sendmail" "$W/msmtp-sendmail"

run_smtpc() {
    "$SMTPC" --server "127.0.0.1:$PORT" --tls none --from a@example.com \
        --subject big --attach "$W/big.bin" b@example.org </dev/null
}
run_swaks() {
    swaks --server 127.0.0.1 --port "$PORT" --from a@example.com --to b@example.org \
        --header 'Subject: big' --attach-type application/octet-stream \
        --attach "@$W/big.bin" --silent 2
}
run_snail() { # MTA
    # s-nail reads no user or system configuration here (-:/).
    echo "see the attachment" | HOME=$W s-nail -:/ -Sv15-compat -Sttycharset=utf-8 \
        -Sfrom=a@example.com -Smta="$1" -Ssendcharsets=utf-8 \
        -s big -a "$W/big.bin" b@example.org
}

# measure NAME CMD...: best wall time and its peak RSS over REPS runs.
printf '%-34s %8s %8s %14s\n' "sender ($MB MiB attachment)" "wall s" "CPU s" "peak RSS KiB"
measure() {
    local name=$1 best_t= best_c= best_r= t c r
    shift
    for _ in $(seq 1 "$REPS"); do
        /usr/bin/time -v -o "$W/time" "$@" >"$W/out" 2>&1 ||
            { cat "$W/out" "$W/time" >&2; echo "$name failed" >&2; return 1; }
        t=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s }' "$W/time")
        r=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$W/time")
        c=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$W/time")
        if [ -z "$best_c" ] || awk -v a="$c" -v b="$best_c" 'BEGIN { exit !(a < b) }'; then
            best_c=$c
        fi
        if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN { exit !(a < b) }'; then
            best_t=$t
        fi
        if [ -z "$best_r" ] || [ "$r" -lt "$best_r" ]; then best_r=$r; fi
    done
    printf '%-34s %8s %8s %14s\n' "$name" "$best_t" "$best_c" "$best_r"
    [ -n "${BENCH_OUT:-}" ] && printf '{"bench":"compose","sender":"%s","mb":%s,"wall_s":%s,"cpu_s":%s,"peak_rss_kib":%s}\n' \
        "$name" "$MB" "$best_t" "$best_c" "$best_r" >>"$BENCH_OUT/compose.jsonl"
    return 0
}
export -f run_smtpc run_swaks run_snail
export SMTPC PORT W
measure "smtpc --attach" bash -c run_smtpc
measure "swaks --attach" bash -c run_swaks
measure "s-nail -a | smtpc (sendmail)" bash -c "run_snail $W/smtpc-sendmail"
measure "s-nail -a | msmtp (sendmail)" bash -c "run_snail $W/msmtp-sendmail"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
