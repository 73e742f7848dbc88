#!/usr/bin/env bash
# bench/run.sh: smtpc's benchmarks, in one run, against the clients people use.
#
#   bench/run.sh [--quick] [--rtt-only] [--no-install]
#
# Starts, on loopback high ports only:
#   - Postfix's smtp-sink (PIPELINING, DATA; no CHUNKING), without dump files,
#   - a private Postfix smtpd (PIPELINING + CHUNKING, tests/servers/lib.sh
#     start_mta) whose mail is discarded after it is queued,
#   - bench/delay_proxy.py in front of each, adding BENCH_DELAY_MS (20) each way,
# and measures, on the same servers:
#   (a) many small messages on one connection
#   (b) many sessions in parallel
#   (c) one message per connection
#   (d) one 100 MiB message
# with smtpc-bench, smtp-source (with and without -d), curl and msmtp (one
# process per message, as their users run them); round trips per message
# through the delay proxy, counted by it, for smtpc-bench, the smtpc tool,
# smtp-source, curl, msmtp and swaks: one message per new connection
# (plain, STARTTLS, STARTTLS + AUTH PLAIN against aiosmtpd), 100 messages on
# one connection, 100 recipients (turns.tsv); the body encoder in memory (bench/encoder_bench.c:
# bytes/s, and instructions per byte with valgrind --tool=callgrind); and the
# library's instructions per message.
#
# Every figure is the wall time of the client process(es), median of
# BENCH_REPS (3) runs (the whole list is run REPS times, so each tool's runs
# are spread out); smtpc-bench's own JSON is kept beside it.  Results go
# to BENCH_OUT (docs/bench): raw.tsv (one line a measurement), results.json,
# results.csv, results.md (tables with ratios) and *.png charts (gnuplot),
# made by bench/report.py.  Logs and per-run outputs: BENCH_OUT/runs/.
#
# Environment: SMTPC_BUILD (build dir, default build/, configured and built
# when smtpc-bench is missing), BENCH_OUT, BENCH_REPS, BENCH_DELAY_MS,
# BENCH_QUICK=1 (same as --quick: fewer messages, one repetition).
# --rtt-only: only the round trips (about 6 minutes), into BENCH_OUT
# (default docs/bench/rtt), through a BENCH_DELAY_MS (default 50) proxy.
# Needs root for the private Postfix (its part is skipped otherwise).  Missing
# tools (curl, msmtp, swaks, gnuplot-nox, valgrind, postfix) are installed with
# apt-get unless --no-install; `make check` never needs any of them.
#
# The machine is shared: run this when figures are needed, not in a loop.
# It takes about 4 minutes on 2 cores.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SMTPC_BUILD:-$ROOT/build}
QUICK=${BENCH_QUICK:-0}
INSTALL=1
RTT_ONLY=0
PY=/usr/bin/python3

for a in "$@"; do
    case "$a" in
        --quick) QUICK=1 ;;
        --no-install) INSTALL=0 ;;
        --rtt-only) RTT_ONLY=1 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//; /^set -e/d'; exit 0 ;;
        *) echo "run.sh: unknown argument $a" >&2; exit 64 ;;
    esac
done

if [ "$RTT_ONLY" = 1 ]; then
    OUT=${BENCH_OUT:-$ROOT/docs/bench/rtt}
    DELAY_MS=${BENCH_DELAY_MS:-50}
else
    OUT=${BENCH_OUT:-$ROOT/docs/bench}
    DELAY_MS=${BENCH_DELAY_MS:-20}
fi
REPS=${BENCH_REPS:-3}
# Messages per client in each "one message per new connection" round-trip
# mode: the count of turns does not vary, so a few are enough.
RTT_NEW_K=3

# Sizes of each test: messages in all.  Peers that start one process per
# message (curl, msmtp) send fewer: their rate is per message all the same.
if [ "$QUICK" = 1 ]; then
    REPS=1
    A_N=5000 B_N=10000 C_N=500 PEER_N=30 PEER_PAR_N=80 BIG=20M
    MTA_A_N=300 MTA_B_N=600 MTA_C_N=100 CG_N=500
else
    A_N=20000 B_N=40000 C_N=2000 PEER_N=100 PEER_PAR_N=400 BIG=100M
    MTA_A_N=1000 MTA_B_N=2000 MTA_C_N=300 CG_N=2000
fi
B_S=8          # sessions in parallel (b)
MTA_B_S=4
SIZE=1024      # body bytes of the small messages
FROM=bench@example.com
TO=sink@example.net

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ------------------------------------------------------------------ tools

need_pkgs=()
command -v smtp-sink >/dev/null || need_pkgs+=(postfix)
command -v curl >/dev/null || need_pkgs+=(curl)
command -v msmtp >/dev/null || need_pkgs+=(msmtp)
command -v swaks >/dev/null || need_pkgs+=(swaks)
command -v gnuplot >/dev/null || need_pkgs+=(gnuplot-nox)
command -v valgrind >/dev/null || need_pkgs+=(valgrind)
command -v cmake >/dev/null || need_pkgs+=(cmake)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
    if [ "$INSTALL" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing ${need_pkgs[*]}"
        # postfix must not start a system MTA or ask questions
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
            --no-install-recommends \
            "${need_pkgs[@]}" >/dev/null
    else
        log "missing: ${need_pkgs[*]} (parts that need them are skipped)"
    fi
fi
have() { command -v "$1" >/dev/null; }

# ------------------------------------------------------------------ build

if [ ! -x "$BUILD/smtpc-bench" ] || [ ! -x "$BUILD/smtpc" ] || [ ! -f "$BUILD/libsmtpc.a" ]; then
    log "building into $BUILD"
    cmake -S "$ROOT" -B "$BUILD" >/dev/null
    cmake --build "$BUILD" -j 2 >/dev/null
else
    cmake --build "$BUILD" --target smtpc-bench smtpc -j 2 >/dev/null
fi
BENCH=$BUILD/smtpc-bench
# The library's public definitions (they size public structs, such as the
# session): a program built without them does not match the library.
# lib_defs BUILD: those of BUILD's library, from its smtpc.pc.
lib_defs() { grep -o -- '-DSMTPC_[A-Z_0-9]*=[^ ]*' "$1/smtpc.pc"; }
# The encoder benchmark links the library as built (same flags as users get).
# shellcheck disable=SC2046
cc -O2 -g -std=c11 -Wall -Wextra $(lib_defs "$BUILD") -I"$ROOT/include" -I"$ROOT/cli/bench" \
    -I"$ROOT/cli/common" "$ROOT/bench/encoder_bench.c" "$ROOT/cli/bench/bench_text.c" \
    "$BUILD/libsmtpc.a" -o "$BUILD/encoder_bench"
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")

# ------------------------------------------------------------------ output

mkdir -p "$OUT"
RUNS=$OUT/runs
rm -rf "$RUNS"
mkdir -p "$RUNS"
RAW=$OUT/raw.tsv
printf 'section\tscenario\tserver\ttool\tmessages\tmsg_bytes\tseconds\trep\tstatus\toutput\n' >"$RAW"

{
    printf '{"date":"%s",' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '"nproc":%s,' "$(nproc)"
    printf '"cpu":"%s",' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
    printf '"mem_mb":%s,' "$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)"
    printf '"kernel":"%s",' "$(uname -r)"
    printf '"loadavg_start":"%s",' "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf '"cc":"%s",' "$(cc --version | head -n 1)"
    printf '"build_type":"%s",' "$BUILD_TYPE"
    printf '"postfix":"%s",' "$(postconf -h mail_version 2>/dev/null || echo none)"
    printf '"curl":"%s",' "$(curl --version 2>/dev/null | head -n 1 | cut -d' ' -f1-2)"
    printf '"msmtp":"%s",' "$(msmtp --version 2>/dev/null | head -n 1)"
    printf '"swaks":"%s",' "$(swaks --version 2>/dev/null | head -n 1)"
    printf '"rtt_only":%s,' "$RTT_ONLY"
    printf '"reps":%s,"quick":%s,"delay_ms":%s}\n' "$REPS" "$QUICK" "$DELAY_MS"
} >"$OUT/machine.json"

# ------------------------------------------------------------------ servers

. "$ROOT/tests/servers/lib.sh"
W=$(harness_tmpdir bench)

# A free port below the ephemeral range (test (c) opens thousands of
# connections whose local ports must not collide with a server's).
pick_port() {
    local p hex i
    for i in $(seq 1 100); do
        p=$((20000 + RANDOM % 12000))
        hex=$(printf ':%04X' "$p")
        if ! awk -v p="$hex" 'FNR > 1 && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
            /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

listening() {
    local hex
    hex=$(printf ':%04X' "$1")
    awk -v p="$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
        /proc/net/tcp 2>/dev/null
}

wait_listen() {   # wait_listen PORT PID
    local i
    for i in $(seq 1 100); do
        kill -0 "$2" 2>/dev/null || return 1
        listening "$1" && return 0
        sleep 0.1
    done
    return 1
}

stop_pid() {
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# smtp-sink as the tests' harness starts it, but without -d: a dump file per
# message would measure the disk, not the clients.
start_bench_sink() {
    local user=() port pid
    [ "$(id -u)" = 0 ] && user=(-u nobody)
    for _ in 1 2 3 4 5; do
        port=$(pick_port)
        smtp-sink "${user[@]}" "127.0.0.1:$port" 1024 </dev/null >"$RUNS/sink.log" 2>&1 &
        pid=$!
        if wait_listen "$port" "$pid"; then
            BSINK_PORT=$port
            harness_on_exit "stop_pid $pid"
            return 0
        fi
        stop_pid "$pid"
    done
    return 1
}

start_proxy() {   # start_proxy TARGET_PORT [STATS_FILE] -> PROXY_PORT
    local pf=$W/proxy.$1 pid i stats=()
    [ -n "${2:-}" ] && stats=(--stats "$2")
    rm -f "$pf"   # a second proxy to the same server must not read the first's port
    "$PY" "$ROOT/bench/delay_proxy.py" --target "127.0.0.1:$1" --delay-ms "$DELAY_MS" \
        --port-file "$pf" "${stats[@]}" >/dev/null 2>>"$RUNS/proxy.log" &
    pid=$!
    harness_on_exit "stop_pid $pid"
    for i in $(seq 1 100); do
        if [ -s "$pf" ]; then
            PROXY_PORT=$(cat "$pf")
            return 0
        fi
        sleep 0.1
    done
    return 1
}

have smtp-sink || { log "smtp-sink is required"; exit 1; }
start_bench_sink || { log "smtp-sink did not start"; exit 1; }
SINK=$BSINK_PORT
log "smtp-sink on 127.0.0.1:$SINK"

# Certificates for STARTTLS (a test CA; clients are given ca.pem).
CERTS=$W/certs
tls_certs "$CERTS" || { log "tls_certs failed"; exit 1; }
chmod 0644 "$CERTS"/good.key
_harness_make_reachable "$CERTS"

# Mail is queued (written and fsync'd like any mail) then discarded: what
# is measured is smtpd, cleanup and the queue, not delivery.  STARTTLS (TLS
# 1.3) and, after it, AUTH PLAIN/LOGIN through Cyrus SASL (user bench) are
# offered; only the round trips use them.
RTT_PASS=bench-secret
export RTT_PASS
bench_mta() {   # bench_mta DIR [main.cf parameters]
    local d=$1
    shift
    start_mta "$d" in_flow_delay=0 'virtual_transport=discard:bench' \
        message_size_limit=0 smtpd_client_connection_count_limit=0 \
        smtpd_client_connection_rate_limit=0 smtpd_tls_security_level=may max_use=100000 \
        "smtpd_tls_cert_file=$CERTS/good.pem" "smtpd_tls_key_file=$CERTS/good.key" \
        "${MTA_SASL_PARAMS[@]}" smtpd_tls_auth_only=yes "$@" &&
        mta_sasl_user bench "$RTT_PASS"
}
MTA= MTAD=
if have postfix; then
    rc=0
    # The same Postfix without CHUNKING (DATA only), for the round trips
    # with STARTTLS + AUTH (smtp-sink has no AUTH).  Started first: the
    # harness's MTA_* variables then name the one with CHUNKING.
    bench_mta "$W/mtad" smtpd_discard_ehlo_keywords=chunking \
        >"$RUNS/mtad.start.log" 2>&1 || rc=$?
    [ "$rc" = 0 ] && MTAD=$MTA_PORT
    rc=0
    bench_mta "$W/mta" >"$RUNS/mta.start.log" 2>&1 || rc=$?
    if [ "$rc" = 0 ]; then
        MTA=$MTA_PORT
        log "Postfix smtpd (CHUNKING) on 127.0.0.1:$MTA, DATA only on ${MTAD:-none}"
    else
        log "no private Postfix (start_mta: $rc); its part is skipped"
    fi
fi

# aiosmtpd with STARTTLS and AUTH PLAIN/LOGIN (after STARTTLS only), for
# the round trips with authentication.
AIO=
rc=0
start_aiosmtpd "$W/aio" --auth "bench:bench-secret" --auth-require-tls \
    --tls-cert "$CERTS/good.pem" --tls-key "$CERTS/good.key" \
    >"$RUNS/aio.start.log" 2>&1 || rc=$?
if [ "$rc" = 0 ]; then
    AIO=$AIO_PORT
    log "aiosmtpd (STARTTLS, AUTH) on 127.0.0.1:$AIO"
else
    log "no aiosmtpd (start_aiosmtpd: $rc); STARTTLS + AUTH round trips skipped"
fi

# ------------------------------------------------------------------ messages

MSG=$W/msg-$SIZE.eml
BIGMSG=$W/msg-big.eml
"$BENCH" --print-message --size "$SIZE" --from "$FROM" --to "$TO" >"$MSG"
[ "$RTT_ONLY" = 1 ] && BIG=1k   # (d) does not run
"$BENCH" --print-message --size "$BIG" --from "$FROM" --to "$TO" >"$BIGMSG"
MSG_BYTES=$(stat -c %s "$MSG")
BIG_BYTES=$(stat -c %s "$BIGMSG")
BIG_BODY=$("$PY" -c "import sys; s=sys.argv[1]; m={'k':1<<10,'M':1<<20,'G':1<<30}; print(int(s[:-1])*m[s[-1]] if s[-1] in m else int(s))" "$BIG")

# ------------------------------------------------------------------ timing

# measure SECTION SCENARIO SERVER TOOL MESSAGES MSG_BYTES -- COMMAND...
# Runs COMMAND once and records its wall time (one line in raw.tsv; its
# output in $RUNS/<id>.<rep>.out).  Repetitions come from calling the whole
# test list again (see main), so that each tool's runs are spread over the
# run rather than back to back: on a shared machine the load changes.
REP=1
measure() {
    local section=$1 scenario=$2 server=$3 tool=$4 n=$5 bytes=$6
    shift 7
    local id="$section-$scenario-$server-$tool" t0 t1 rc=0 status=ok secs out
    id=${id//[^A-Za-z0-9_.-]/_}
    out=$RUNS/$id.$REP.out
    t0=$EPOCHREALTIME
    "$@" >"$out" 2>"$RUNS/$id.$REP.err" || rc=$?
    t1=$EPOCHREALTIME
    if [ "$rc" != 0 ]; then
        status="fail(rc=$rc)"
        log "  $tool failed (rc=$rc): $(head -c 300 "$RUNS/$id.$REP.err" | tr '\n' ' ')"
    fi
    secs=$(awk -v a="${t0/,/.}" -v b="${t1/,/.}" 'BEGIN { printf "%.6f", b - a }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$section" "$scenario" "$server" \
        "$tool" "$n" "$bytes" "$secs" "$REP" "$status" "${out#"$OUT"/}" >>"$RAW"
    log "  $(printf '%-22s %7s msgs %9.3f s %10.1f msg/s' "$tool" "$n" "$secs" \
        "$(awk -v n="$n" -v t="$secs" 'BEGIN { print n / t }')")"
}

smtpc() {   # smtpc PORT [smtpc-bench options]
    local port=$1
    shift
    "$BENCH" --server "127.0.0.1:$port" --from "$FROM" --to "$TO" --json-only "$@"
}

curl_seq() {   # curl_seq PORT N FILE
    local i
    for ((i = 0; i < $2; i++)); do
        curl -sS "smtp://127.0.0.1:$1" --mail-from "$FROM" --mail-rcpt "$TO" -T "$3" || return 1
    done
}

msmtp_seq() {   # msmtp_seq PORT N FILE
    local i
    for ((i = 0; i < $2; i++)); do
        msmtp --host=127.0.0.1 --port="$1" --from="$FROM" --auth=off --tls=off \
            "$TO" <"$3" || return 1
    done
}

curl_par() {   # curl_par PORT N S FILE
    seq 1 "$2" | xargs -P "$3" -I{} curl -sS "smtp://127.0.0.1:$1" \
        --mail-from "$FROM" --mail-rcpt "$TO" -T "$4"
}

msmtp_par() {   # msmtp_par PORT N S FILE
    seq 1 "$2" | xargs -P "$3" -I{} sh -c 'exec msmtp --host=127.0.0.1 --port="$1" \
        --from="$2" --auth=off --tls=off "$3" <"$4"' sh "$1" "$FROM" "$TO" "$4"
}

src_q() { smtp-source "$@"; }

# The sink's own limit for one large message: the file written to the socket
# with no SMTP client at all (bash's /dev/tcp and cat; the whole dialogue
# pipelined, the body not dot-stuffed, which smtp-sink does not mind).  Not
# a valid client: only a ceiling for (d).
raw_tcp() {   # raw_tcp PORT FILE
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'EHLO raw\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n' "$FROM" "$TO" >&3
    cat "$2" >&3
    printf '.\r\nQUIT\r\n' >&3
    cat <&3 >"$W/raw_tcp.replies"
    exec 3>&-
    grep -q '^221 ' "$W/raw_tcp.replies"
}

# ------------------------------------------------------------------ throughput

throughput() {   # throughput SERVER_NAME PORT
    local sv=$1 p=$2 an bn bs cn
    if [ "$sv" = sink ]; then
        an=$A_N bn=$B_N bs=$B_S cn=$C_N
    else
        an=$MTA_A_N bn=$MTA_B_N bs=$MTA_B_S cn=$MTA_C_N
    fi

    log "(a) $an small messages on one connection, $sv"
    measure tput a "$sv" smtpc "$an" "$MSG_BYTES" -- smtpc "$p" --messages "$an" --size "$SIZE"
    if [ "$sv" = mta ]; then
        measure tput a "$sv" smtpc-no-chunking "$an" "$MSG_BYTES" -- \
            smtpc "$p" --messages "$an" --size "$SIZE" --no-chunking
    fi
    measure tput a "$sv" smtpc-no-pipelining "$an" "$MSG_BYTES" -- \
        smtpc "$p" --messages "$an" --size "$SIZE" --no-pipelining --no-chunking
    measure tput a "$sv" smtp-source-d "$an" "$MSG_BYTES" -- \
        src_q -d -s 1 -m "$an" -l "$SIZE" -f "$FROM" -t "$TO" "127.0.0.1:$p"
    if [ "$sv" = sink ]; then
        have curl && measure tput a "$sv" curl "$PEER_N" "$MSG_BYTES" -- curl_seq "$p" "$PEER_N" "$MSG"
        have msmtp && measure tput a "$sv" msmtp "$PEER_N" "$MSG_BYTES" -- msmtp_seq "$p" "$PEER_N" "$MSG"
    fi

    log "(b) $bn messages over $bs sessions in parallel, $sv"
    measure tput b "$sv" smtpc "$bn" "$MSG_BYTES" -- \
        smtpc "$p" --messages "$bn" --sessions "$bs" --size "$SIZE"
    measure tput b "$sv" smtp-source-d "$bn" "$MSG_BYTES" -- \
        src_q -d -s "$bs" -m "$bn" -l "$SIZE" -f "$FROM" -t "$TO" "127.0.0.1:$p"
    measure tput b "$sv" smtp-source "$bn" "$MSG_BYTES" -- \
        src_q -s "$bs" -m "$bn" -l "$SIZE" -f "$FROM" -t "$TO" "127.0.0.1:$p"
    if [ "$sv" = sink ]; then
        have curl && measure tput b "$sv" curl "$PEER_PAR_N" "$MSG_BYTES" -- \
            curl_par "$p" "$PEER_PAR_N" "$bs" "$MSG"
        have msmtp && measure tput b "$sv" msmtp "$PEER_PAR_N" "$MSG_BYTES" -- \
            msmtp_par "$p" "$PEER_PAR_N" "$bs" "$MSG"
    fi

    log "(c) $cn messages, one per connection, $sv"
    measure tput c "$sv" smtpc "$cn" "$MSG_BYTES" -- \
        smtpc "$p" --messages "$cn" --per-connection 1 --size "$SIZE"
    measure tput c "$sv" smtp-source "$cn" "$MSG_BYTES" -- \
        src_q -s 1 -m "$cn" -l "$SIZE" -f "$FROM" -t "$TO" "127.0.0.1:$p"
    if [ "$sv" = sink ]; then
        have curl && measure tput c "$sv" curl "$PEER_N" "$MSG_BYTES" -- curl_seq "$p" "$PEER_N" "$MSG"
        have msmtp && measure tput c "$sv" msmtp "$PEER_N" "$MSG_BYTES" -- msmtp_seq "$p" "$PEER_N" "$MSG"
    fi

    log "(d) one $BIG message, $sv"
    measure tput d "$sv" smtpc 1 "$BIG_BYTES" -- smtpc "$p" --messages 1 --size "$BIG"
    if [ "$sv" = mta ]; then
        measure tput d "$sv" smtpc-no-chunking 1 "$BIG_BYTES" -- \
            smtpc "$p" --messages 1 --size "$BIG" --no-chunking
        measure tput d "$sv" smtpc-quickack 1 "$BIG_BYTES" -- \
            smtpc "$p" --messages 1 --size "$BIG" --quickack
    fi
    measure tput d "$sv" smtp-source 1 "$BIG_BYTES" -- \
        src_q -s 1 -m 1 -l "$BIG_BODY" -f "$FROM" -t "$TO" "127.0.0.1:$p"
    have curl && measure tput d "$sv" curl 1 "$BIG_BYTES" -- curl_seq "$p" 1 "$BIGMSG"
    have msmtp && measure tput d "$sv" msmtp 1 "$BIG_BYTES" -- msmtp_seq "$p" 1 "$BIGMSG"
    if [ "$sv" = sink ]; then
        measure tput d "$sv" raw-tcp-ceiling 1 "$BIG_BYTES" -- raw_tcp "$p" "$BIGMSG"
    fi
}


# A body in several BDAT chunks gets several replies.  Postfix writes them
# with Nagle on, so its last reply waits for the ACK of the previous one,
# which a client with nothing to send delays (40 ms on Linux).  Measured on
# loopback without the proxy; --quickack shows what an immediate ACK gives.
nagle() {   # nagle PORT
    local p=$1 n=20
    log "1 MiB messages on one connection to Postfix: BDAT vs DATA, delayed ACK"
    measure nagle 1m mta smtpc-bdat "$n" 0 -- smtpc "$p" --messages "$n" --size 1M
    measure nagle 1m mta smtpc-bdat-quickack "$n" 0 -- smtpc "$p" --messages "$n" --size 1M --quickack
    measure nagle 1m mta smtpc-data "$n" 0 -- smtpc "$p" --messages "$n" --size 1M --no-chunking
    measure nagle 1m mta smtpc-data-quickack "$n" 0 -- \
        smtpc "$p" --messages "$n" --size 1M --no-chunking --quickack
}

[ "$RTT_ONLY" = 1 ] && REPS=0
for REP in $(seq 1 "$REPS"); do
    log "== repetition $REP of $REPS"
    throughput sink "$SINK"
    if [ -n "$MTA" ]; then
        throughput mta "$MTA"
        nagle "$MTA"
    fi
done
REP=1

# ------------------------------------------------------------------ memory

if [ "$RTT_ONLY" = 0 ]; then
    log "memory: 1000 vs 50000 messages, $SIZE B vs $BIG bodies"
    measure mem n1000 sink smtpc 1000 "$MSG_BYTES" -- smtpc "$SINK" --messages 1000 --size "$SIZE"
    measure mem n50000 sink smtpc 50000 "$MSG_BYTES" -- smtpc "$SINK" --messages 50000 --size "$SIZE"
    measure mem big sink smtpc 1 "$BIG_BYTES" -- smtpc "$SINK" --messages 1 --size "$BIG"
fi

# ------------------------------------------------------------------ round trips

# Every client through bench/delay_proxy.py, which counts the client's waits
# for the server ("turns", see its header) on each connection: the round
# trips of a mode, independent of load.  Its wall time divided by the
# measured NOOP round trip (rtt_probe.py) is kept beside it as a check.
#
# Modes (each client that can do it):
#   new           one message per new connection, no TLS
#   new-tls       the same with STARTTLS (Postfix; no AUTH: see below)
#   new-tls-auth  STARTTLS + AUTH PLAIN: Postfix (PIPELINING, CHUNKING),
#                 the same Postfix DATA only (mtad), and aiosmtpd (no
#                 PIPELINING, no CHUNKING)
#   new-tls-auth-cached  the same, smtpc with --tls-session-cache holding
#                 the server's session (STARTTLS before EHLO, resumed)
#   reuse100      100 messages on one connection
#   rcpt100       one message to 100 recipients per new connection
# The Postfix instances offer STARTTLS, and AUTH after it; clients are
# told not to use them unless the mode says so.
TURNS=$OUT/turns.tsv

# rtt_run MODE SERVER TOOL MESSAGES CONNECTIONS -- COMMAND...
# Runs COMMAND through the proxy of SERVER (PROXY_STATS), then adds up the
# proxy's lines for the CONNECTIONS it opened (waiting for the proxy to
# see them close) into turns.tsv.
rtt_run() {
    local mode=$1 sv=$2 tool=$3 n=$4 conns=$5 stats=$PROXY_STATS n0 i
    shift 6
    n0=$(wc -l <"$stats")
    measure rtt "$mode" "$sv" "$tool" "$n" "$MSG_BYTES" -- "$@"
    for i in $(seq 1 100); do
        [ "$(wc -l <"$stats")" -ge $((n0 + conns)) ] && break
        sleep 0.1
    done
    sleep 0.3
    tail -n +$((n0 + 1)) "$stats" | "$PY" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
mode, sv, tool, n = sys.argv[1:5]
t = sum(r["turns"] for r in rows)
print("\t".join([mode, sv, tool, n, str(len(rows)), str(t),
                 "%.2f" % (t / int(n)), " ".join(str(r["turns"]) for r in rows)]))
' "$mode" "$sv" "$tool" "$n" >>"$TURNS"
    log "    turns: $(tail -n 1 "$TURNS" | cut -f5-7)"
}

# One process per message, as their users run them.
smtpc_cli_seq() {   # smtpc_cli_seq PORT N [smtpc options]: --tls none unless given
    local p=$1 n=$2 i
    shift 2
    for ((i = 0; i < n; i++)); do
        "$BUILD/smtpc" --server "127.0.0.1:$p" --from "$FROM" "$@" <"$MSG" >/dev/null || return 1
    done
}

swaks_seq() {   # swaks_seq PORT N [swaks options]
    local p=$1 n=$2 i
    shift 2
    for ((i = 0; i < n; i++)); do
        swaks --silent 2 --server 127.0.0.1 --port "$p" --from "$FROM" --data "@$MSG" "$@" || return 1
    done
}

curl_seq_opts() {   # curl_seq_opts PORT N [curl options]
    local p=$1 n=$2 i
    shift 2
    for ((i = 0; i < n; i++)); do
        curl -sS "smtp://127.0.0.1:$p" --mail-from "$FROM" -T "$MSG" "$@" || return 1
    done
}

msmtp_seq_opts() {   # msmtp_seq_opts PORT N [msmtp options and recipients]
    local p=$1 n=$2 i
    shift 2
    for ((i = 0; i < n; i++)); do
        msmtp --host=127.0.0.1 --port="$p" --from="$FROM" "$@" <"$MSG" || return 1
    done
}

RCPTS=()
for i in $(seq 1 100); do RCPTS+=("r$i@example.net"); done
CURL_RCPTS=()
for r in "${RCPTS[@]}"; do CURL_RCPTS+=(--mail-rcpt "$r"); done
SWAKS_RCPTS=$(IFS=,; echo "${RCPTS[*]}")

round_trips() {   # round_trips SERVER_NAME PORT
    local sv=$1 p=$2 probe pp k=$RTT_NEW_K
    PROXY_STATS=$W/proxy-stats.$sv.jsonl
    : >"$PROXY_STATS"
    start_proxy "$p" "$PROXY_STATS" || { log "delay proxy did not start"; return 0; }
    pp=$PROXY_PORT
    probe=$("$PY" "$ROOT/bench/rtt_probe.py" "127.0.0.1:$pp" 10)
    printf '%s\n' "$probe" >"$RUNS/rtt-probe-$sv.json"
    log "round trips through the ${DELAY_MS} ms proxy to $sv: probe $probe"
    # The probe's connection ends before the first client's starts.
    for _ in $(seq 1 50); do
        [ -s "$PROXY_STATS" ] && break
        sleep 0.1
    done

    # STARTTLS + AUTH PLAIN, one message per connection (curl with
    # --sasl-ir, its initial response, as the others send it).
    if [ "$sv" != sink ]; then
        log "  new-tls-auth: $k messages, one connection each"
        rtt_run new-tls-auth "$sv" smtpc-bench "$k" "$k" -- smtpc "$pp" --messages "$k" \
            --per-connection 1 --size "$SIZE" --tls starttls --cafile "$CERTS/ca.pem" \
            --user bench --password-env RTT_PASS
        rtt_run new-tls-auth "$sv" smtpc "$k" "$k" -- smtpc_cli_seq "$pp" "$k" --tls starttls \
            --cafile "$CERTS/ca.pem" --user bench --password-env RTT_PASS --auth plain "$TO"
        have curl && rtt_run new-tls-auth "$sv" curl "$k" "$k" -- curl_seq_opts "$pp" "$k" \
            --mail-rcpt "$TO" --ssl-reqd --cacert "$CERTS/ca.pem" --user "bench:$RTT_PASS" \
            --login-options AUTH=PLAIN --sasl-ir
        have msmtp && rtt_run new-tls-auth "$sv" msmtp "$k" "$k" -- msmtp_seq_opts "$pp" "$k" \
            --tls=on --tls-starttls=on --tls-trust-file="$CERTS/ca.pem" --auth=plain \
            --user=bench --passwordeval='echo "$RTT_PASS"' "$TO"
        have swaks && rtt_run new-tls-auth "$sv" swaks "$k" "$k" -- swaks_seq "$pp" "$k" \
            --to "$TO" -tls -a PLAIN -au bench -ap "$RTT_PASS"
        # The same with the server's TLS session cached by an earlier run
        # (made without the proxy, so that it is not counted): STARTTLS
        # goes before EHLO and the handshake resumes.  None of the peers
        # keeps a session from one run to the next.
        local cache=$W/tls-cache.$sv
        rm -f "$cache"
        smtpc_cli_seq "$p" 1 --tls starttls --cafile "$CERTS/ca.pem" --user bench \
            --password-env RTT_PASS --auth plain --tls-session-cache "$cache" "$TO" || true
        rtt_run new-tls-auth-cached "$sv" smtpc "$k" "$k" -- smtpc_cli_seq "$pp" "$k" \
            --tls starttls --cafile "$CERTS/ca.pem" --user bench --password-env RTT_PASS \
            --auth plain --tls-session-cache "$cache" "$TO"
    fi
    [ "$sv" = aio ] || [ "$sv" = mtad ] && return 0

    log "  new: $k messages, one connection each"
    rtt_run new "$sv" smtpc-bench "$k" "$k" -- smtpc "$pp" --messages "$k" --per-connection 1 --size "$SIZE"
    rtt_run new "$sv" smtpc "$k" "$k" -- smtpc_cli_seq "$pp" "$k" --tls none "$TO"
    rtt_run new "$sv" smtp-source "$k" "$k" -- \
        src_q -s 1 -m "$k" -l "$SIZE" -f "$FROM" -t "$TO" "127.0.0.1:$pp"
    have curl && rtt_run new "$sv" curl "$k" "$k" -- curl_seq_opts "$pp" "$k" --mail-rcpt "$TO"
    have msmtp && rtt_run new "$sv" msmtp "$k" "$k" -- msmtp_seq_opts "$pp" "$k" \
        --auth=off --tls=off "$TO"
    have swaks && rtt_run new "$sv" swaks "$k" "$k" -- swaks_seq "$pp" "$k" --to "$TO"

    if [ "$sv" = mta ]; then
        log "  new-tls: $k messages, one connection each, STARTTLS"
        rtt_run new-tls "$sv" smtpc-bench "$k" "$k" -- smtpc "$pp" --messages "$k" \
            --per-connection 1 --size "$SIZE" --tls starttls --cafile "$CERTS/ca.pem"
        rtt_run new-tls "$sv" smtpc "$k" "$k" -- smtpc_cli_seq "$pp" "$k" --tls starttls \
            --cafile "$CERTS/ca.pem" "$TO"
        have curl && rtt_run new-tls "$sv" curl "$k" "$k" -- curl_seq_opts "$pp" "$k" \
            --mail-rcpt "$TO" --ssl-reqd --cacert "$CERTS/ca.pem"
        have msmtp && rtt_run new-tls "$sv" msmtp "$k" "$k" -- msmtp_seq_opts "$pp" "$k" \
            --tls=on --tls-starttls=on --tls-trust-file="$CERTS/ca.pem" --auth=off "$TO"
        have swaks && rtt_run new-tls "$sv" swaks "$k" "$k" -- swaks_seq "$pp" "$k" \
            --to "$TO" -tls
    fi

    log "  reuse100: 100 messages on one connection"
    rtt_run reuse100 "$sv" smtpc-bench 100 1 -- smtpc "$pp" --messages 100 --size "$SIZE"
    if [ "$sv" = mta ]; then
        rtt_run reuse100 "$sv" smtpc-bench-no-chunking 100 1 -- \
            smtpc "$pp" --messages 100 --size "$SIZE" --no-chunking
    fi
    rtt_run reuse100 "$sv" smtp-source-d 100 1 -- \
        src_q -d -s 1 -m 100 -l "$SIZE" -f "$FROM" -t "$TO" "127.0.0.1:$pp"

    local kr=1   # 100 recipients one at a time take 100 round trips for some
    log "  rcpt100: $kr message(s) to 100 recipients, one connection each"
    rtt_run rcpt100 "$sv" smtpc-bench "$kr" "$kr" -- smtpc "$pp" --messages "$kr" \
        --per-connection 1 --size "$SIZE" --recipients 100
    rtt_run rcpt100 "$sv" smtpc "$kr" "$kr" -- smtpc_cli_seq "$pp" "$kr" --tls none "${RCPTS[@]}"
    rtt_run rcpt100 "$sv" smtp-source "$kr" "$kr" -- \
        src_q -s 1 -m "$kr" -r 100 -l "$SIZE" -f "$FROM" -t "$TO" "127.0.0.1:$pp"
    have curl && rtt_run rcpt100 "$sv" curl "$kr" "$kr" -- curl_seq_opts "$pp" "$kr" "${CURL_RCPTS[@]}"
    have msmtp && rtt_run rcpt100 "$sv" msmtp "$kr" "$kr" -- msmtp_seq_opts "$pp" "$kr" \
        --auth=off --tls=off "${RCPTS[@]}"
    have swaks && rtt_run rcpt100 "$sv" swaks "$kr" "$kr" -- swaks_seq "$pp" "$kr" --to "$SWAKS_RCPTS"
    return 0
}

printf 'mode\tserver\ttool\tmessages\tconnections\tturns\tturns_per_message\tper_connection\n' >"$TURNS"
round_trips sink "$SINK"
[ -n "$MTA" ] && round_trips mta "$MTA"
[ -n "$MTAD" ] && round_trips mtad "$MTAD"
[ -n "$AIO" ] && round_trips aio "$AIO"

# ------------------------------------------------------------------ TLS resumption

# Full and resumed STARTTLS handshakes to Postfix (bench/tls_resume_bench.c:
# a new TCP connection and a new smtpc_tls each time, as a new run of a
# tool; --resume gives them one smtpc_tls_session): the proxy's turns per
# connection, and without the proxy the CPU per handshake of the client and
# of Postfix (its smtpd, tlsmgr, ... processes, from /proc), over
# TLS_RES_N connections.  With the library as built (OpenSSL: TLS 1.3) and,
# when libmbedtls-dev is there, a RelWithDebInfo mbedTLS build (TLS 1.2).
TLS_RES_N=${BENCH_TLS_N:-200}
tls_resumption() {
    local stats=$W/proxy-stats.tls.jsonl pp b flag n0 via direct pidargs=() p i
    local benches=() mb=$BUILD/mbedtls-bench
    TLSRES=$OUT/tls_resumption.jsonl
    : >"$TLSRES"
    # shellcheck disable=SC2046
    cc -O2 -g -std=c11 -Wall -Wextra $(lib_defs "$BUILD") -I"$ROOT/include" \
        "$ROOT/bench/tls_resume_bench.c" "$BUILD/libsmtpc.a" -lssl -lcrypto \
        -o "$BUILD/tls_resume_bench" && benches+=("$BUILD/tls_resume_bench")
    if [ -f /usr/include/mbedtls/ssl.h ]; then
        log "building the mbedTLS variant of the library into $mb"
        if cmake -S "$ROOT" -B "$mb" -DSMTPC_TLS_BACKEND=mbedtls -DCMAKE_BUILD_TYPE=RelWithDebInfo \
                -DSMTPC_BUILD_TESTS=OFF >"$RUNS/mbedtls-build.log" 2>&1 &&
            cmake --build "$mb" --target smtpc_static -j 2 >>"$RUNS/mbedtls-build.log" 2>&1 &&
            cc -O2 -g -std=c11 -Wall -Wextra $(lib_defs "$mb") -I"$ROOT/include" \
                "$ROOT/bench/tls_resume_bench.c" "$mb/libsmtpc.a" -lmbedtls -lmbedx509 \
                -lmbedcrypto -o "$mb/tls_resume_bench"; then
            benches+=("$mb/tls_resume_bench")
        else
            log "mbedTLS build failed (see $RUNS/mbedtls-build.log)"
        fi
    fi
    : >"$stats"
    start_proxy "$MTA" "$stats" || { log "delay proxy did not start"; return 0; }
    pp=$PROXY_PORT
    for b in "${benches[@]}"; do
        for flag in "" --resume; do
            n0=$(wc -l <"$stats")
            via=$("$b" --server "127.0.0.1:$pp" --cafile "$CERTS/ca.pem" --count 5 $flag) || continue
            for i in $(seq 1 50); do
                [ "$(wc -l <"$stats")" -ge $((n0 + 5)) ] && break
                sleep 0.1
            done
            # Without the proxy: CPU.  Some connections first, so that the
            # server's processes (Postfix starts another smtpd when none is
            # idle) exist when their CPU is read.
            "$b" --server "127.0.0.1:$MTA" --cafile "$CERTS/ca.pem" --count 20 >/dev/null || continue
            pidargs=()
            for p in $(_harness_postfix_pids "$MTA_CONFIG"); do pidargs+=(--server-pid "$p"); done
            direct=$("$b" --server "127.0.0.1:$MTA" --cafile "$CERTS/ca.pem" --count "$TLS_RES_N" \
                $flag "${pidargs[@]}") || continue
            tail -n +$((n0 + 1)) "$stats" | "$PY" -c '
import json, sys
via, direct, probe = (json.loads(x) for x in sys.argv[1:4])
turns = [json.loads(l)["turns"] for l in sys.stdin if l.strip()]
print(json.dumps({"backend": direct["backend"], "protocol": direct["protocol"],
                  "resume": direct["resume"], "proxy": via, "direct": direct,
                  "turns_per_connection": turns,
                  "handshake_rtts": via["handshake_ms_mean"] / probe["rtt_ms"]}))
' "$via" "$direct" "$(cat "$RUNS/rtt-probe-mta.json")" >>"$TLSRES"
            log "  $(tail -n 1 "$TLSRES" | cut -c1-300)"
        done
    done
}
[ -n "$MTA" ] && [ -s "$RUNS/rtt-probe-mta.json" ] && tls_resumption

# ------------------------------------------------------------------ CPU

if [ "$RTT_ONLY" = 1 ]; then
    sed -i "s/}\$/,\"loadavg_end\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}/" "$OUT/machine.json"
    "$PY" "$ROOT/bench/report.py" "$OUT"
    log "results: $OUT/results.md"
    exit 0
fi

log "body encoder in memory (best of 5, 1 GiB each)"
"$BUILD/encoder_bench" --sizes >"$OUT/sizes.json"
"$BUILD/encoder_bench" --bytes 1G --repeat 5 >"$OUT/encoder.jsonl"
cat "$OUT/encoder.jsonl" >&2

if have valgrind; then
    log "instructions per byte (callgrind, 64 MiB, inside smtpc_body_write/end)"
    : >"$OUT/callgrind.tsv"
    for v in data-crlf data-lf bdat-crlf bdat-binary; do
        valgrind --tool=callgrind --callgrind-out-file="$RUNS/cg.enc.$v" \
            --toggle-collect=smtpc_body_write --toggle-collect=smtpc_body_end \
            "$BUILD/encoder_bench" --bytes 64M --repeat 1 --only "$v" \
            >"$RUNS/cg.enc.$v.out" 2>"$RUNS/cg.enc.$v.err"
        ir=$(sed -n 's/^summary: //p' "$RUNS/cg.enc.$v" | awk '{ print $1 }')
        printf 'encoder\t%s\t%s\t%s\n' "$v" "$ir" $((64 * 1024 * 1024)) >>"$OUT/callgrind.tsv"
    done
    log "instructions per message (callgrind, $CG_N messages, inside smtpc_client_send)"
    valgrind --tool=callgrind --callgrind-out-file="$RUNS/cg.msg.sink" \
        --toggle-collect=smtpc_client_send "$BENCH" --server "127.0.0.1:$SINK" \
        --messages "$CG_N" --size "$SIZE" --json-only >"$RUNS/cg.msg.sink.out" 2>"$RUNS/cg.msg.sink.err"
    ir=$(sed -n 's/^summary: //p' "$RUNS/cg.msg.sink" | awk '{ print $1 }')
    printf 'message\tsink-data-pipelining\t%s\t%s\n' "$ir" "$CG_N" >>"$OUT/callgrind.tsv"
    if [ -n "$MTA" ]; then
        valgrind --tool=callgrind --callgrind-out-file="$RUNS/cg.msg.mta" \
            --toggle-collect=smtpc_client_send "$BENCH" --server "127.0.0.1:$MTA" \
            --messages "$MTA_A_N" --size "$SIZE" --json-only >"$RUNS/cg.msg.mta.out" 2>"$RUNS/cg.msg.mta.err"
        ir=$(sed -n 's/^summary: //p' "$RUNS/cg.msg.mta" | awk '{ print $1 }')
        printf 'message\tmta-bdat-pipelining\t%s\t%s\n' "$ir" "$MTA_A_N" >>"$OUT/callgrind.tsv"
    fi
    rm -f "$RUNS"/cg.enc.* "$RUNS"/cg.msg.mta "$RUNS"/cg.msg.sink
fi

# ------------------------------------------------------------------ report

sed -i "s/}\$/,\"loadavg_end\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}/" "$OUT/machine.json"
"$PY" "$ROOT/bench/report.py" "$OUT"
log "results: $OUT/results.md"
