#!/usr/bin/env bash
# The compat layer and the NetX Duo port compile warning-free (-Werror, the
# project's warnings, C99) against the real tx_api.h and nx_api.h under
# each NetX Duo configuration an application may have:
#   IPv4 and IPv6 (the default), IPv4 only (NX_DISABLE_IPV6), IPv6 only
#   (NX_DISABLE_IPV4), NX_DISABLE_ERROR_CHECKING with
#   NX_SMTP_DISABLE_ERROR_CHECKING;
# and so do NetX Duo's unchanged sample and examples/netxduo against them.
# With arm-none-eabi-gcc the same for a Cortex-M4 (NetX Duo's and ThreadX's
# cortex_m4 port headers), where the core and the port must reference no
# malloc, free or stdio.
# Skips (77) without ThreadX/NetX Duo sources.
set -uo pipefail
: "${SMTPC_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$SMTPC_ROOT" || exit 1

TP=$(cd "$SMTPC_ROOT/../shared/third_party" 2>/dev/null && pwd)
TX=${THREADX_DIR:-${TP:+$TP/threadx}}
NX=${NETXDUO_DIR:-${TP:+$TP/netxduo}}
if [ -z "$TX" ] || [ -z "$NX" ] || [ ! -f "$TX/common/inc/tx_api.h" ] || [ ! -f "$NX/common/inc/nx_api.h" ]; then
    echo "SKIP: no ThreadX/NetX Duo sources (THREADX_DIR, NETXDUO_DIR, or ../shared/third_party)"
    exit 77
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/smtpc-netxcfg.XXXXXX")
trap 'rm -rf "$W"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
WARN=(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror)
CORE=(src/engine/*.c src/client/*.c ports/netxduo/*.c)
for f in src/compat/*.c; do
    [ "$f" = src/compat/nxd_smtp_port.c ] || CORE+=("$f")
done
APPS=("$NX/samples/demo_netxduo_smtp_client.c" examples/netxduo/*.c)

# compile CC NAME PORT_TX PORT_NX [flags...]: every core file and app.
compile() {
    local cc=$1 name=$2 ptx=$3 pnx=$4 f o
    shift 4
    local inc=(-Iinclude -Isrc -Isrc/compat -Iports/netxduo -Itests/netxduo
               -I"$TX/common/inc" -I"$TX/$ptx" -I"$NX/common/inc" -I"$NX/$pnx")
    mkdir -p "$W/$name"
    echo "== $name"
    for f in "${CORE[@]}"; do
        o=$W/$name/$(basename "$f" .c).o
        "$cc" -std=c99 "${WARN[@]}" "$@" -DNX_INCLUDE_USER_DEFINE_FILE "${inc[@]}" \
            -include nx_api.h -c "$f" -o "$o" || fail "$name: $f"
    done
    for f in "${APPS[@]}"; do
        # The sample is NetX Duo's: its own warnings (printf without
        # stdio.h) are not ours to fix; it must compile.
        "$cc" -std=c99 -w "$@" -DNX_INCLUDE_USER_DEFINE_FILE "${inc[@]}" \
            -c "$f" -o "$W/$name/app_$(basename "$f" .c).o" || fail "$name: $f"
    done
}

HOST=(-D_GNU_SOURCE)
compile gcc "IPv4+IPv6" ports/linux/gnu/inc ports/linux/gnu/inc "${HOST[@]}"
compile gcc "IPv4 only" ports/linux/gnu/inc ports/linux/gnu/inc "${HOST[@]}" -DNX_DISABLE_IPV6
compile gcc "IPv6 only" ports/linux/gnu/inc ports/linux/gnu/inc "${HOST[@]}" -DNX_DISABLE_IPV4
compile gcc "no error checking" ports/linux/gnu/inc ports/linux/gnu/inc "${HOST[@]}" \
    -DNX_DISABLE_ERROR_CHECKING -DNX_SMTP_DISABLE_ERROR_CHECKING

if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
    ARM=(-Os -mthumb -mcpu=cortex-m4 -ffunction-sections -fdata-sections)
    for cfg in "" -DNX_DISABLE_IPV6 -DNX_DISABLE_IPV4; do
        compile arm-none-eabi-gcc "cortex-m4 ${cfg:-IPv4+IPv6}" ports/cortex_m4/gnu/inc \
            ports/cortex_m4/gnu/inc "${ARM[@]}" ${cfg:+"$cfg"}
    done
    bad=$(for o in "$W"/cortex-m4*/*.o; do
              case $o in */app_*) continue ;; esac
              arm-none-eabi-nm -u "$o"
          done | awk '{print $NF}' \
        | grep -E '^(malloc|calloc|realloc|free|printf|fprintf|sprintf|snprintf|puts|fopen)$' \
        | sort -u | tr '\n' ' ')
    [ -z "$bad" ] || fail "the core or the NetX port references $bad"
    arm-none-eabi-size -t "$W/cortex-m4 IPv4+IPv6"/smtpc_netxduo.o "$W/cortex-m4 IPv4+IPv6"/nxd_smtp_port_netxduo.o | sed 's/^/   /'
else
    echo "(arm-none-eabi-gcc not installed: Cortex-M4 build not checked)"
fi
echo "84_netx_configs: ok"
