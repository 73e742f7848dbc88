#!/usr/bin/env bash
# smtpc streams the message: its peak memory (maximum resident set size
# from GNU time) is the same for a 1 MB and a 50 MB body, and the 50 MB body
# arrives intact at smtp-sink.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

[ -x /usr/bin/time ] || { echo "GNU time missing (apt-get install time)"; exit 77; }

W=$(harness_tmpdir big)
start_sink "$W/sink"
S=$(harness_hostport "$SINK_PORT")

# body FILE MB: headers, then MB megabytes of lines, some starting with a
# dot (so dot-stuffing is exercised all along), LF line ends.
body() {
    printf 'From: a@example.com\nDate: Tue, 1 Dec 2026 12:00:00 +0000\nMessage-ID: <big@smtpc.test>\nSubject: big\n\n' >"$1"
    # yes dies of SIGPIPE when head is done: not a failure here.
    (set +o pipefail
     yes $'.a line that starts with a dot\nplain body text, 0123456789 abcdefghijklmnopqrstuvwxyz' \
        | head -c "$(($2 * 1024 * 1024))") >>"$1"
    printf '\nend\n' >>"$1"
}

# rss FILE: sends FILE, prints smtpc's maximum resident set size in KiB.
rss() {
    local rc=0
    /usr/bin/time -v -o "$W/time.txt" "$SMTPC" --server "$S" --tls none \
        --from a@example.com --timeout 60 b@example.com <"$1" 2>"$W/err" || rc=$?
    [ "$rc" = 0 ] || { cat "$W/err" "$W/time.txt" >&2; fail "smtpc exit $rc for $1"; }
    sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$W/time.txt"
}

body "$W/1m" 1
body "$W/50m" 50
step "1 MB body"
r1=$(rss "$W/1m")
sink_wait_count 1
step "50 MB body"
t0=$(date +%s)
r50=$(rss "$W/50m")
t1=$(date +%s)
sink_wait_count 2
echo "max RSS: 1 MB body ${r1} KiB, 50 MB body ${r50} KiB; 50 MB sent in $((t1 - t0)) s"
[ -n "$r1" ] && [ -n "$r50" ] || fail "no RSS figure from /usr/bin/time"
[ $((r50 - r1)) -lt 8192 ] || fail "peak memory grew by $((r50 - r1)) KiB with the body"

step "the 50 MB body arrived intact"
f=$(sink_files | tail -n 1)
sink_strip "$f" >"$W/got"
cmp "$W/50m" "$W/got" || fail "smtp-sink received different bytes"
echo "ok"
