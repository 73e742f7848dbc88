# shellcheck shell=bash
# tests/servers/cli_lib.sh: helpers shared by the smtpc CLI tests
# (tests/integration/2*_cli_*.sh).  Source it after setting nothing:
#
#     . "$SMTPC_ROOT/tests/servers/cli_lib.sh"
#
# It sources the harness (lib.sh: servers on loopback, stopped at exit),
# finds the smtpc binary ($SMTPC_BUILD/smtpc; exit 77 = skip when it is not
# built) and adds:
#   start_cli_aiosmtpd DIR [options]  aiosmtpd_server.py options plus
#                                     --reject ADDR=REPLY  -> AIO_PORT etc.
#   aio_connections                   sessions aiosmtpd saw (from its log)
#   run_smtpc OUT ERR ARGS... <msg    runs smtpc, sets RC (never fails)
#   fail MSG / step MSG / expect_rc WANT

set -euo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
. "$SMTPC_ROOT/tests/servers/lib.sh"

: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"
SMTPC=${SMTPC:-$SMTPC_BUILD/smtpc}
if [ ! -x "$SMTPC" ]; then
    echo "smtpc not built at $SMTPC: skipping"
    exit 77
fi
PY=${HARNESS_PY:-/usr/bin/python3}

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

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

# start_cli_aiosmtpd DIR [options]: like start_aiosmtpd (tests/servers/lib.sh)
# but with cli_aiosmtpd.py, which can refuse chosen recipients.
start_cli_aiosmtpd() {
    local dir=${1:?start_cli_aiosmtpd DIR [options]}
    shift
    "$HARNESS_PY" -c 'import aiosmtpd' 2>/dev/null || {
        harness_log "python3-aiosmtpd missing"
        return 77
    }
    mkdir -p "$dir"
    local portfile log pid i
    portfile=$(mktemp "$HARNESS_TMP/cliaio.port.XXXXXX")
    rm -f "$portfile"
    log=$(mktemp "$HARNESS_LOGDIR/cli_aiosmtpd.XXXXXX")
    "$HARNESS_PY" "$HARNESS_LIB_DIR/cli_aiosmtpd.py" --dir "$dir" \
        --host "$HARNESS_ADDR" --port 0 --port-file "$portfile" "$@" \
        </dev/null >"$log" 2>&1 &
    pid=$!
    _harness_register "$pid" cli_aiosmtpd
    _HARNESS_LOGS+=("$log")
    for i in $(seq 1 $((HARNESS_TIMEOUT * 10))); do
        if [ -s "$portfile" ]; then
            AIO_PORT=$(cat "$portfile") AIO_PID=$pid AIO_DIR=$dir AIO_LOG=$log
            export AIO_PORT
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    harness_log "cli_aiosmtpd did not start"
    _harness_show_log "$log"
    return 1
}

# aio_connections: how many SMTP sessions the aiosmtpd server has seen
# (aiosmtpd logs "... handling connection" for each).
aio_connections() {
    grep -c 'handling connection' "$AIO_LOG" 2>/dev/null || true
}

# crlf_normalise IN OUT: what an SMTP client must transmit for IN: every
# CRLF, bare CR and bare LF made CRLF, and a CRLF added when IN does not end
# with a line end (an empty IN stays empty).
crlf_normalise() {
    "$PY" - "$1" "$2" <<'EOF'
import re, sys
d = open(sys.argv[1], "rb").read()
d = re.sub(rb"\r\n|\r|\n", b"\r\n", d)
if d and not d.endswith(b"\r\n"):
    d += b"\r\n"
open(sys.argv[2], "wb").write(d)
EOF
}

# start_script_server RULES...: cli_script_server.py (a server that answers
# what the rules say; see that file) -> SCRIPT_PORT, SCRIPT_LOG (every byte
# it received), SCRIPT_PID.
start_script_server() {
    local portfile pid i
    portfile=$(mktemp "$HARNESS_TMP/script.port.XXXXXX")
    rm -f "$portfile"
    SCRIPT_LOG=$(mktemp "$HARNESS_TMP/script.recv.XXXXXX")
    "$HARNESS_PY" "$HARNESS_LIB_DIR/cli_script_server.py" --host "$HARNESS_ADDR" \
        --port-file "$portfile" --log "$SCRIPT_LOG" "$@" \
        </dev/null >>"$HARNESS_LOGDIR/script.log" 2>&1 &
    pid=$!
    _harness_register "$pid" cli_script_server
    for i in $(seq 1 $((HARNESS_TIMEOUT * 10))); do
        if [ -s "$portfile" ]; then
            SCRIPT_PORT=$(cat "$portfile") SCRIPT_PID=$pid
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    harness_log "cli_script_server did not start"
    return 1
}

stop_script_server() {
    [ -n "${SCRIPT_PID:-}" ] || return 0
    _harness_kill "$SCRIPT_PID"
    _harness_unregister "$SCRIPT_PID"
    SCRIPT_PID=
}
