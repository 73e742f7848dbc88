#!/usr/bin/env bash
# A long crash run of the queue, by hand (make check runs the short,
# deterministic one: tests/integration/26_cli_queue_mta.sh).  ROUNDS times,
# MSGS messages are queued with the server away, then flushed against a
# private Postfix while each flush is killed with SIGKILL after a random
# 0-400 ms: alternately the flush alone, and the flush with the smtpc it
# runs.  At the end it counts, per message, the copies Postfix delivered:
# lost (0 copies) must be 0; duplicated (2 or more) is what the kills
# between the server's acceptance and the entry's removal cost.
#
#   sudo SMTPC=build/smtpc ROUNDS=20 MSGS=20 tests/tools/queue_kill_run.sh
set -uo pipefail
. "$(dirname "$0")/../servers/lib.sh"
ROUNDS=${ROUNDS:-10} MSGS=${MSGS:-20}
W=$(harness_tmpdir kill-run)
start_mta "$W/mta" || exit 1
UP=$(harness_hostport "$MTA_PORT")
Q=$W/q
export SMTPC_CONFIG=$W/c.conf
conf() { printf '%s\n' "server $1" 'tls none' "queue $Q" >"$SMTPC_CONFIG"; chmod 600 "$SMTPC_CONFIG"; }
kills=0 total=0
for r in $(seq 1 "$ROUNDS"); do
    conf 127.0.0.1:1
    for i in $(seq 1 "$MSGS"); do
        printf 'Subject: long-%s-%s\n\nx\n' "$r" "$i" |
            "$SMTPC" -f a@example.com "r$i@example.com" 2>/dev/null || echo "queueing failed"
        total=$((total + 1))
    done
    conf "$UP"
    while [ -n "$(ls "$Q/new")" ]; do
        setsid "$SMTPC" --flush-all >/dev/null 2>&1 &
        pid=$!
        sleep "0.$(printf '%03d' $((RANDOM % 400)))"
        if kill -0 "$pid" 2>/dev/null; then
            if [ $((kills % 2)) = 0 ]; then kill -9 "$pid"; else kill -9 -- "-$pid"; fi
            kills=$((kills + 1))
        fi
        wait "$pid" 2>/dev/null
        # An smtpc left running by a flush killed alone finishes first.
        while pgrep -g "$pid" >/dev/null; do sleep 0.05; done
    done
done
for i in $(seq 1 200); do
    postqueue -c "$MTA_CONFIG" -p | grep -q 'Mail queue is empty' && break
    sleep 0.1
done
lost=0 dups=0 extra=0
for r in $(seq 1 "$ROUNDS"); do
    for i in $(seq 1 "$MSGS"); do
        n=$(grep -lx "Subject: long-$r-$i" "$MTA_MAILDIR"/new/* 2>/dev/null | wc -l)
        [ "$n" = 0 ] && lost=$((lost + 1))
        [ "$n" -gt 1 ] && dups=$((dups + 1)) && extra=$((extra + n - 1))
    done
done
echo "messages $total, kills $kills, lost $lost, duplicated $dups (extra copies $extra)"
[ "$lost" = 0 ]
