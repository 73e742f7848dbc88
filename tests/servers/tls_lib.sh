# shellcheck shell=bash
# tests/servers/tls_lib.sh: helpers for the TLS integration tests
# (tests/integration/4*_tls*.sh).  Source it after cli_lib.sh (which brings
# lib.sh, run_smtpc, expect_rc, fail, step):
#
#     . "$SMTPC_ROOT/tests/servers/cli_lib.sh"
#     . "$SMTPC_ROOT/tests/servers/tls_lib.sh"
#
#   tls_certs DIR                 certs.sh into DIR -> CERTS=DIR, GOOD_PIN, OTHER_PIN
#   start_hostile DIR SCENARIO [tls_hostile.py options]
#                                 -> HOSTILE_PORT, HOSTILE_DIR, HOSTILE_PID
#   hostile_client_lines          what the client sent ("C:" lines, prefix removed)
#   hostile_sent VERB             0 when the client sent a command VERB
#   hostile_events                the "--" event lines (tls up, auth-ok, ...)

# tls_certs DIR: fresh certificates (see certs.sh for the list).
tls_certs() {
    local d=${1:?tls_certs DIR}
    command -v openssl >/dev/null || { harness_log "openssl missing"; return 77; }
    sh "$SMTPC_ROOT/tests/servers/certs.sh" "$d" >/dev/null 2>"$HARNESS_LOGDIR/certs.log" || {
        harness_log "certs.sh failed"
        cat "$HARNESS_LOGDIR/certs.log" >&2
        return 1
    }
    CERTS=$d
    GOOD_PIN=$(cat "$d/good.pin")
    OTHER_PIN=$(cat "$d/other.pin")
}

# start_hostile DIR SCENARIO [options]: tls_hostile.py with the good
# certificate unless --cert/--key are among the options.
start_hostile() {
    local dir=${1:?start_hostile DIR SCENARIO} scen=${2:?start_hostile DIR SCENARIO}
    shift 2
    local portfile log pid i certopt=(--cert "$CERTS/good.pem" --key "$CERTS/good.key")
    case " $* " in *" --cert "*) certopt=() ;; esac
    mkdir -p "$dir"
    portfile=$(mktemp "$HARNESS_TMP/hostile.port.XXXXXX")
    rm -f "$portfile"
    log=$(mktemp "$HARNESS_LOGDIR/hostile.XXXXXX")
    "$HARNESS_PY" "$SMTPC_ROOT/tests/servers/tls_hostile.py" --scenario "$scen" \
        --dir "$dir" --host "$HARNESS_ADDR" --port 0 --port-file "$portfile" \
        "${certopt[@]}" "$@" </dev/null >"$log" 2>&1 &
    pid=$!
    _harness_register "$pid" tls_hostile
    _HARNESS_LOGS+=("$log")
    for i in $(seq 1 $((HARNESS_TIMEOUT * 10))); do
        if [ -s "$portfile" ]; then
            HOSTILE_PORT=$(cat "$portfile") HOSTILE_PID=$pid HOSTILE_DIR=$dir
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    harness_log "tls_hostile did not start"
    _harness_show_log "$log"
    _harness_kill "$pid"
    _harness_unregister "$pid"
    return 1
}

stop_hostile() {
    [ -n "${HOSTILE_PID:-}" ] || return 0
    _harness_kill "$HOSTILE_PID"
    _harness_unregister "$HOSTILE_PID"
    HOSTILE_PID=
}

hostile_client_lines() { sed -n 's/^#[0-9]* C: //p' "$HOSTILE_DIR/transcript"; }

# hostile_sent VERB: did the client send a command starting with VERB?
hostile_sent() { hostile_client_lines | grep -qi "^$1\\b"; }

hostile_events() { sed -n 's/^#[0-9]* -- //p' "$HOSTILE_DIR/transcript"; }
