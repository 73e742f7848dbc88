#!/usr/bin/env bash
# The NetX Duo compatible API over NetX Duo's own TCP/IP stack
# (ports/netxduo), on ThreadX's Linux port with NetX Duo's RAM network
# driver: tests/netxduo/netx_scripted.c's scripted servers (AUTH PLAIN,
# LOGIN, none; replies split anywhere or pipelined; refusal, close and
# stall at every step; byte-exact commands and dot-stuffed message; every
# pool's packets back after each case; a pool of two packets; 24 KB in
# pipelined BDAT chunks to a server that waits for the client's window
# with each chunk's reply before it reads on; 20 mails on one client; two
# clients in two threads).  Everything stays inside the
# process: no frame reaches the host's network.
# Skips (77) when the build found no ThreadX/NetX Duo sources.
set -uo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMTPC_BUILD:=$SMTPC_ROOT/build}"

EX=$SMTPC_BUILD/netx_scripted
if [ ! -x "$EX" ]; then
    echo "SKIP: $EX not built: no ThreadX/NetX Duo sources (THREADX_DIR, NETXDUO_DIR," \
         "or ../shared/third_party next to the source tree)"
    exit 77
fi
timeout 300 "$EX"
