# shellcheck shell=bash
# tests/servers/lib.sh: the one library of smtpc's integration tests: the
# SMTP servers they talk to, started on loopback and stopped at exit, and
# the helpers every test shares.  Source it from a bash script:
#
#     set -euo pipefail          # (or -uo: the library sets no options)
#     . "$SMTPC_ROOT/tests/servers/lib.sh"
#     harness_need_smtpc         # only when the test runs the smtpc CLI
#
# Every server listens on a loopback address only (127.0.0.1, or ::1 when
# HARNESS_ADDR=::1) on a free high port, records its pid, and is stopped by
# stop_all_servers, which this file installs as the EXIT trap (also run on
# INT/TERM/HUP).  A script that needs its own exit cleanup registers it with
# harness_on_exit 'command' instead of replacing the trap.
#
# Test steps:
#   fail MSG / step MSG                 fail the test (exit 1) / announce a step
#   harness_need_smtpc                  $SMTPC must be built, or exit 77 (skip)
#   run_smtpc OUT ERR ARGS... <msg      runs $SMTPC, sets RC (never fails)
#   expect_rc WANT WHAT ERRFILE         fail unless RC is WANT
#   harness_started START_FN ARGS...    0 = started, 1 = cannot run here
#   crlf_normalise IN OUT               the bytes an SMTP client must send for IN
# Servers:
#   start_sink DIR [smtp-sink options]    Postfix smtp-sink        -> SINK_PORT
#   start_aiosmtpd DIR [options]          aiosmtpd (AUTH, TLS...)   -> AIO_PORT
#   start_cli_aiosmtpd DIR [options]      the same, refusing chosen recipients
#   start_script_server RULES...          answers what rules say -> SCRIPT_PORT
#   start_hostile DIR SCENARIO [options]  a TLS server that misbehaves
#                                                                -> HOSTILE_PORT
#   start_mta MAILDIR_ROOT [main.cf k=v]  private Postfix instance  -> MTA_PORT
# their helpers (sink_*, aio_*, hostile_*, mta_*) and TLS material
# (tls_certs), documented at each function.
# All start_* functions return 0 when the server is ready, 77 when it cannot
# run on this machine (the caller may `exit 77` = skip), 1 on failure; they
# print the server's log on failure.
#
# Variables: SMTPC_ROOT, SMTPC_BUILD (default $SMTPC_ROOT/build), SMTPC (the
# CLI, default $SMTPC_BUILD/smtpc), PY = HARNESS_PY (/usr/bin/python3),
# HARNESS_TMP (removed at exit).

# ---------------------------------------------------------------- setup

# Sourced twice?  Keep the first load (its temp dir, trap and servers).
if [ -n "${_HARNESS_LOADED:-}" ]; then
    return 0
fi
_HARNESS_LOADED=1

HARNESS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SMTPC_ROOT:=$(cd "$HARNESS_LIB_DIR/../.." && pwd)}"
: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"
# Not exported: a test that runs another test with another SMTPC_BUILD
# (72_mbedtls) must not hand it this one's binary.
SMTPC=${SMTPC:-$SMTPC_BUILD/smtpc}
HARNESS_PY=${HARNESS_PY:-/usr/bin/python3}     # Debian's, sees python3-aiosmtpd
PY=${PY:-$HARNESS_PY}
HARNESS_ADDR=${HARNESS_ADDR:-127.0.0.1}
HARNESS_TIMEOUT=${HARNESS_TIMEOUT:-10}          # seconds to wait for a server
case "$HARNESS_ADDR" in
    127.0.0.1|::1) ;;
    *) echo "harness: HARNESS_ADDR must be 127.0.0.1 or ::1" >&2; exit 1 ;;
esac

# World-searchable so that servers running as nobody/postfix can reach it.
HARNESS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/smtpc-harness.XXXXXX")
chmod 0755 "$HARNESS_TMP"
HARNESS_LOGDIR=$HARNESS_TMP/logs
mkdir -p "$HARNESS_LOGDIR"
# tests/run.sh names a file here so that it can clean up after a test that
# was killed before its EXIT trap could run.
if [ -n "${HARNESS_REGISTRY:-}" ]; then
    echo "$HARNESS_TMP" >>"$HARNESS_REGISTRY"
fi

_HARNESS_PIDS=()          # "pid:name" of background servers we started
_HARNESS_MTAS=()          # config directories of Postfix instances we started
_HARNESS_ON_EXIT=()       # extra cleanup commands
_HARNESS_LOGS=()          # server logs to show when the script fails
_HARNESS_STOPPED=0

harness_log() { echo "harness: $*" >&2; }

# harness_on_exit 'shell command': run at exit, before the servers stop.
harness_on_exit() { _HARNESS_ON_EXIT+=("$1"); }

# harness_tmpdir NAME: a fresh directory under the harness's temp dir (removed
# at exit), world-searchable.
harness_tmpdir() {
    local d
    d=$(mktemp -d "$HARNESS_TMP/${1:-tmp}.XXXXXX") && chmod 0755 "$d" && echo "$d"
}

# "host:port" as a client wants it: 127.0.0.1:25000 or [::1]:25000
harness_hostport() {
    case "$HARNESS_ADDR" in *:*) echo "[$HARNESS_ADDR]:$1" ;; *) echo "$HARNESS_ADDR:$1" ;; esac
}

# ---------------------------------------------------------------- test steps

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

# harness_need_smtpc: the smtpc CLI at $SMTPC, or exit 77 (skip) without it.
harness_need_smtpc() {
    if [ ! -x "$SMTPC" ]; then
        echo "smtpc not built at $SMTPC: skipping"
        exit 77
    fi
}

RC=0
# run_smtpc OUT ERR ARGS...: smtpc's stdout into OUT, stderr into ERR, its
# exit status into RC; stdin is the caller's.
run_smtpc() {
    local out=$1 err=$2
    shift 2
    RC=0
    "$SMTPC" "$@" >"$out" 2>"$err" || RC=$?
}

# expect_rc WANT WHAT ERRFILE: fail unless RC is WANT, showing stderr.
expect_rc() {
    if [ "$RC" != "$1" ]; then
        [ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/  stderr: /' "$3" >&2
        fail "$2: exit $RC, expected $1"
    fi
}

# harness_started START_FN ARGS...: runs a start_* function (or another that
# returns 77 for "cannot run here", like tls_certs); 0 when it worked,
# 1 when it cannot run on this machine (the caller skips that part); any
# other error fails the test.
#     if harness_started start_mta "$W/mta"; then ...; fi
harness_started() {
    local rc=0
    "$@" || rc=$?
    case $rc in
        0) return 0 ;;
        77) echo "(skipped: $1 cannot run here)"; return 1 ;;
        *) fail "$1" ;;
    esac
}

# crlf_normalise IN OUT: what an SMTP client must transmit for IN: every
# CRLF, bare CR and bare LF made CRLF, and a CRLF added when IN does not end
# with a line end (an empty IN stays empty).
crlf_normalise() {
    "$HARNESS_PY" - "$1" "$2" <<'EOF'
import re, sys
d = open(sys.argv[1], "rb").read()
d = re.sub(rb"\r\n|\r|\n", b"\r\n", d)
if d and not d.endswith(b"\r\n"):
    d += b"\r\n"
open(sys.argv[2], "wb").write(d)
EOF
}

# ---------------------------------------------------------------- ports

# Ports are looked up in /proc/net/tcp{,6} rather than probed with connect():
# a probe would be one more SMTP session in the servers' logs and counters.
_harness_port_hex() { printf ':%04X' "$1"; }

# Any socket, in any state, using this local port?
_harness_port_in_use() {
    local hex
    hex=$(_harness_port_hex "$1")
    awk -v p="$hex" 'FNR > 1 && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Something in LISTEN state (0A) on this port?
_harness_port_listening() {
    local hex
    hex=$(_harness_port_hex "$1")
    awk -v p="$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Sets _HARNESS_PORT to a currently unused port in 20000-31999 (below Linux's
# ephemeral range, so outgoing connections do not take it meanwhile).
_harness_pick_port() {
    local i p
    for i in $(seq 1 200); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
        if ! _harness_port_in_use "$p"; then
            _HARNESS_PORT=$p
            return 0
        fi
    done
    harness_log "no free port found"
    return 1
}

# _harness_wait_listen PORT PID: until PORT listens (0), PID dies or the
# timeout passes (1).  PID may be empty (daemons that detach).
_harness_wait_listen() {
    local port=$1 pid=$2 i
    for i in $(seq 1 $((HARNESS_TIMEOUT * 10))); do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        if _harness_port_listening "$port"; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------- processes

_harness_register() { _HARNESS_PIDS+=("$1:$2"); }

_harness_unregister() {
    local keep=() e
    for e in "${_HARNESS_PIDS[@]+"${_HARNESS_PIDS[@]}"}"; do
        [ "${e%%:*}" = "$1" ] || keep+=("$e")
    done
    _HARNESS_PIDS=("${keep[@]+"${keep[@]}"}")
}

# _harness_kill PID: TERM, wait up to 5 s, then KILL.  Only pids we started.
_harness_kill() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        harness_log "pid $pid ignored SIGTERM, killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

_harness_show_log() {
    local f=$1
    [ -s "$f" ] || return 0
    echo "---- last lines of $(basename "$f") ----" >&2
    tail -n 30 "$f" >&2
}

# _harness_start_py NAME SCRIPT ARGS...: runs tests/servers/SCRIPT with
# --host $HARNESS_ADDR --port-file F ARGS, its output in a log shown on
# failure, and waits until it has written its port into F.  Sets
# _HARNESS_PORT, _HARNESS_PID and _HARNESS_LOG; returns 1 when it did not
# start (and is stopped).
_harness_start_py() {
    local name=$1 script=$2 portfile pid log i
    shift 2
    portfile=$(mktemp "$HARNESS_TMP/$name.port.XXXXXX")
    rm -f "$portfile"
    log=$(mktemp "$HARNESS_LOGDIR/$name.XXXXXX")
    "$HARNESS_PY" "$HARNESS_LIB_DIR/$script" --host "$HARNESS_ADDR" \
        --port-file "$portfile" "$@" </dev/null >"$log" 2>&1 &
    pid=$!
    _harness_register "$pid" "$name"
    _HARNESS_LOGS+=("$log")
    for i in $(seq 1 $((HARNESS_TIMEOUT * 10))); do
        if [ -s "$portfile" ]; then
            _HARNESS_PORT=$(cat "$portfile") _HARNESS_PID=$pid _HARNESS_LOG=$log
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    harness_log "$name did not start"
    _harness_show_log "$log"
    _harness_kill "$pid"
    _harness_unregister "$pid"
    return 1
}

# _harness_wait_count N TIMEOUT COUNT_FN NAME: until COUNT_FN prints N or
# more (0), or TIMEOUT seconds pass (1, said in the log).
_harness_wait_count() {
    local n=$1 t=$2 count=$3 name=$4 i
    for i in $(seq 1 $((t * 10))); do
        [ "$("$count")" -ge "$n" ] && return 0
        sleep 0.1
    done
    harness_log "$name: expected $n messages, have $("$count")"
    return 1
}

# _harness_stop VAR: stop the server whose pid is in the variable VAR, and
# empty VAR.
_harness_stop() {
    local pid=${!1:-}
    [ -n "$pid" ] || return 0
    _harness_kill "$pid"
    _harness_unregister "$pid"
    printf -v "$1" '%s' ''
}

# Make DIR reachable by an unprivileged server (nobody): every ancestor needs
# the search bit for others.  Temp dirs from mktemp -d are 0700.
_harness_make_reachable() {
    local d perm
    d=$(cd "$1" && pwd) || return 1
    while [ "$d" != "/" ]; do
        perm=$(stat -c %A "$d")
        case "${perm:9:1}" in
            x|t) ;;
            *) if [ -O "$d" ]; then chmod o+x "$d"; fi ;;
        esac
        d=$(dirname "$d")
    done
}

# ---------------------------------------------------------------- smtp-sink

# start_sink DIR [smtp-sink options...]
#   Postfix's smtp-sink on $HARNESS_ADDR:$SINK_PORT, dumping every message
#   into its own file in DIR (see sink_files).  EHLO offers PIPELINING,
#   8BITMIME, AUTH PLAIN LOGIN (any credentials accepted), XCLIENT,
#   XFORWARD, ENHANCEDSTATUSCODES, DSN, and ends with a bare "250 " line.
#   There is no CHUNKING (smtp-sink has no BDAT) nor SMTPUTF8.  Extra options,
#   e.g. -p (no PIPELINING), -8 (no 8BITMIME), -e (no ESMTP), -E, -a, -C -F,
#   -r MAIL,RCPT (4xx), -f DATA (5xx), -w SEC, -Q cmd (421), -q cmd (hang up).
#   Sets SINK_PORT, SINK_PID, SINK_DIR, SINK_LOG.
start_sink() {
    local dir=${1:?start_sink DIR}
    shift
    command -v smtp-sink >/dev/null || { harness_log "smtp-sink missing (postfix)"; return 77; }
    mkdir -p "$dir"
    local user=()
    if [ "$(id -u)" = 0 ]; then
        # smtp-sink insists on dropping root; nobody must be able to write DIR.
        user=(-u nobody)
        chown nobody "$dir"
        _harness_make_reachable "$dir"
    fi
    local listen attempt pid log
    for attempt in 1 2 3 4 5; do
        _harness_pick_port || return 1
        case "$HARNESS_ADDR" in
            *:*) listen="inet:[$HARNESS_ADDR]:$_HARNESS_PORT" ;;
            *) listen="inet:$HARNESS_ADDR:$_HARNESS_PORT" ;;
        esac
        log=$HARNESS_LOGDIR/sink.$_HARNESS_PORT.log
        smtp-sink "${user[@]}" "$@" -d "$dir/%Y%m%d%H%M%S." "$listen" 256 \
            </dev/null >"$log" 2>&1 &
        pid=$!
        _harness_register "$pid" smtp-sink
        _HARNESS_LOGS+=("$log")
        if _harness_wait_listen "$_HARNESS_PORT" "$pid"; then
            SINK_PORT=$_HARNESS_PORT SINK_PID=$pid SINK_DIR=$dir SINK_LOG=$log
            export SINK_PORT
            return 0
        fi
        _harness_kill "$pid"
        _harness_unregister "$pid"
        harness_log "smtp-sink did not start on port $_HARNESS_PORT (attempt $attempt)"
        _harness_show_log "$log"
    done
    return 1
}

stop_sink() { _harness_stop SINK_PID; }

# sink_files: the dump files in SINK_DIR, oldest first.
sink_files() {
    find "${1:-$SINK_DIR}" -type f -printf '%T@ %p\n' 2>/dev/null | sort -n | cut -d' ' -f2-
}

sink_count() { sink_files "$@" | wc -l; }

# sink_wait_count N [TIMEOUT]: wait until SINK_DIR holds N messages.
# smtp-sink writes the file while the transaction runs: a message counts once
# the client has its 250 for the final dot, so call this after the client ends.
sink_wait_count() { _harness_wait_count "$1" "${2:-20}" sink_count sink; }

# sink_strip [--crlf] FILE: the message as the client sent it (after
# unstuffing), without smtp-sink's X-* and Received lines and trailing empty
# line; LF line ends (or CRLF with --crlf).
sink_strip() { "$HARNESS_PY" "$HARNESS_LIB_DIR/mailtool.py" strip-sink "$@"; }

# ---------------------------------------------------------------- aiosmtpd

# start_aiosmtpd DIR [options]
#   aiosmtpd on $HARNESS_ADDR:$AIO_PORT; message N is saved as DIR/N.eml (the
#   exact bytes received after DATA, dot-unstuffed, CRLF kept) and DIR/N.json
#   (mail_from, rcpt_tos, mail_options, rcpt_options, login, auth_mechanism,
#   tls, smtp_utf8, helo, peer, size).  Options:
#     --auth USER:PASS        accept AUTH PLAIN and LOGIN for USER (repeatable);
#                             without it no AUTH is offered
#     --auth-require-tls      AUTH only after STARTTLS
#     --auth-required         530 to MAIL before AUTH
#     --tls-cert C --tls-key K  offer STARTTLS with this certificate
#     --implicit-tls          TLS from the first byte (needs cert/key)
#     --require-starttls      refuse mail commands before STARTTLS
#     --smtputf8              advertise SMTPUTF8
#     --size N                SIZE limit (default 32 MiB; 0 = unlimited, no SIZE)
#     --hostname NAME         greeting/EHLO name
#   EHLO offers SIZE, 8BITMIME, [SMTPUTF8], [STARTTLS], [AUTH LOGIN PLAIN], HELP.
#   No PIPELINING, no CHUNKING.  Sets AIO_PORT, AIO_PID, AIO_DIR, AIO_LOG.
start_aiosmtpd() {
    _harness_start_aio aiosmtpd aiosmtpd_server.py "$@"
}

# start_cli_aiosmtpd DIR [options]: start_aiosmtpd with cli_aiosmtpd.py, which
# takes the same options and --reject ADDR=REPLY, --reject-once, --oauth
# USER:TOKEN (see that file).
start_cli_aiosmtpd() {
    _harness_start_aio cli_aiosmtpd cli_aiosmtpd.py "$@"
}

_harness_start_aio() {   # NAME SCRIPT DIR [options]
    local name=$1 script=$2 dir=${3:?start_aiosmtpd DIR [options]}
    shift 3
    if ! "$HARNESS_PY" -c 'import aiosmtpd' 2>/dev/null; then
        harness_log "python3-aiosmtpd missing for $HARNESS_PY"
        return 77
    fi
    mkdir -p "$dir"
    _harness_start_py "$name" "$script" --dir "$dir" --port 0 "$@" || return 1
    AIO_PORT=$_HARNESS_PORT AIO_PID=$_HARNESS_PID AIO_DIR=$dir AIO_LOG=$_HARNESS_LOG
    export AIO_PORT
}

stop_aiosmtpd() { _harness_stop AIO_PID; }

aio_count() { find "${1:-$AIO_DIR}" -maxdepth 1 -name '*.eml' 2>/dev/null | wc -l; }

# aio_wait_count N [TIMEOUT]: wait until N messages are stored.
aio_wait_count() { _harness_wait_count "$1" "${2:-20}" aio_count aiosmtpd; }

# aio_json_get N KEY: one field of DIR/N.json (lists one item a line).
aio_json_get() {
    "$HARNESS_PY" - "$AIO_DIR/$1.json" "$2" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
if isinstance(v, list):
    for x in v:
        print(" ".join(x) if isinstance(x, list) else x)
elif v is None:
    print("")
else:
    print(str(v).lower() if isinstance(v, bool) else v)
EOF
}

# aio_connections: how many SMTP sessions the aiosmtpd server has seen
# (aiosmtpd logs "... handling connection" for each).
aio_connections() {
    grep -c 'handling connection' "$AIO_LOG" 2>/dev/null || true
}

# ---------------------------------------------------------------- script server

# start_script_server RULES...: cli_script_server.py (a server that answers
# what the rules say; see that file) -> SCRIPT_PORT, SCRIPT_LOG (every byte
# it received), SCRIPT_PID.
start_script_server() {
    local recv
    recv=$(mktemp "$HARNESS_TMP/script.recv.XXXXXX")
    _harness_start_py cli_script_server cli_script_server.py --log "$recv" "$@" || return 1
    SCRIPT_PORT=$_HARNESS_PORT SCRIPT_PID=$_HARNESS_PID SCRIPT_LOG=$recv
}

stop_script_server() { _harness_stop SCRIPT_PID; }

# ---------------------------------------------------------------- --queue

# queue_setup NAME: for a test of smtpc's queue: W (harness_tmpdir NAME),
# Q (the queue, W/queue), DOWN (a loopback port nobody listens on:
# connections are refused, exit 75), SMTPC_CONFIG (exported), and two
# functions: `conf PORT` writes the configuration every run and flush of
# the test reads (server 127.0.0.1:PORT, no TLS, queue Q); `entries SUB`
# counts the entries of Q/SUB (new, failed, tmp).
queue_setup() {
    W=$(harness_tmpdir "$1")
    Q=$W/queue
    DOWN=$("$HARNESS_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    export SMTPC_CONFIG=$W/smtpc.conf
    conf() {
        printf '%s\n' "server 127.0.0.1:$1" 'tls none' "queue $Q" >"$SMTPC_CONFIG"
        chmod 600 "$SMTPC_CONFIG"
    }
    entries() { find "$Q/$1" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l; }
}

# ---------------------------------------------------------------- TLS material

# tls_certs DIR: fresh certificates from certs.sh (see there for the list)
# -> CERTS=DIR, GOOD_PIN, OTHER_PIN.
tls_certs() {
    local d=${1:?tls_certs DIR}
    command -v openssl >/dev/null || { harness_log "openssl missing"; return 77; }
    sh "$HARNESS_LIB_DIR/certs.sh" "$d" >/dev/null 2>"$HARNESS_LOGDIR/certs.log" || {
        harness_log "certs.sh failed"
        cat "$HARNESS_LOGDIR/certs.log" >&2
        return 1
    }
    CERTS=$d
    GOOD_PIN=$(cat "$d/good.pin")
    OTHER_PIN=$(cat "$d/other.pin")
}

# ---------------------------------------------------------------- TLS servers

# start_hostile DIR SCENARIO [tls_hostile.py options]: tls_hostile.py (a TLS
# server that can misbehave; see that file), with tls_certs' good
# certificate unless --cert/--key are among the options; its transcript in
# DIR/transcript.  -> HOSTILE_PORT, HOSTILE_DIR, HOSTILE_PID.
start_hostile() {
    local dir=${1:?start_hostile DIR SCENARIO} scen=${2:?start_hostile DIR SCENARIO}
    shift 2
    local certopt=(--cert "$CERTS/good.pem" --key "$CERTS/good.key")
    case " $* " in *" --cert "*) certopt=() ;; esac
    mkdir -p "$dir"
    _harness_start_py tls_hostile tls_hostile.py --scenario "$scen" --dir "$dir" \
        --port 0 "${certopt[@]}" "$@" || return 1
    HOSTILE_PORT=$_HARNESS_PORT HOSTILE_PID=$_HARNESS_PID HOSTILE_DIR=$dir
}

stop_hostile() { _harness_stop HOSTILE_PID; }

# hostile_client_lines: what the client sent ("C:" lines, prefix removed).
hostile_client_lines() { sed -n 's/^#[0-9]* C: //p' "$HOSTILE_DIR/transcript"; }

# hostile_sent VERB: did the client send a command starting with VERB?
hostile_sent() { hostile_client_lines | grep -qi "^$1\\b"; }

# hostile_events: the "--" event lines (tls up, auth-ok, ...).
hostile_events() { sed -n 's/^#[0-9]* -- //p' "$HOSTILE_DIR/transcript"; }

# hostile_show ERRFILE: the transcript and the client's stderr, for a failure.
hostile_show() {
    sed 's/^/  transcript: /' "$HOSTILE_DIR/transcript" >&2
    sed 's/^/  stderr: /' "$1" >&2
}

# ---------------------------------------------------------------- Postfix MTA

# start_mta MAILDIR_ROOT [main.cf parameter=value ...]
#   A private Postfix instance (its own config, queue and data directories
#   under the harness temp dir; the system's Postfix is not touched) whose
#   smtpd listens on $HARNESS_ADDR:$MTA_PORT only.  EHLO offers PIPELINING,
#   SIZE, VRFY, ETRN, ENHANCEDSTATUSCODES, 8BITMIME, DSN, SMTPUTF8, CHUNKING.
#   Every recipient domain is local and every recipient (test@localhost,
#   anyone@example.com, ...) is delivered by virtual(8) into the one Maildir
#   MAILDIR_ROOT/Maildir/, one file per recipient, each naming its recipient
#   in Delivered-To (see mta_messages_for).  Nothing is ever relayed.  Extra
#   arguments are appended to main.cf, e.g. message_size_limit=1000,
#   smtputf8_enable=no, smtpd_tls_cert_file=...
#   Needs root.  Sets MTA_PORT, MTA_MAILDIR (= MAILDIR_ROOT/Maildir),
#   MTA_CONFIG (config dir), MTA_LOG (Postfix's log file).
start_mta() {
    local root=${1:?start_mta MAILDIR_ROOT [param=value ...]}
    shift
    if [ "$(id -u)" != 0 ]; then
        harness_log "start_mta needs root (a private Postfix instance)"
        return 77
    fi
    local pf
    for pf in postfix postconf; do
        command -v "$pf" >/dev/null || { harness_log "$pf missing"; return 77; }
    done
    if ! id nobody >/dev/null 2>&1 || ! id postfix >/dev/null 2>&1; then
        harness_log "users nobody/postfix missing"
        return 77
    fi

    local t attempt
    t=$(harness_tmpdir mta)
    _harness_make_reachable "$t"        # Postfix daemons run as postfix
    mkdir -p "$t/etc" "$t/spool" "$t/data" "$root"
    chown postfix "$t/data"
    # virtual(8) refuses uid 0: deliver as nobody, who must reach the root.
    chown nobody:nogroup "$root"
    chmod 0755 "$root"
    _harness_make_reachable "$root"
    root=$(cd "$root" && pwd)

    local inet_protocols=ipv4
    case "$HARNESS_ADDR" in *:*) inet_protocols=ipv6 ;; esac

    for attempt in 1 2 3 4 5; do
        _harness_pick_port || return 1
        local port=$_HARNESS_PORT listen
        case "$HARNESS_ADDR" in
            *:*) listen="[$HARNESS_ADDR]:$port" ;;
            *) listen="$HARNESS_ADDR:$port" ;;
        esac
        cat >"$t/etc/main.cf" <<EOF
# Private Postfix instance for smtpc's tests (tests/servers/lib.sh).
compatibility_level = 3.6
queue_directory = $t/spool
data_directory = $t/data
syslog_name = postfix-smtpc-test-$port
# No syslog daemon in a container: log to a file (needs the postlog service).
maillog_file = $t/maillog
maillog_file_prefixes = $t
inet_interfaces = $HARNESS_ADDR
inet_protocols = $inet_protocols
myhostname = mta.smtpc.test
mydomain = smtpc.test
myorigin = \$myhostname
mynetworks = 127.0.0.0/8 [::1]/128
# Every domain is a virtual mailbox domain: all mail stays on this machine.
mydestination =
relay_domains =
relayhost =
virtual_mailbox_domains = static:all
virtual_mailbox_base = $root
# One Maildir for all (a lookup result ending in "/" means Maildir; Postfix
# forbids regexp substitutions here, so no Maildir per local part).
virtual_mailbox_maps = static:Maildir/
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
virtual_mailbox_limit = 0
default_transport = error:5.7.0 outbound mail disabled in the smtpc test MTA
relay_transport = error:5.7.0 outbound mail disabled in the smtpc test MTA
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject
# Keep the message as sent: no header rewriting, no added headers.
local_header_rewrite_clients =
always_add_missing_headers = no
# Tests: no DNS, no tarpitting, big enough for large-body tests.
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_junk_command_limit = 1000
message_size_limit = 67108864
biff = no
append_dot_mydomain = no
readme_directory = no
EOF
        local kv
        for kv in "$@"; do
            printf '%s\n' "${kv/=/ = }" >>"$t/etc/main.cf"
        done
        cat >"$t/etc/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
$listen inet    n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
        _HARNESS_MTAS+=("$t/etc")
        _HARNESS_LOGS+=("$t/maillog")
        # Postfix commands report to syslog (absent here) unless stderr is a
        # tty; their messages also land in maillog_file.
        if postfix -c "$t/etc" start >>"$t/start.log" 2>&1 \
            && _harness_wait_listen "$port" ""; then
            MTA_PORT=$port MTA_MAILDIR=$root/Maildir
            MTA_CONFIG=$t/etc MTA_LOG=$t/maillog
            export MTA_PORT MTA_MAILDIR
            return 0
        fi
        harness_log "postfix did not start on port $port (attempt $attempt)"
        _harness_show_log "$t/maillog"
        _harness_stop_postfix "$t/etc"
        if grep -q "bind .*Address already in use" "$t/maillog" 2>/dev/null; then
            continue
        fi
        return 1
    done
    return 1
}

# mta_sasl_user USER PASSWORD: Cyrus SASL for the Postfix start_mta started
#   last, PLAIN and LOGIN against a sasldb holding USER@mta.smtpc.test.  The
#   instance must have been started with the parameters in MTA_SASL_PARAMS
#   (smtpd_sasl_auth_enable=yes ...).  Debian's Postfix reads <config
#   directory>/sasl/smtpd.conf when each smtpd starts, so after start_mta is
#   in time.  Needs saslpasswd2 (sasl2-bin) and libsasl2-modules; returns 77
#   without saslpasswd2.
MTA_SASL_PARAMS=(smtpd_sasl_auth_enable=yes smtpd_sasl_type=cyrus smtpd_sasl_path=smtpd
                 smtpd_sasl_local_domain=mta.smtpc.test)
mta_sasl_user() {
    local user=${1:?mta_sasl_user USER PASSWORD} pass=${2:?mta_sasl_user USER PASSWORD}
    command -v saslpasswd2 >/dev/null || { harness_log "saslpasswd2 missing (sasl2-bin)"; return 77; }
    mkdir -p "$MTA_CONFIG/sasl"
    cat >"$MTA_CONFIG/sasl/smtpd.conf" <<SASL
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $MTA_CONFIG/sasl/sasldb2
SASL
    printf '%s' "$pass" | saslpasswd2 -p -c -f "$MTA_CONFIG/sasl/sasldb2" -u mta.smtpc.test "$user" \
        || return 1
    chown -R postfix "$MTA_CONFIG/sasl"
    chmod 0755 "$MTA_CONFIG/sasl"
}

# Pids of processes started for the Postfix instance with this config dir
# (master passes MAIL_CONFIG=<dir> to every daemon it runs).
_harness_postfix_pids() {
    local cfg=$1 e pid
    for e in /proc/[0-9]*/environ; do
        pid=${e#/proc/}
        pid=${pid%/environ}
        if tr '\0' '\n' 2>/dev/null <"$e" | grep -qxF "MAIL_CONFIG=$cfg"; then
            echo "$pid"
        fi
    done
}

_harness_stop_postfix() {
    local cfg=$1 pidfile pid i left
    pidfile=$(postconf -c "$cfg" -h queue_directory 2>/dev/null)/pid/master.pid
    if [ -s "$pidfile" ]; then
        pid=$(awk '{ print $1; exit }' "$pidfile")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            postfix -c "$cfg" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
            for i in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
    fi
    # Children exit when master does; make sure none stays behind.
    for i in $(seq 1 30); do
        left=$(_harness_postfix_pids "$cfg")
        [ -n "$left" ] || return 0
        sleep 0.1
    done
    harness_log "killing leftover Postfix processes: $left"
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
}

mta_stop() {
    [ -n "${MTA_CONFIG:-}" ] || return 0
    _harness_stop_postfix "$MTA_CONFIG"
    local keep=() c
    for c in "${_HARNESS_MTAS[@]+"${_HARNESS_MTAS[@]}"}"; do
        [ "$c" = "$MTA_CONFIG" ] || keep+=("$c")
    done
    _HARNESS_MTAS=("${keep[@]+"${keep[@]}"}")
    MTA_CONFIG=
}

# mta_messages: the delivered message files in $MTA_MAILDIR, oldest first.
mta_messages() {
    find "$MTA_MAILDIR/new" "$MTA_MAILDIR/cur" -type f -printf '%T@ %p\n' 2>/dev/null \
        | sort -n | cut -d' ' -f2-
}

mta_count() { mta_messages | wc -l; }

# mta_recipient FILE: the recipient this copy was delivered to (Delivered-To).
mta_recipient() {
    sed -n '/^$/q; s/^Delivered-To: *//p' "$1" | head -n 1
}

# mta_messages_for ADDRESS: the delivered files for that recipient, oldest
# first (Postfix lower-cases the address in Delivered-To).
mta_messages_for() {
    local want f
    want=$(printf '%s' "$1" | tr 'A-Z' 'a-z')
    for f in $(mta_messages); do
        [ "$(mta_recipient "$f" | tr 'A-Z' 'a-z')" = "$want" ] && echo "$f"
    done
    return 0
}

# mta_wait_delivery N [TIMEOUT]: wait (default 20 s) until $MTA_MAILDIR holds
# N messages (a message to 3 recipients counts 3).
mta_wait_delivery() {
    _harness_wait_count "${1:?mta_wait_delivery N [TIMEOUT]}" "${2:-20}" mta_count mta || {
        _harness_show_log "$MTA_LOG"
        return 1
    }
}

# mta_session N: the command counts Postfix logged when its Nth SMTP
# session ended (waiting 10 s at most for it), e.g. "ehlo=1 mail=1 rcpt=1
# bdat=2300/2300 quit=1 commands=2304": which commands came (BDAT or
# DATA) and how many were accepted.
mta_session() {
    local i
    for i in $(seq 1 100); do
        [ "$(grep -c ' disconnect from ' "$MTA_LOG")" -ge "$1" ] && break
        sleep 0.1
    done
    grep ' disconnect from ' "$MTA_LOG" | sed -n "${1}s/.* disconnect from [^ ]* //p"
}

# mta_strip_trace [--crlf] FILE: a delivered message without the trace
# headers this Postfix put on top (Return-Path, X-Original-To, Delivered-To and
# its own Received), LF line ends as stored (CRLF with --crlf), so a test can
# `cmp` it with what it sent.
mta_strip_trace() { "$HARNESS_PY" "$HARNESS_LIB_DIR/mailtool.py" strip-mta "$@"; }

# to_crlf FILE: FILE with every bare LF turned into CRLF, on stdout.
to_crlf() { "$HARNESS_PY" "$HARNESS_LIB_DIR/mailtool.py" crlf "$1"; }

# ---------------------------------------------------------------- teardown

# stop_all_servers [STATUS]: stop everything this script started and remove
# the harness temp dir.  Installed as the EXIT trap; safe to call twice.
# With a non-zero status (the script failed) the servers' logs are shown.
stop_all_servers() {
    local status=${1:-0} e cfg f
    [ "$_HARNESS_STOPPED" = 0 ] || return 0
    _HARNESS_STOPPED=1
    for e in "${_HARNESS_ON_EXIT[@]+"${_HARNESS_ON_EXIT[@]}"}"; do
        eval "$e" || true
    done
    for e in "${_HARNESS_PIDS[@]+"${_HARNESS_PIDS[@]}"}"; do
        _harness_kill "${e%%:*}"
    done
    _HARNESS_PIDS=()
    for cfg in "${_HARNESS_MTAS[@]+"${_HARNESS_MTAS[@]}"}"; do
        _harness_stop_postfix "$cfg"
    done
    _HARNESS_MTAS=()
    if [ "$status" != 0 ]; then
        for f in "${_HARNESS_LOGS[@]+"${_HARNESS_LOGS[@]}"}"; do
            _harness_show_log "$f"
        done
    fi
    if [ -n "${HARNESS_KEEP:-}" ]; then
        harness_log "kept $HARNESS_TMP"
    else
        rm -rf "$HARNESS_TMP"
    fi
}

_harness_exit_trap() {
    local status=$?
    stop_all_servers "$status"
    exit "$status"
}
trap _harness_exit_trap EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
