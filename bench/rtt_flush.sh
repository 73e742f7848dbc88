#!/usr/bin/env bash
# bench/rtt_flush.sh: round trips per message of `smtpc --flush-queue` and
# of `smtpc --batch`.
#
#   bench/rtt_flush.sh [BUILD] [N] [flush|batch]
#
# flush (the default): queues N (default 10) messages with --queue while
# the configured server is away (nothing listens on port 1), then points
# the configuration at Postfix's smtp-sink (PIPELINING, DATA; lib.sh
# start_sink) behind bench/delay_proxy.py (RTT_DELAY_MS each way, default
# 50) and flushes them all (--flush-all).  batch: writes the N messages
# into a directory and sends it with --batch through the same proxy.
# Prints one JSON line: the connections the proxy saw, the turns (the
# client's waits for the server, see delay_proxy.py) in all and per
# message, and the run's wall time per message in probe round trips.
# Loopback only; about N seconds.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
N=${2:-10}
MODE=${3:-flush}
case $MODE in flush|batch) ;; *) echo "rtt_flush.sh: mode flush or batch, not $MODE" >&2; exit 2 ;; esac
DELAY_MS=${RTT_DELAY_MS:-50}
export SMTPC_ROOT=$ROOT
. "$ROOT/tests/servers/lib.sh"
W=$(harness_tmpdir rttflush)
PY=/usr/bin/python3

start_sink "$W/sink" || { echo "smtp-sink did not start" >&2; exit 1; }
sink_port=$SINK_PORT

"$PY" "$ROOT/bench/delay_proxy.py" --target "127.0.0.1:$sink_port" --delay-ms "$DELAY_MS" \
    --port-file "$W/pp" --stats "$W/stats" >/dev/null 2>&1 &
proxy_pid=$!
harness_on_exit "kill $proxy_pid 2>/dev/null; wait $proxy_pid 2>/dev/null || true"
for _ in $(seq 1 100); do [ -s "$W/pp" ] && break; sleep 0.1; done
pp=$(cat "$W/pp")
rtt=$("$PY" "$ROOT/bench/rtt_probe.py" "127.0.0.1:$pp" 10 |
      "$PY" -c 'import json,sys; print(json.load(sys.stdin)["rtt_ms"])')
for _ in $(seq 1 50); do [ -s "$W/stats" ] && break; sleep 0.1; done
n0=$(wc -l <"$W/stats")

message() {
    printf 'From: bench@example.com\nTo: sink@example.net\nSubject: %s %d\n\nbody %d\n' \
        "$MODE" "$1" "$1"
}
if [ "$MODE" = flush ]; then
    printf 'server 127.0.0.1:1\ntls none\n' >"$W/conf"
    for i in $(seq 1 "$N"); do
        message "$i" | "$BUILD/smtpc" -C "$W/conf" --queue "$W/q" -t 2>/dev/null
    done
    sed -i "s/^server .*/server 127.0.0.1:$pp/" "$W/conf"
    run=(--queue "$W/q" --flush-all)
else
    printf 'server 127.0.0.1:%s\ntls none\n' "$pp" >"$W/conf"
    mkdir "$W/b"
    for i in $(seq 1 "$N"); do message "$i" >"$W/b/$(printf %04d "$i")"; done
    run=(--batch "$W/b")
fi
t0=$EPOCHREALTIME
"$BUILD/smtpc" -C "$W/conf" "${run[@]}" 2>"$W/run.err" || {
    cat "$W/run.err" >&2
    exit 1
}
t1=$EPOCHREALTIME
for _ in $(seq 1 100); do
    [ "$(wc -l <"$W/stats")" -ge $((n0 + 1)) ] && break
    sleep 0.1
done
sleep 0.5
tail -n +$((n0 + 1)) "$W/stats" | "$PY" -c '
import json, sys
n, rtt, t0, t1 = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rows = [json.loads(l) for l in sys.stdin if l.strip()]
t = sum(r["turns"] for r in rows)
print(json.dumps({"messages": n, "connections": len(rows), "turns": t,
                  "turns_per_message": round(t / n, 2),
                  "wall_rtts_per_message": round((t1 - t0) * 1000 / n / rtt, 2),
                  "rtt_ms": rtt}))
' "$N" "$rtt" "$t0" "$t1"
grep -q " $N sent" "$W/run.err" || { cat "$W/run.err" >&2; exit 1; }
