#!/usr/bin/env bash
# bench/tls_resume_cli.sh [OUT_DIR]: what TLS session resumption saves the
# programs, one message per new connection with STARTTLS:
#   - smtpc-bench --per-connection 1, without and with --tls-resume (one
#     session kept per worker, each new connection resumes it);
#   - smtpc, one process per message as cron or a mail user agent runs it,
#     without and with --tls-session-cache FILE.
# Against the harness's private Postfix (STARTTLS, session tickets on by
# default; it offers no AUTH) and aiosmtpd (STARTTLS + AUTH PLAIN).
# Round trips: through bench/delay_proxy.py --delay-ms 50, the proxy's
# turns per message (RTT_K messages).  CPU: without the proxy, over CPU_N
# messages, the client's (smtpc-bench: its own getrusage; smtpc: the
# children's) and the server's (/proc/PID/stat of Postfix's processes or
# of aiosmtpd; 10 ms ticks).  Writes OUT_DIR/tls_resume_cli.jsonl and a
# Markdown table on stdout.  Loopback only; every loop is bounded.
#
#   SMTPC_BUILD=$PWD/build-rel bench/tls_resume_cli.sh docs/bench/rtt
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export SMTPC_ROOT=$ROOT
export SMTPC_BUILD=${SMTPC_BUILD:-$ROOT/build}
. "$ROOT/tests/servers/lib.sh"
OUT=${1:-$ROOT/docs/bench/rtt}
RTT_K=${RTT_K:-10}
CPU_N=${CPU_N:-200}
DELAY_MS=${DELAY_MS:-50}
PY=$HARNESS_PY
BENCH=$SMTPC_BUILD/smtpc-bench
SMTPC=$SMTPC_BUILD/smtpc
[ -x "$BENCH" ] && [ -x "$SMTPC" ] || { echo "build smtpc and smtpc-bench in $SMTPC_BUILD" >&2; exit 1; }
mkdir -p "$OUT"
RES=$OUT/tls_resume_cli.jsonl
: >"$RES"
W=$(harness_tmpdir tlsres)
log() { echo "tls_resume_cli: $*" >&2; }

tls_certs "$W/certs" || exit 1
chmod 0644 "$CERTS/good.key"
export BENCH_PW=bench-secret
printf 'From: bench@example.com\r\nTo: sink@example.net\r\nSubject: resume\r\n\r\n%s\r\n' \
    "$(head -c 900 /dev/zero | tr '\0' x)" >"$W/msg"

start_mta "$W/mta" in_flow_delay=0 'virtual_transport=discard:bench' \
    smtpd_client_connection_count_limit=0 smtpd_client_connection_rate_limit=0 \
    max_use=100000 smtpd_tls_security_level=may \
    "smtpd_tls_cert_file=$CERTS/good.pem" "smtpd_tls_key_file=$CERTS/good.key" >/dev/null
start_aiosmtpd "$W/aio" --tls-cert "$CERTS/good.pem" --tls-key "$CERTS/good.key" \
    --auth "bench:$BENCH_PW" --auth-require-tls >/dev/null

PROXY_PID=
start_proxy() {   # start_proxy TARGET_PORT STATS -> PROXY_PORT
    local pf=$W/proxy.port i
    rm -f "$pf"
    "$PY" "$ROOT/bench/delay_proxy.py" --target "127.0.0.1:$1" --delay-ms "$DELAY_MS" \
        --port-file "$pf" --stats "$2" >/dev/null 2>>"$W/proxy.log" &
    PROXY_PID=$!
    harness_on_exit "kill $PROXY_PID 2>/dev/null || true"
    for i in $(seq 1 100); do
        [ -s "$pf" ] && { PROXY_PORT=$(cat "$pf"); return 0; }
        sleep 0.1
    done
    return 1
}
stop_proxy() { kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; }

# server_ticks PID...: utime + stime of these processes, in clock ticks.
server_ticks() {
    local p t=0 f
    for p in "$@"; do
        f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
        t=$((t + ${f% *} + ${f#* }))
    done
    echo "$t"
}

# One client run: CLIENT (bench|tool), FLAG (""|resume), PORT, N, extra args.
# Prints the JSON of smtpc-bench, or {"cpu_s":..,"resumed":..} for the tool.
client_run() {
    local client=$1 flag=$2 port=$3 n=$4
    shift 4
    if [ "$client" = bench ]; then
        "$BENCH" --server "127.0.0.1:$port" --tls starttls --cafile "$CERTS/ca.pem" \
            --messages "$n" --per-connection 1 --json-only --to sink@example.net \
            ${flag:+--tls-resume} "$@"
    else
        rm -f "$W/cache"
        "$PY" - "$SMTPC" "$port" "$n" "$flag" "$W" "$CERTS/ca.pem" "$@" <<'EOF'
import json, resource, subprocess, sys
smtpc, port, n, flag, w, ca = sys.argv[1:7]
extra = sys.argv[7:]
args = [smtpc, "--server", "127.0.0.1:" + port, "--tls", "starttls",
        "--cafile", ca, "--from", "bench@example.com", "--json"] + extra
if flag:
    args += ["--tls-session-cache", w + "/cache"]
args.append("sink@example.net")
resumed = 0
for _ in range(int(n)):
    with open(w + "/msg", "rb") as m:
        out = subprocess.run(args, stdin=m, stdout=subprocess.PIPE, check=True).stdout
    resumed += json.loads(out)["tls_resumed"]
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"cpu_s": ru.ru_utime + ru.ru_stime, "resumed": resumed,
                  "connections": int(n)}))
EOF
    fi
}

measure() {   # measure SERVER PORT PIDS... -- extra client args
    local sv=$1 port=$2 pids=() extra=() client flag stats n0 via direct t0 t1 i
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do pids+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    extra=("$@")
    stats=$W/stats.$sv.jsonl
    : >"$stats"
    start_proxy "$port" "$stats" || { log "proxy did not start"; exit 1; }
    for client in bench tool; do
        for flag in "" resume; do
            n0=$(wc -l <"$stats")
            via=$(client_run "$client" "$flag" "$PROXY_PORT" "$RTT_K" "${extra[@]}")
            for i in $(seq 1 100); do
                [ "$(wc -l <"$stats")" -ge $((n0 + RTT_K)) ] && break
                sleep 0.1
            done
            # Warm the server up (Postfix starts its smtpd and tlsmgr), then
            # read the CPU of every process it has.
            client_run "$client" "" "$port" 5 "${extra[@]}" >/dev/null
            [ "$sv" != aiosmtpd ] && mapfile -t pids < <(_harness_postfix_pids "$MTA_CONFIG")
            t0=$(server_ticks "${pids[@]}")
            direct=$(client_run "$client" "$flag" "$port" "$CPU_N" "${extra[@]}")
            # Postfix may have started processes meanwhile: count them too
            # (from zero).
            [ "$sv" != aiosmtpd ] && mapfile -t -O "${#pids[@]}" pids < <(
                _harness_postfix_pids "$MTA_CONFIG" | grep -vxF -f <(printf '%s\n' "${pids[@]}"))
            t1=$(server_ticks "${pids[@]}")
            tail -n +$((n0 + 1)) "$stats" | head -n "$RTT_K" | "$PY" -c '
import json, sys, os
sv, client, flag, n, ticks, via, direct = sys.argv[1:8]
via, direct = json.loads(via), json.loads(direct)
turns = [json.loads(l)["turns"] for l in sys.stdin if l.strip()]
hz = os.sysconf("SC_CLK_TCK")
n = int(n)
cpu = direct["cpu_s"] if "cpu_s" in direct else direct["cpu_user_s"] + direct["cpu_sys_s"]
row = {"server": sv, "client": client, "resume": bool(flag),
       "turns_per_message": sum(turns) / len(turns), "turns": turns,
       "resumed_via_proxy": via["resumed"], "connections_via_proxy": via["connections"],
       "client_cpu_ms_per_message": 1000 * cpu / n,
       "server_cpu_ms_per_message": 1000 * int(ticks) / hz / n,
       "resumed": direct["resumed"], "messages": n}
if "setup_ms" in direct:
    row["setup_ms_mean"] = direct["setup_ms"]["mean"]
    row["setup_ms_via_proxy"] = via["setup_ms"]["mean"]
print(json.dumps(row))
' "$sv" "$client" "$flag" "$CPU_N" "$((t1 - t0))" "$via" "$direct" >>"$RES"
            log "$(tail -n 1 "$RES")"
        done
    done
    stop_proxy
}

measure postfix "$MTA_PORT" --
# The same Postfix limited to TLS 1.2, where a resumed handshake takes one
# round trip less (TLS 1.3 takes one either way).
mta_stop
start_mta "$W/mta12" in_flow_delay=0 'virtual_transport=discard:bench' \
    smtpd_client_connection_count_limit=0 smtpd_client_connection_rate_limit=0 \
    max_use=100000 smtpd_tls_security_level=may \
    'smtpd_tls_protocols=!SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.3' \
    "smtpd_tls_cert_file=$CERTS/good.pem" "smtpd_tls_key_file=$CERTS/good.key" >/dev/null
measure postfix-tls12 "$MTA_PORT" --
measure aiosmtpd "$AIO_PORT" "$AIO_PID" -- --user bench --password-env BENCH_PW

"$PY" - "$RES" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
# Turns: a series with resumption starts with a full handshake, so its
# connections after the first are shown (the first is the full one's).
print("| server | client | handshakes | turns per message | resumed | client CPU per message (ms) | server CPU per message (ms) |")
print("|---|---|---|---:|---|---:|---:|")
for r in rows:
    who = "smtpc-bench" + (" --tls-resume" if r["resume"] else "") if r["client"] == "bench" \
        else "smtpc" + (" --tls-session-cache" if r["resume"] else "")
    print("| %s | %s | %s | %.2f | %d of %d | %.2f | %.2f |" % (
        {"postfix": "Postfix (STARTTLS, TLS 1.3)",
         "postfix-tls12": "Postfix (STARTTLS, TLS 1.2)",
         "aiosmtpd": "aiosmtpd (STARTTLS + AUTH PLAIN, TLS 1.3)"}[r["server"]],
        who, "resumed" if r["resume"] else "full",
        sum(r["turns"][1:]) / (len(r["turns"]) - 1), r["resumed"], r["messages"],
        r["client_cpu_ms_per_message"], r["server_cpu_ms_per_message"]))
EOF
