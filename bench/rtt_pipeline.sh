#!/usr/bin/env bash
# bench/rtt_pipeline.sh: round trips per message of two smtpc builds, side
# by side, through bench/delay_proxy.py.
#
#   bench/rtt_pipeline.sh BEFORE_BUILD AFTER_BUILD
#
# Each BUILD is a build directory holding smtpc-bench and smtpc.  Starts on
# loopback: Postfix's smtp-sink (PIPELINING, DATA only) and, as root, a
# private Postfix smtpd (PIPELINING + CHUNKING; tests/servers/lib.sh
# start_mta, mail discarded once queued), a delay proxy in front of each
# (RTT_DELAY_MS each way, default 50), and measures with each build:
#   newconn   one message per new connection: smtpc-bench --per-connection 1
#             (its elapsed time), and the smtpc command, one process per
#             message (wall time)
#   reuse     RTT_REUSE_N (100) messages on one connection (smtpc-bench)
#   rate      messages per second on one connection with DATA, to smtp-sink
#             on loopback without the proxy (RTT_RATE_N messages, 20000)
# Round trips are in units of the NOOP round trip bench/rtt_probe.py
# measures through the same proxy.  Prints a Markdown table; the raw JSON
# lines go to stderr.  Bounded: about 2 minutes.
set -euo pipefail

BEFORE=${1:?usage: rtt_pipeline.sh BEFORE_BUILD AFTER_BUILD}
AFTER=${2:?usage: rtt_pipeline.sh BEFORE_BUILD AFTER_BUILD}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DELAY_MS=${RTT_DELAY_MS:-50}
NEW_N=${RTT_NEW_N:-10}
REUSE_N=${RTT_REUSE_N:-100}
RATE_N=${RTT_RATE_N:-20000}
export SMTPC_ROOT=$ROOT
. "$ROOT/tests/servers/lib.sh"
W=$(harness_tmpdir rtt)

proxy() {   # proxy TARGET_PORT -> PROXY_PORT
    local pf=$W/proxy.$1 pid
    "$PY" "$ROOT/bench/delay_proxy.py" --target "127.0.0.1:$1" \
        --delay-ms "$DELAY_MS" --port-file "$pf" >/dev/null 2>&1 &
    pid=$!
    harness_on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null || true"
    for _ in $(seq 1 100); do
        [ -s "$pf" ] && { PROXY_PORT=$(cat "$pf"); return 0; }
        sleep 0.1
    done
    return 1
}

_harness_pick_port; sink_port=$_HARNESS_PORT
user=()
[ "$(id -u)" = 0 ] && user=(-u nobody)
smtp-sink "${user[@]}" "127.0.0.1:$sink_port" 1024 </dev/null >"$W/sink.log" 2>&1 &
sink_pid=$!
harness_on_exit "kill $sink_pid 2>/dev/null; wait $sink_pid 2>/dev/null || true"
_harness_wait_listen "$sink_port" "$sink_pid" || { echo "smtp-sink did not start" >&2; exit 1; }

servers="sink:$sink_port"
if start_mta "$W/mta" in_flow_delay=0 'virtual_transport=discard:bench' \
        message_size_limit=0 smtpd_client_connection_count_limit=0 \
        smtpd_client_connection_rate_limit=0 >"$W/mta.log" 2>&1; then
    servers="$servers postfix:$MTA_PORT"
fi

"$AFTER/smtpc-bench" --print-message --size 1024 >"$W/msg.eml"

# seconds of wall time of a command
wall() {
    local t0 t1
    t0=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    t1=$EPOCHREALTIME
    "$PY" -c "print($t1 - $t0)"
}

cli_seq() {   # cli_seq BUILD PORT N
    local i
    for i in $(seq 1 "$3"); do
        "$1/smtpc" --server "127.0.0.1:$2" --tls none --from bench@example.com \
            sink@example.net <"$W/msg.eml" || return 1
    done
}

json_field() { "$PY" -c "import json,sys; print(json.loads(sys.argv[1])$2)" "$1"; }

echo "| server | scenario | build | seconds | messages | RTT per message |"
echo "|---|---|---|---:|---:|---:|"
for sv in $servers; do
    name=${sv%%:*} port=${sv#*:}
    proxy "$port"
    pp=$PROXY_PORT
    rtt=$(json_field "$("$PY" "$ROOT/bench/rtt_probe.py" "127.0.0.1:$pp" 20)" '["rtt_ms"]')
    echo "$name: rtt_ms $rtt" >&2
    for b in before:$BEFORE after:$AFTER; do
        tag=${b%%:*} dir=${b#*:}
        j=$("$dir/smtpc-bench" --server "127.0.0.1:$pp" --messages "$NEW_N" \
            --per-connection 1 --json-only)
        echo "$name newconn-bench $tag $j" >&2
        s=$(json_field "$j" '["seconds"]')
        "$PY" -c "import sys; s,n,r=map(float,sys.argv[1:]); print('| %s | new connection, smtpc-bench | %s | %.3f | %d | %.2f |' % ('$name','$tag',s,n,s*1000/n/r))" "$s" "$NEW_N" "$rtt"
        s=$(wall cli_seq "$dir" "$pp" "$NEW_N")
        "$PY" -c "import sys; s,n,r=map(float,sys.argv[1:]); print('| %s | new connection, smtpc command | %s | %.3f | %d | %.2f |' % ('$name','$tag',s,n,s*1000/n/r))" "$s" "$NEW_N" "$rtt"
        j=$("$dir/smtpc-bench" --server "127.0.0.1:$pp" --messages "$REUSE_N" --json-only)
        echo "$name reuse $tag $j" >&2
        s=$(json_field "$j" '["seconds"]')
        "$PY" -c "import sys; s,n,r=map(float,sys.argv[1:]); print('| %s | %d on one connection | %s | %.3f | %d | %.2f |' % ('$name',n,'$tag',s,n,s*1000/n/r))" "$s" "$REUSE_N" "$rtt"
    done
done
echo
echo "| rate, one connection, DATA, smtp-sink on loopback | build | messages/s |"
echo "|---|---|---:|"
for b in before:$BEFORE after:$AFTER; do
    tag=${b%%:*} dir=${b#*:}
    j=$("$dir/smtpc-bench" --server "127.0.0.1:$sink_port" --messages "$RATE_N" --json-only)
    echo "rate $tag $j" >&2
    echo "| $RATE_N messages of 1 KiB | $tag | $(json_field "$j" '["messages_per_second"]') |"
done
